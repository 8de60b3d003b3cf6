import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from pytensor.compile.mode import get_default_mode, get_mode
from pytensor.gradient import verify_grad

from pytensor_spectral import eigengap, leading_eigvalsh
from pytensor_spectral.iterative import max_eigenpair
from pytensor_spectral.symmetric import (
    CROSSOVER,
    FoldedOuter,
    SymmetrizeTriangle,
    leading_eigenpair,
)
from tests.helpers import MODES, compare_backends, compile_fn


def folded(G):
    """The gradient of a function of the lower triangle, from its symmetric gradient."""
    return np.tril(G) + np.triu(G, 1).T


def with_gap(rng, n, gap):
    """Symmetric, eigenvalues 1 and 1 - gap on top of a spread in [-1, 1 - 2 gap]."""
    w = np.concatenate([[1.0, 1.0 - gap], rng.uniform(-1.0, 1.0 - 2 * gap, size=n - 2)])
    Q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    return (Q * w) @ Q.T


def lower_only(rng, S):
    """``S`` in the lower triangle, noise above it (which eigvalsh ignores)."""
    return np.tril(S) + np.triu(rng.normal(size=S.shape), 1)


# ---------------------------------------------------------------- leading_eigvalsh


@pytest.mark.parametrize("mode", MODES)
def test_leading_eigvalsh_matches_dense_across_gaps(mode):
    """Relative gaps 0.5 … 1e-6 (a near-degenerate leading pair included), n above the
    crossover: the value equals eigvalsh's to 1e-10 (Lanczos, or the dense fallback)."""
    rng = np.random.default_rng(0)
    n = CROSSOVER + 20
    A = pt.matrix("A")
    fn = compile_fn([A], leading_eigenpair(A), mode)
    for gap in (1.0, 1e-2, 1e-4, 1e-6, 0.0):
        S = with_gap(rng, n, gap)
        lam, v, products = fn(lower_only(rng, S))
        w = np.linalg.eigvalsh(S)
        np.testing.assert_allclose(lam, w[-1], rtol=1e-10, atol=0)
        assert products > 0  # the iterative path ran
        assert v[np.argmax(np.abs(v))] > 0
        if gap >= 1e-4:  # otherwise the leading eigenvector itself is ill-determined
            assert np.linalg.norm(S @ v - lam * v) <= 1e-8


def test_leading_eigvalsh_gradient_is_v_vt():
    rng = np.random.default_rng(1)
    n = CROSSOVER + 10
    A = pt.matrix("A")
    lam = leading_eigvalsh(A)
    fn = compile_fn([A], [lam, pytensor.grad(lam, A)])
    An = lower_only(rng, with_gap(rng, n, 0.1))
    _, G = fn(An)
    _, V = np.linalg.eigh(An)  # reads the lower triangle, like eigvalsh
    np.testing.assert_allclose(G, folded(np.outer(V[:, -1], V[:, -1])), atol=1e-9)
    dense_grad = pytensor.grad(
        pt.max(pt.linalg.eigvalsh(A)), A
    )  # built before any rewrite
    dense = pytensor.function(
        [A], dense_grad, mode=get_default_mode().excluding("spectral")
    )
    np.testing.assert_allclose(G, dense(An), atol=1e-9)


@pytest.mark.parametrize("lower", [True, False])
def test_folded_outer_is_the_fold_of_the_outer_product(lower):
    """`FoldedOuter` (the one-pass gradient of the leading-value ops) equals the fold of
    ``g x yᵀ`` onto the triangle read, on every backend, and its own derivatives (used by
    Hessians) are right: `verify_grad`, and the pushforward against the pullback."""
    rng = np.random.default_rng(7)
    g, x, y = pt.scalar("g"), pt.vector("x"), pt.vector("y")
    folded = FoldedOuter(lower)(g, x, y)
    values = [1.7, rng.normal(size=6), rng.normal(size=6)]
    (got,) = compare_backends([g, x, y], [folded], values)
    G = values[0] * np.outer(values[1], values[2])
    want = pytensor.function(
        [], SymmetrizeTriangle(lower, adjoint=True)(pt.constant(G))
    )()
    np.testing.assert_allclose(got, want, rtol=1e-15)
    verify_grad(lambda *z: FoldedOuter(lower)(*z), values, rng=rng, mode=MODES["cvm"])
    tangents = [pt.scalar("dg"), pt.vector("dx"), pt.vector("dy")]
    weights = rng.normal(size=(6, 6))
    forward = pytensor.gradient.pushforward(folded, [g, x, y], tangents)
    reverse = pytensor.grad(pt.sum(folded * weights), [g, x, y])
    fn = pytensor.function([g, x, y, *tangents], [pt.sum(forward * weights), *reverse])
    dvalues = [0.3, rng.normal(size=6), rng.normal(size=6)]
    directional, *grads = fn(*values, *dvalues)
    expected = sum(np.sum(gr * d) for gr, d in zip(grads, dvalues, strict=True))
    np.testing.assert_allclose(directional, expected, rtol=1e-12)


def test_leading_eigvalsh_verify_grad_on_iterative_path():
    rng = np.random.default_rng(2)
    verify_grad(
        lambda A: leading_eigvalsh(A, crossover=0),
        [rng.normal(size=(7, 7))],
        rng=rng,
        mode=MODES["cvm"],  # the math, in the mode that compiles fastest
    )


def test_leading_eigvalsh_batched_and_float32():
    rng = np.random.default_rng(3)
    A = pt.tensor3("A")
    lam = leading_eigvalsh(A, crossover=0)
    fn = compile_fn([A], [lam, pytensor.grad(lam.sum(), A)])
    An = rng.normal(size=(3, 12, 12))
    values, grads = fn(An)
    w, V = np.linalg.eigh(An)
    np.testing.assert_allclose(values, w[:, -1], rtol=1e-10)
    for b in range(3):
        np.testing.assert_allclose(
            grads[b], folded(np.outer(V[b, :, -1], V[b, :, -1])), atol=1e-8
        )
    A32 = pt.matrix("A32", dtype="float32")
    fn32 = compile_fn([A32], leading_eigvalsh(A32, crossover=0))
    out = fn32(An[0].astype("float32"))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, w[0, -1], rtol=1e-5)


def test_warm_start_converges_at_the_first_step():
    rng = np.random.default_rng(4)
    n = CROSSOVER + 50
    S = with_gap(rng, n, 1e-3)
    A, v0 = pt.matrix("A"), pt.vector("v0")
    cold = compile_fn([A], leading_eigenpair(A, max_restarts=40))
    warm = compile_fn([A, v0], leading_eigenpair(A, v0, max_restarts=40))
    _, v, cold_products = cold(S)
    assert warm(S, v)[2] == 1 < cold_products  # the residual is tested at every step
    assert warm(S + 1e-9 * rng.normal(size=(n, n)), v)[2] < cold_products


def test_non_convergence_falls_back_to_dense_and_is_reported():
    """A basis of two vectors (one kept at each of three restarts: 2 + 3 products)
    cannot resolve a 1e-3 gap: the builder reports it, and the public function returns
    the dense result instead of a half-converged estimate."""
    rng = np.random.default_rng(5)
    n = CROSSOVER + 10
    S = with_gap(rng, n, 1e-3)
    A = pt.matrix("A")
    _, _, converged, products = max_eigenpair(
        lambda q: A @ q, n, krylov_dim=2, max_restarts=3
    )
    builder = compile_fn([A], [converged, products], "cvm")
    assert builder(S)[0] == np.False_ and builder(S)[1] == 5
    lam, _, used = compile_fn(
        [A], leading_eigenpair(A, krylov_dim=2, max_restarts=3), "cvm"
    )(S)
    assert used == 5
    np.testing.assert_allclose(lam, np.linalg.eigvalsh(S)[-1], rtol=1e-13)


def test_leading_eigvalsh_bad_input():
    with pytest.raises(ValueError, match="square"):
        leading_eigvalsh(pt.matrix("A", shape=(3, 4)))
    with pytest.raises(ValueError, match="ndim"):
        leading_eigvalsh(pt.vector("x"))
    with pytest.raises(TypeError, match="real"):
        leading_eigvalsh(pt.matrix("A", dtype="complex128"))
    A = pt.matrix("A")
    fn = compile_fn([A], leading_eigvalsh(A))
    for bad in (
        np.full((CROSSOVER + 1, CROSSOVER + 1), np.nan),
        np.where(np.eye(3) > 0, np.inf, 0.0),
    ):
        with pytest.raises(ValueError, match="NaN or Inf"):
            fn(bad)
    with pytest.raises(ValueError, match="empty"):
        fn(np.zeros((0, 0)))
    with pytest.raises(ValueError):
        fn(np.zeros((3, 4)))


# ---------------------------------------------------------------- eigengap

SPECTRUM = np.array([5.0, 3.0, 1.0, 1.0, 1.0 + 1e-12, 0.0])


def rotated(rng, w):
    Q, _ = np.linalg.qr(rng.normal(size=(len(w), len(w))))
    return (Q * w) @ Q.T


@pytest.mark.parametrize("mode", MODES)
def test_eigengap_values(mode):
    rng = np.random.default_rng(6)
    A, k = pt.matrix("A"), pt.lscalar("k")
    fn = compile_fn([A, k], eigengap(A, k), mode)
    An = lower_only(rng, rotated(rng, rng.normal(size=8)))
    w = np.linalg.eigvalsh(An)[::-1]
    for kk in range(1, 8):
        np.testing.assert_allclose(
            fn(An, kk), w[kk - 1] - w[kk], rtol=1e-12, atol=1e-13
        )


@pytest.mark.parametrize("mode", [*MODES, "FAST_COMPILE"])
def test_eigengap_gradient_finite_with_repeated_eigenvalues(mode):
    """Spectrum [5, 3, 1, 1, 1+1e-12, 0] and diagonal (``A = I``-like blocks): the gap
    λ1 − λ2 has the exact gradient v1 v1ᵀ − v2 v2ᵀ, finite, in every mode."""
    rng = np.random.default_rng(7)
    A = pt.matrix("A")
    gap = eigengap(A, 1)
    fn = pytensor.function(
        [A], pytensor.grad(gap, A), mode=MODES.get(mode) or get_mode(mode)
    )
    for An in (rotated(rng, SPECTRUM), np.diag(SPECTRUM)):
        G = fn(An)
        assert np.all(np.isfinite(G))
        _, V = np.linalg.eigh(An)
        v1, v2 = V[:, -1], V[:, -2]
        np.testing.assert_allclose(
            G, folded(np.outer(v1, v1) - np.outer(v2, v2)), atol=1e-9
        )


def test_dense_eigh_gradient_of_the_gap_is_nan_at_repeated_eigenvalues():
    """The point of the op: the same quantity through ``eigh`` has ``1/(λi − λj)`` terms
    in its pullback, ``0 · inf = NaN`` at exactly repeated eigenvalues (FAST_COMPILE: no
    rewrite hides it)."""
    A = pt.matrix("A")
    w = pt.linalg.eigh(A)[0]
    fn = pytensor.function([A], pytensor.grad(w[-1] - w[-2], A), mode="FAST_COMPILE")
    assert not np.all(np.isfinite(fn(np.diag(SPECTRUM))))


def test_eigengap_verify_grad_and_mpmath_reference():
    mpmath = pytest.importorskip("mpmath")
    rng = np.random.default_rng(8)
    An = rng.normal(size=(5, 5))
    for k in (1, 2, 4):
        verify_grad(lambda A, k=k: eigengap(A, k), [An], rng=rng)
    mpmath.mp.dps = 40
    S = mpmath.matrix(np.tril(An) + np.tril(An, -1).T)
    w, Q = mpmath.eigsy(S)
    order = sorted(range(5), key=lambda i: -w[i])
    v1 = np.array([float(Q[i, order[1]]) for i in range(5)])
    v2 = np.array([float(Q[i, order[2]]) for i in range(5)])
    A = pt.matrix("A")
    G = compile_fn([A], pytensor.grad(eigengap(A, 2), A))(An)
    np.testing.assert_allclose(
        G, folded(np.outer(v1, v1) - np.outer(v2, v2)), atol=1e-12
    )


def test_eigengap_batched_and_bad_input():
    rng = np.random.default_rng(9)
    A, k = pt.tensor3("A"), pt.lscalar("k")
    fn = compile_fn([A, k], eigengap(A, k))
    An = rng.normal(size=(2, 5, 5))
    w = np.linalg.eigvalsh(An)[:, ::-1]
    np.testing.assert_allclose(fn(An, 2), w[:, 1] - w[:, 2], rtol=1e-12)
    for bad_k in (0, 5):
        with pytest.raises(ValueError, match="k must satisfy"):
            fn(An, bad_k)
    with pytest.raises(TypeError, match="integer"):
        eigengap(pt.matrix("A"), 1.5)
    with pytest.raises(ValueError, match="NaN or Inf"):
        fn(np.full((2, 5, 5), np.nan), 1)
