import itertools

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
import scipy.linalg
from pytensor.gradient import verify_grad

from pytensor_spectral import spectral_abscissa, ssa
from pytensor_spectral._lyapunov import ssa as ssa_kernel
from tests.helpers import MODES, compile_fn, random_matrix, scipy_ssa


def nonnormal(n, coupling=5.0):
    return -np.eye(n) + np.diag(np.full(n - 1, coupling), 1)


@pytest.fixture(scope="module")
def ssa_fn():
    A, eps = pt.matrix("A"), pt.scalar("eps")
    out = ssa(A, eps)
    return compile_fn([A, eps], [out, *pytensor.grad(out, [A, eps])])


# ---------------------------------------------------------------- values


@pytest.mark.parametrize("mode", MODES)
def test_matches_scipy_reference(mode):
    rng = np.random.default_rng(30)
    A = pt.matrix("A")
    fn = compile_fn([A], ssa(A), mode)
    cases = [random_matrix(rng, n) for n in (1, 2, 5, 12)]
    cases += [
        random_matrix(rng, 6, "real"),
        random_matrix(rng, 6, "complex"),
        nonnormal(8),
    ]
    for An in cases:
        np.testing.assert_allclose(
            fn(An), scipy_ssa(An, 1.5 / len(An)), rtol=1e-11, atol=1e-12
        )


def test_julia_package_identities(ssa_fn):
    """SmoothedSpectralAbscissa.jl's tests: with ``ε = 1/tr P`` for a stable ``M``
    (``M P + P Mᵀ + I = 0``), ``ssa(M, ε) = 0`` and ``ssa(M + cI, ε) = c``."""
    rng = np.random.default_rng(31)
    for n in (3, 10, 25):
        M = rng.normal(size=(n, n))
        M -= (np.linalg.eigvals(M).real.max() + 0.5) * np.eye(n)
        P = scipy.linalg.solve_continuous_lyapunov(M, -np.eye(n))
        eps = 1.0 / np.trace(P)
        assert abs(ssa_fn(M, eps)[0]) < 1e-10
        for c in (-3.0, 0.7, 12.0):
            assert abs(ssa_fn(M + c * np.eye(n), eps)[0] - c) < 1e-10


def test_tends_to_spectral_abscissa(ssa_fn):
    rng = np.random.default_rng(32)
    An = random_matrix(rng, 6)
    alpha = np.linalg.eigvals(An).real.max()
    gaps = [ssa_fn(An, eps)[0] - alpha for eps in (1e-1, 1e-3, 1e-5, 1e-8)]
    assert all(g > 0 for g in gaps)
    assert all(b < a for a, b in itertools.pairwise(gaps))
    assert gaps[-1] < 1e-7


def test_batched_with_broadcast_eps():
    rng = np.random.default_rng(33)
    batch = rng.normal(size=(3, 4, 4))
    eps = np.array([0.1, 0.5, 2.0])
    A, e = pt.tensor3("A"), pt.vector("e")
    out = ssa(A, e)
    values, grads = compile_fn([A, e], [out, pytensor.grad(out.sum(), A)])(batch, eps)
    for i in range(3):
        np.testing.assert_allclose(values[i], scipy_ssa(batch[i], eps[i]), rtol=1e-11)
    default = compile_fn([A], ssa(A))(batch)
    for i in range(3):
        np.testing.assert_allclose(default[i], scipy_ssa(batch[i], 1.5 / 4), rtol=1e-11)
    np.testing.assert_allclose(np.trace(grads, axis1=1, axis2=2), 1.0, rtol=1e-12)


def test_float32():
    rng = np.random.default_rng(34)
    An = random_matrix(rng, 5).astype("float32")
    A = pt.matrix("A", dtype="float32")
    out = ssa(A)
    value, grad = compile_fn([A], [out, pytensor.grad(out, A)])(An)
    assert value.dtype == grad.dtype == np.float32
    np.testing.assert_allclose(value, scipy_ssa(An.astype(float), 1.5 / 5), rtol=1e-5)


def test_lyapunov_solves_are_few():
    """One Newton step, then secant steps of one solve each, and the adjoint at the
    root: fewer solves than Newton's two per step (12 steps were allowed before)."""
    rng = np.random.default_rng(35)
    for An, most in ((random_matrix(rng, 50), 10), (nonnormal(20, 50.0), 18)):
        *_, solves = ssa_kernel(An, 1.5 / len(An))
        assert solves <= most


# ---------------------------------------------------------------- gradients


@pytest.mark.parametrize("mode", MODES)
def test_verify_grad(mode):
    rng = np.random.default_rng(36)
    for An in (
        random_matrix(rng, 5),
        random_matrix(rng, 4, "complex"),
        nonnormal(4, 3.0),
    ):
        verify_grad(ssa, [An, np.array(0.3)], rng=rng, mode=MODES[mode])


def test_gradient_matches_finite_differences_of_scipy_reference(ssa_fn):
    rng = np.random.default_rng(37)
    An, eps, h = random_matrix(rng, 5), 0.3, 1e-6
    _, grad, d_eps = ssa_fn(An, eps)
    fd = np.zeros_like(An)
    for i, j in np.ndindex(*An.shape):
        E = np.zeros_like(An)
        E[i, j] = h
        fd[i, j] = (scipy_ssa(An + E, eps) - scipy_ssa(An - E, eps)) / (2 * h)
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-8)
    fd_eps = (scipy_ssa(An, eps + h) - scipy_ssa(An, eps - h)) / (2 * h)
    np.testing.assert_allclose(d_eps, fd_eps, rtol=1e-6)


def test_gradient_closed_form_normal_matrix(ssa_fn):
    """For ``A = diag(a)``: ``Σ_k 1/(2(s − a_k)) = 1/ε``, so ``∂s/∂a_k = d_k⁻² / Σ_j d_j⁻²``
    and ``∂s/∂ε = 2 / (ε² Σ_j d_j⁻²)`` with ``d = s − a``; off-diagonal gradient zero."""
    a, eps = np.array([0.3, -1.0, 0.1, -4.0]), 0.2
    s, grad, d_eps = ssa_fn(np.diag(a), eps)
    d = s - a
    np.testing.assert_allclose(np.sum(0.5 / d), 1 / eps, rtol=1e-13)
    np.testing.assert_allclose(grad, np.diag(d**-2 / np.sum(d**-2)), atol=1e-14)
    np.testing.assert_allclose(d_eps, 2 / (eps**2 * np.sum(d**-2)), rtol=1e-12)


def test_gradient_is_smooth_where_abscissa_is_not(ssa_fn):
    """At a crossing of the two leading real eigenvalues the abscissa's gradient jumps;
    the SSA's is continuous."""
    A = pt.matrix("A")
    abscissa_grad = compile_fn([A], pytensor.grad(spectral_abscissa(A), A))
    left, right = np.diag([1.0 - 1e-7, 1.0, -1.0]), np.diag([1.0 + 1e-7, 1.0, -1.0])
    assert np.abs(abscissa_grad(left) - abscissa_grad(right)).max() == pytest.approx(
        1.0
    )
    assert np.abs(ssa_fn(left, 0.1)[1] - ssa_fn(right, 0.1)[1]).max() < 1e-5


# ---------------------------------------------------------------- bad input


def test_bad_eps_at_construction():
    A = pt.matrix("A")
    for eps in (0.0, -1.0, np.inf, np.nan):
        with pytest.raises(ValueError, match="eps"):
            ssa(A, eps)
    with pytest.raises(ValueError, match="scalar"):
        ssa(A, pt.vector("e"))
    with pytest.raises(TypeError, match="real"):
        ssa(A, pt.scalar("e", dtype="complex128"))


def test_bad_input_at_run_time(ssa_fn):
    for eps in (0.0, -1.0, np.inf, np.nan):
        with pytest.raises(ValueError, match="eps"):
            ssa_fn(np.eye(2), eps)
    for bad, match in [
        (np.ones((2, 3)), "square"),
        (np.array([[1.0, np.nan], [0.0, 1.0]]), "NaN"),
        (np.zeros((0, 0)), "empty"),
    ]:
        with pytest.raises(ValueError, match=match):
            ssa_fn(bad, 0.1)
    with pytest.raises(ValueError, match="square"):
        ssa(pt.matrix("A", shape=(2, 3)))
