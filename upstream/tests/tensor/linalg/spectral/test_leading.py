import numpy as np
import pytest

import pytensor
import pytensor.tensor as pt
from pytensor.gradient import hessian_vector_product
from pytensor.tensor.linalg import (
    jacobian_numerical_abscissa,
    leading_eigvalsh,
    leading_singular_triplet,
    numerical_abscissa,
    spectral_norm,
)
from tests import unittest_tools as utt


rng = np.random.default_rng(1984)
N = 80  # above the size from which Lanczos is used


def symmetric_with_gap(n, gap=0.5):
    Q = np.linalg.qr(rng.normal(size=(n, n)))[0]
    w = np.concatenate([[1.0 + gap], rng.uniform(-1, 1, n - 1)])
    return (Q * w) @ Q.T


def test_values_match_dense_decompositions():
    A, B = pt.matrix("A"), pt.matrix("B")
    u, s, v = leading_singular_triplet(B)
    fn = pytensor.function(
        [A, B], [leading_eigvalsh(A), numerical_abscissa(A), spectral_norm(B), u, s, v]
    )
    for A_val in (symmetric_with_gap(N), symmetric_with_gap(5)):
        B_val = rng.normal(size=(N + 10, N))
        lam, omega, norm, u_val, s_val, v_val = fn(A_val, B_val)
        np.testing.assert_allclose(lam, np.linalg.eigvalsh(A_val)[-1], rtol=1e-10)
        np.testing.assert_allclose(omega, np.linalg.eigvalsh(A_val)[-1], rtol=1e-10)
        np.testing.assert_allclose(norm, np.linalg.norm(B_val, 2), rtol=1e-10)
        np.testing.assert_allclose(s_val, norm, rtol=1e-12)
        np.testing.assert_allclose(B_val @ v_val, s_val * u_val, atol=1e-8)


def test_gradients():
    A_val = symmetric_with_gap(6)
    for op in (leading_eigvalsh, numerical_abscissa, spectral_norm):
        utt.verify_grad(op, [A_val], rng=rng)
    A = pt.matrix("A")
    g = pytensor.grad(leading_eigvalsh(A), A)
    A_val = symmetric_with_gap(N)
    v = np.linalg.eigh(A_val)[1][:, -1]
    expected = np.tril(2 * np.outer(v, v)) - np.diag(v**2)  # the lower triangle is read
    np.testing.assert_allclose(pytensor.function([A], g)(A_val), expected, atol=1e-9)


def test_hessian_vector_product_matches_dense():
    A = pt.matrix("A")
    D = pt.matrix("D")
    dense = pt.max(pt.linalg.eigvalsh(A))
    fn = pytensor.function(
        [A, D],
        [
            hessian_vector_product(leading_eigvalsh(A), A, D),
            hessian_vector_product(dense, A, D),
        ],
        mode=pytensor.compile.get_default_mode().excluding("spectral"),
    )
    ours, reference = fn(symmetric_with_gap(N), rng.normal(size=(N, N)))
    np.testing.assert_allclose(ours, reference, atol=1e-8)


def test_jacobian_numerical_abscissa():
    z = pt.vector("z")
    M = rng.normal(size=(6, 6))
    f = pt.tanh(pt.as_tensor(M) @ z)
    omega, _ = jacobian_numerical_abscissa(f, z)
    z_val = 0.1 * rng.normal(size=6)
    J = (1 - np.tanh(M @ z_val) ** 2)[:, None] * M
    value = pytensor.function([z], omega)(z_val)
    np.testing.assert_allclose(value, np.linalg.eigvalsh((J + J.T) / 2)[-1], rtol=1e-7)


def test_repeated_leading_singular_value_is_an_error():
    B = pt.matrix("B")
    u, _, _ = leading_singular_triplet(B)
    fn = pytensor.function([B], pytensor.grad(pt.sum(u), B))
    with pytest.raises(ValueError, match="not differentiable"):
        fn(np.eye(4))
