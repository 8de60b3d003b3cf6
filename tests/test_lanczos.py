"""The thick-restart Lanczos kernel (`pytensor_spectral._lanczos`) and the ops built on
it: accuracy across gaps and clustered tops, restarts against an unrestarted basis, the
symbolic twin (`iterative.max_eigenpair`) and the JAX one, breakdown, warm starts, the
``AᵀA`` products and bad input."""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

from pytensor_spectral import _leading
from pytensor_spectral.iterative import KRYLOV_DIM, max_eigenpair
from pytensor_spectral.symmetric import leading_eigenpair
from tests.helpers import BACKENDS, compile_fn
from tests.test_symmetric import lower_only


def spectrum_matrix(rng, eigenvalues):
    Q, _ = np.linalg.qr(rng.normal(size=(len(eigenvalues),) * 2))
    return (Q * eigenvalues) @ Q.T


def goe(rng, n):
    X = rng.normal(size=(n, n))
    return (X + X.T) / np.sqrt(2 * n)


def kernel(S, v0=None, krylov_dim=KRYLOV_DIM, max_restarts=-1, tol=1e-10, lower=True):
    """`_leading.leading_eigenpair` on the Lanczos path (no crossover)."""
    v0 = np.zeros(len(S)) if v0 is None else v0
    return _leading.leading_eigenpair(S, v0, lower, krylov_dim, max_restarts, tol, 0)


def bound(krylov_dim, max_restarts):
    keep = max(1, krylov_dim // 3)
    return krylov_dim + max_restarts * (krylov_dim - keep)


@pytest.mark.parametrize("gap", [0.5, 1e-1, 1e-2, 1e-3, 1e-4, 1e-6])
def test_values_across_relative_gaps(gap):
    """Top two eigenvalues 1 and 1 - gap over a bulk in [-1, 1 - 2 gap]: the value equals
    NumPy's to 1e-10 (from Lanczos where it converged within about n/2 products, from
    the dense fallback otherwise); a converged vector has the residual asked for."""
    rng = np.random.default_rng(1)
    n = 300
    bulk = rng.uniform(-1.0, 1.0 - 2 * gap, size=n - 2)
    S = spectrum_matrix(rng, np.concatenate([[1.0, 1.0 - gap], bulk]))
    lam, v, products = kernel(lower_only(rng, S))
    np.testing.assert_allclose(lam, 1.0, rtol=1e-10)
    assert 0 < products <= bound(KRYLOV_DIM, _leading.restart_bound(n, KRYLOV_DIM, -1))
    if products < bound(KRYLOV_DIM, _leading.restart_bound(n, KRYLOV_DIM, -1)):
        assert np.linalg.norm(S @ v - lam * v) <= 1e-10 * np.abs(S).max() * n
    if gap >= 1e-2:  # resolved well within the budget
        assert products < 150


@pytest.mark.parametrize("cluster", [2, 5])
@pytest.mark.parametrize("spread", [0.0, 1e-12, 1e-6])
def test_clustered_top(cluster, spread):
    """A cluster of ``cluster`` eigenvalues within ``spread`` of 2 above a bulk in
    [-1, 1]: the largest value is found to 1e-10 and the vector lies in the cluster's
    eigenspace (to within the spread)."""
    rng = np.random.default_rng(2)
    n = 200
    top = 2.0 - spread * np.arange(cluster)
    eigenvalues = np.concatenate([top, rng.uniform(-1.0, 1.0, size=n - cluster)])
    Q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    S = (Q * eigenvalues) @ Q.T
    lam, v, products = kernel(S)
    np.testing.assert_allclose(lam, 2.0, rtol=1e-10)
    outside = v - Q[:, :cluster] @ (Q[:, :cluster].T @ v)
    assert np.linalg.norm(outside) <= 1e-6 + 1e2 * spread
    assert products < 100


@pytest.mark.parametrize("make", [goe, lambda rng, n: goe(rng, n) @ goe(rng, n)])
def test_thick_restart_needs_about_the_products_of_an_unrestarted_basis(make):
    """Keeping a third of a 40-vector basis at each restart costs at most 15% more
    products than Lanczos without restarts (a basis of n vectors), and reaches the same
    value."""
    rng = np.random.default_rng(3)
    n = 400
    S = make(rng, n)
    S = (S + S.T) / 2
    thick = kernel(S)
    unrestarted = kernel(S, krylov_dim=n)
    assert thick[2] <= 1.15 * unrestarted[2]
    np.testing.assert_allclose(thick[0], unrestarted[0], rtol=1e-12)


def test_symbolic_iteration_is_the_same_algorithm():
    """`iterative.max_eigenpair` (the scan used by the matrix-free numerical abscissa)
    takes the same steps as the kernel: equal product counts, with and without
    restarts, and the same converged value. (n = 400: large enough for the kernel to
    test convergence at every step, as the scan does; see `_lanczos.TEST_WORK`.)"""
    rng = np.random.default_rng(4)
    n = 400
    S = pt.matrix("S")
    for krylov_dim in (6, 40):
        theta, _, converged, products = max_eigenpair(
            lambda q: S @ q, S.shape[0], krylov_dim=krylov_dim, tol=1e-10
        )
        fn = compile_fn([S], [theta, converged, products], "cvm")
        for M in (goe(rng, n), spectrum_matrix(rng, np.linspace(-1, 1, n) ** 3)):
            value, ok, count = fn(M)
            lam, _, kernel_count = kernel(M, krylov_dim=krylov_dim, max_restarts=100)
            assert ok
            assert count == kernel_count
            np.testing.assert_allclose(value, lam, rtol=1e-12)


@pytest.mark.parametrize(
    "eigenvalues",
    [
        np.ones(60),
        np.r_[3.0, np.zeros(59)],
        np.repeat([2.0, -1.0, 0.5], 20),
        np.zeros(60),
    ],
    ids=["identity", "rank_one", "three_values", "zero"],
)
def test_invariant_subspaces_break_down_cleanly(eigenvalues):
    """Few distinct eigenvalues: the Krylov space is invariant after a few steps
    (breakdown); the largest eigenvalue is still found, exactly, without NaN."""
    rng = np.random.default_rng(5)
    S = spectrum_matrix(rng, eigenvalues)
    lam, v, products = kernel(S)
    np.testing.assert_allclose(lam, eigenvalues.max(), atol=1e-12)
    assert np.all(np.isfinite(v))
    np.testing.assert_allclose(np.linalg.norm(v), 1.0, rtol=1e-12)
    assert products <= len(set(eigenvalues)) + 1


def test_small_matrices_test_convergence_less_often():
    """Where a convergence test costs more than a step (small n), the kernel tests every
    few steps: it may take a few products more than the scan, which tests every step,
    never fewer, and reaches the same value."""
    rng = np.random.default_rng(12)
    n = 120
    S = goe(rng, n)
    Sv = pt.matrix("S")
    theta, _, _, products = max_eigenpair(lambda q: Sv @ q, n, tol=1e-10)
    value, count = compile_fn([Sv], [theta, products], "cvm")(S)
    lam, _, kernel_count = kernel(S, max_restarts=100)
    assert count <= kernel_count <= count + 6
    np.testing.assert_allclose(value, lam, rtol=1e-12)


def test_warm_start_at_the_eigenvector_takes_one_product():
    rng = np.random.default_rng(6)
    S = goe(rng, 200)
    _, v, _ = kernel(S)
    assert kernel(S, v0=v)[2] == 1
    assert kernel(S, v0=-3 * v)[2] == 1  # any nonzero multiple


def test_upper_triangle():
    rng = np.random.default_rng(7)
    S = goe(rng, 100)
    noisy = np.triu(S) + np.tril(rng.normal(size=S.shape), -1)
    lam, v, _ = kernel(noisy, lower=False)
    np.testing.assert_allclose(lam, np.linalg.eigvalsh(S)[-1], rtol=1e-12)
    np.testing.assert_allclose(np.abs(v @ np.linalg.eigh(S)[1][:, -1]), 1.0, rtol=1e-9)


@pytest.mark.parametrize("shape", [(300, 120), (120, 300)])
@pytest.mark.parametrize("scale", [1.0, 1e150, 1e-150])
def test_gram_products_give_the_leading_singular_triplet(shape, scale):
    """Lanczos on ``AᵀA`` from one pass over ``A`` in row blocks (more rows than one
    block, and a last partial block); entries of any floating-point range."""
    rng = np.random.default_rng(8)
    A = rng.normal(size=shape) * scale
    u, sigma, v, products = _leading.leading_singular_triplet(
        A, np.zeros(shape[1]), KRYLOV_DIM, -1, 1e-10, 0
    )
    U, s, Vt = np.linalg.svd(A / scale)
    np.testing.assert_allclose(sigma / scale, s[0], rtol=1e-10)
    np.testing.assert_allclose(np.abs(u @ U[:, 0]), 1.0, rtol=1e-9)
    np.testing.assert_allclose(np.abs(v @ Vt[0]), 1.0, rtol=1e-9)
    np.testing.assert_allclose(A @ v, sigma * u, atol=1e-8 * sigma)
    assert products > 0


def test_float32_iteration():
    rng = np.random.default_rng(9)
    S = goe(rng, 150).astype("float32")
    lam, v, products = _leading.leading_eigenpair(
        S, np.zeros(150, "float32"), True, KRYLOV_DIM, -1, 1e-5, 0
    )
    assert v.dtype == np.float32 and products > 0
    np.testing.assert_allclose(lam, np.linalg.eigvalsh(S.astype(float))[-1], rtol=1e-5)


@pytest.mark.skipif("jax" not in BACKENDS, reason="JAX is not installed")
@pytest.mark.parametrize("n, krylov_dim", [(120, 40), (400, 8)])
def test_jax_takes_the_same_steps(n, krylov_dim):
    """The JAX implementation (one ``lax.while_loop`` over steps) is the same iteration,
    convergence tested at the same steps (every step at n = 400, every few at n = 120):
    the same value and vector and, up to a rounding-level difference in the stopping
    test, the same number of products (n = 400: through restarts)."""
    rng = np.random.default_rng(10)
    A = pt.matrix("A", shape=(n, n))
    outputs = leading_eigenpair(A, krylov_dim=krylov_dim, crossover=0)
    S = goe(rng, n)
    numba_result = compile_fn([A], outputs)(S)
    jax_result = compile_fn([A], outputs, "jax")(S)
    np.testing.assert_allclose(jax_result[0], numba_result[0], rtol=1e-12)
    np.testing.assert_allclose(jax_result[1], numba_result[1], atol=1e-11)
    assert abs(int(jax_result[2]) - int(numba_result[2])) <= 1
    assert numba_result[2] > 8  # restarted


def test_bad_start_vector_and_controls():
    rng = np.random.default_rng(11)
    S = goe(rng, 60)
    with pytest.raises(ValueError, match="one entry per column"):
        kernel(S, v0=np.ones(59))
    with pytest.raises(ValueError, match="v0 has NaN or Inf"):
        kernel(S, v0=np.full(60, np.nan))
    A, v0 = pt.matrix("A"), pt.vector("v0")
    with pytest.raises(ValueError, match="krylov_dim must be at least 2"):
        leading_eigenpair(A, krylov_dim=1)
    with pytest.raises(ValueError, match="tol must be positive"):
        leading_eigenpair(A, tol=0.0)
    fn = pytensor.function([A, v0], leading_eigenpair(A, v0, crossover=0)[0])
    with pytest.raises(ValueError, match="v0 has NaN or Inf"):
        fn(S, np.full(60, np.inf))
