import numpy as np
import pytest

import pytensor
import pytensor.tensor as pt
from pytensor.tensor.linalg import eigengap
from tests import unittest_tools as utt


rng = np.random.default_rng(144)


def test_value_and_gradient_at_repeated_other_eigenvalues():
    # eigenvalues 3, 1, 0, 0, 0: the gradient v1 v1^T - v2 v2^T, read from the lower
    # triangle, with no eigenvalue differences in it
    Q = np.linalg.qr(rng.normal(size=(5, 5)))[0]
    A_val = (Q * [3.0, 1.0, 0.0, 0.0, 0.0]) @ Q.T
    A = pt.matrix("A")
    gap = eigengap(A, 1)
    fn = pytensor.function([A], [gap, pytensor.grad(gap, A)])
    value, grad = fn(A_val)
    np.testing.assert_allclose(value, 2.0, rtol=1e-12)
    G = np.outer(Q[:, 0], Q[:, 0]) - np.outer(Q[:, 1], Q[:, 1])
    np.testing.assert_allclose(grad, np.tril(2 * G) - np.diag(np.diag(G)), atol=1e-12)


def test_grad_and_hessian_finite():
    X = rng.normal(size=(5, 5))
    utt.verify_grad(lambda A: eigengap(A, 2), [X + X.T], rng=rng)
    A = pt.matrix("A")
    g = pytensor.grad(eigengap(A, 1), A)
    H = pytensor.function([A], pytensor.gradient.jacobian(g.ravel(), A))
    Q = np.linalg.qr(rng.normal(size=(4, 4)))[0]
    assert np.isfinite(H((Q * [2.0, 1.0, 0.0, 0.0]) @ Q.T)).all()


def test_bad_k():
    fn = pytensor.function([A := pt.matrix("A"), k := pt.iscalar("k")], eigengap(A, k))
    with pytest.raises(ValueError, match="k must satisfy"):
        fn(np.eye(3), 3)


def test_hermitian_input_by_real_and_imaginary_parts():
    # H = U diag(4, 2, 1, 0, 0) U^H: the gap lambda_2 - lambda_3 and its gradient, the
    # real and imaginary parts of u2 u2^H - u3 u3^H folded onto the lower triangles
    Z = rng.normal(size=(5, 5)) + 1j * rng.normal(size=(5, 5))
    U = np.linalg.qr(Z)[0]
    H = (U * [4.0, 2.0, 1.0, 0.0, 0.0]) @ U.conj().T
    A, B = pt.matrix("A"), pt.matrix("B")
    gap = eigengap(A, 2, im=B)
    fn = pytensor.function([A, B], [gap, *pytensor.grad(gap, [A, B])])
    value, g_re, g_im = fn(H.real, H.imag)
    np.testing.assert_allclose(value, 1.0, rtol=1e-12)
    G = np.outer(U[:, 1], U[:, 1].conj()) - np.outer(U[:, 2], U[:, 2].conj())
    np.testing.assert_allclose(
        g_re, np.tril(2 * G.real) - np.diag(np.diag(G.real)), atol=1e-12
    )
    np.testing.assert_allclose(g_im, np.tril(G.imag - G.imag.T, -1), atol=1e-12)
