import numpy as np
import pytest
import scipy

import pytensor
import pytensor.tensor as pt
from pytensor.tensor.linalg import smoothed_spectral_abscissa
from tests import unittest_tools as utt


rng = np.random.default_rng(2009)


def reference(A, eps):
    """The root s > alpha(A) of tr P(s) = 1/eps, (A - sI) P + P (A - sI)^T + I = 0,
    by Brent's method on SciPy's Lyapunov solver."""
    n = A.shape[0]

    def excess(s):
        P = scipy.linalg.solve_continuous_lyapunov(A - s * np.eye(n), -np.eye(n))
        return 1.0 / np.trace(P) - eps

    alpha = np.linalg.eigvals(A).real.max()
    omega = np.linalg.eigvalsh((A + A.T) / 2).max()
    return scipy.optimize.brentq(excess, alpha + 1e-12, omega + n * eps, xtol=1e-15)


@pytest.fixture(scope="module")
def ssa_fn():
    A, eps = pt.matrix("A"), pt.scalar("eps")
    out = smoothed_spectral_abscissa(A, eps)
    return pytensor.function([A, eps], [out, *pytensor.grad(out, [A, eps])])


def test_values_and_identities(ssa_fn):
    for A in (rng.normal(size=(5, 5)), -np.eye(6) + np.diag(np.full(5, 4.0), 1)):
        np.testing.assert_allclose(ssa_fn(A, 0.3)[0], reference(A, 0.3), rtol=1e-11)
    # SmoothedSpectralAbscissa.jl's identities: ssa(M, 1/tr P) = 0, ssa(M + cI) = s + c
    M = rng.normal(size=(4, 4))
    M -= (np.linalg.eigvals(M).real.max() + 0.5) * np.eye(4)
    eps = 1 / np.trace(scipy.linalg.solve_continuous_lyapunov(M, -np.eye(4)))
    assert abs(ssa_fn(M, eps)[0]) < 1e-10
    assert abs(ssa_fn(M + 2.0 * np.eye(4), eps)[0] - 2.0) < 1e-10


def test_gradient_closed_form_diagonal(ssa_fn):
    # A = diag(a): sum 1/(2(s - a_k)) = 1/eps, ds/da_k = d_k^-2 / sum d^-2 (d = s - a)
    a, eps = np.array([0.3, -1.0, 0.1, -4.0]), 0.2
    s, g, g_eps = ssa_fn(np.diag(a), eps)
    d = s - a
    np.testing.assert_allclose(g, np.diag(d**-2 / np.sum(d**-2)), atol=1e-14)
    np.testing.assert_allclose(g_eps, 2 / (eps**2 * np.sum(d**-2)), rtol=1e-12)


def test_grad_and_hessian():
    A_val = rng.normal(size=(4, 4))
    utt.verify_grad(smoothed_spectral_abscissa, [A_val, np.array(0.3)], rng=rng)
    # second order: the gradient's reverse-mode derivative against its differences
    utt.verify_grad(
        lambda A: pytensor.grad(smoothed_spectral_abscissa(A, 0.3), A), [A_val], rng=rng
    )


def test_bad_eps():
    with pytest.raises(ValueError):
        smoothed_spectral_abscissa(pt.matrix("A"), -1.0)
