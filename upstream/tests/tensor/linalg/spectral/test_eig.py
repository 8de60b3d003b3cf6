import numpy as np
import pytest

import pytensor
import pytensor.tensor as pt
from pytensor.gradient import jacobian
from pytensor.graph.rewriting.utils import rewrite_graph
from pytensor.graph.traversal import applys_between
from pytensor.tensor.linalg import real_eig, real_eigvals
from pytensor.tensor.linalg.spectral.eig import Eigvals, SchurEig
from tests import unittest_tools as utt


rng = np.random.default_rng(1096)

MATRICES = {
    "complex_pairs": rng.normal(size=(6, 6)),
    # not triangular: at a triangular input the Schur order of the eigenvalues
    # changes under perturbation, so per-position derivatives do not exist there
    "real_spectrum": (S := np.eye(5) + 0.3 * rng.normal(size=(5, 5)))
    @ np.diag([3.0, 1.0, -0.5, -2.0, 4.0])
    @ np.linalg.inv(S),
    "one_by_one": np.array([[-2.5]]),
}


def sorted_complex(w):
    return np.sort_complex(np.round(w, 10))


def test_real_eig_values_vectors_and_gauge():
    A = pt.matrix("A")
    fn = pytensor.function([A], real_eig(A))
    for A_val in MATRICES.values():
        w_re, w_im, v_re, v_im = fn(A_val)
        w, V = w_re + 1j * w_im, v_re + 1j * v_im
        np.testing.assert_allclose(
            sorted_complex(w), sorted_complex(np.linalg.eigvals(A_val)), atol=1e-10
        )
        np.testing.assert_allclose(A_val @ V, V * w, atol=1e-10)
        # the gauge of JAX's enable_eigvec_derivs: unit 2-norm, largest component real
        np.testing.assert_allclose(np.linalg.norm(V, axis=0), 1.0)
        largest = V[np.argmax(np.abs(V), axis=0), np.arange(V.shape[1])]
        np.testing.assert_allclose(largest.imag, 0.0, atol=1e-12)
        assert np.all(largest.real > 0)


def test_real_eigvals_matches_real_eig_order():
    A = pt.matrix("A")
    w_re, w_im = real_eigvals(A)
    full = real_eig(A)
    fn = pytensor.function([A], [w_re, w_im, full[0], full[1]])
    out = fn(MATRICES["complex_pairs"])
    np.testing.assert_allclose(out[0], out[2], rtol=1e-12)
    np.testing.assert_allclose(out[1], out[3], rtol=1e-12)


@pytest.mark.parametrize("name", ["complex_pairs", "real_spectrum"])
def test_real_eigvals_grad(name):
    utt.verify_grad(
        lambda A: pt.concatenate(real_eigvals(A)), [MATRICES[name]], rng=rng
    )


def test_real_eig_vector_grad():
    def vectors(A):
        _, _, v_re, v_im = real_eig(A)
        return pt.concatenate([v_re.ravel(), v_im.ravel()])

    utt.verify_grad(vectors, [MATRICES["complex_pairs"]], rng=rng)


def test_real_eigvals_second_derivative_closed_form():
    # sum(lambda**2) = tr(A @ A): gradient 2 A^T, Hessian 2 delta_il delta_jk
    n = 4
    A = pt.matrix("A")
    w_re, w_im = real_eigvals(A)
    cost = pt.sum(w_re**2 - w_im**2)
    g = pytensor.grad(cost, A)
    fn = pytensor.function([A], [g, jacobian(g.ravel(), A)])
    A_val = rng.normal(size=(n, n))
    g, H = fn(A_val)
    np.testing.assert_allclose(g, 2 * A_val.T, atol=1e-10)
    expected = 2 * np.einsum("il,jk->ijkl", np.eye(n), np.eye(n))
    np.testing.assert_allclose(H.reshape(n, n, n, n), expected, atol=1e-8)


def test_real_eigvals_blockwise():
    A = pt.tensor3("A")
    w_re, w_im = real_eigvals(A)
    fn = pytensor.function([A], pytensor.grad(pt.sum(w_re**2 - w_im**2), A))
    batch = rng.normal(size=(3, 4, 4))
    np.testing.assert_allclose(fn(batch), 2 * batch.mT, atol=1e-10)


def test_schur_vectors_dropped_without_gradient():
    A = pt.matrix("A")
    outputs = rewrite_graph(list(real_eigvals(A)), include=("specialize",))
    ops = [node.op for node in applys_between([A], outputs)]
    assert any(isinstance(op, Eigvals) for op in ops)
    assert not any(isinstance(op, SchurEig) for op in ops)


def test_real_eig_bad_input():
    A = pt.matrix("A")
    fn = pytensor.function([A], real_eigvals(A))
    with pytest.raises(ValueError, match="NaN or Inf"):
        fn(np.array([[1.0, np.nan], [0.0, 1.0]]))
    with pytest.raises(ValueError):
        real_eigvals(pt.tensor3("B")[0, 0])
