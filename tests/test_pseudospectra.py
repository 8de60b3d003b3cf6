"""The pseudospectral abscissa and the distance to instability: values against brute-force
grids of the smallest singular value, a published value, closed forms for normal and
Jordan blocks, the global certificate on a local-maximum trap, gradients against finite
differences and closed forms, second derivatives raising, and bad input."""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
import scipy.linalg
from pytensor.gradient import NullTypeGradError, pushforward, verify_grad

from pytensor_spectral import (
    _pseudospectra,
    distance_to_instability,
    pseudospectral_abscissa,
    spectral_abscissa,
)
from tests.helpers import compile_fn


rng = np.random.default_rng(2003)


def sigma_min(A, z):
    """``σ_min(zI − A)`` for an array of points ``z`` (batched SVD)."""
    z = np.asarray(z)
    M = z[..., None, None] * np.eye(len(A)) - A
    return np.linalg.svd(M, compute_uv=False)[..., -1]


def grid_abscissa(A, eps, steps=301):
    """The largest real part among grid points with ``σ_min ≤ ε`` and the grid step, on
    a box around the ε-pseudospectrum (which lies within ``ε`` of the numerical range)."""
    omega = np.linalg.eigvalsh((A + A.T) / 2)[-1] + eps
    radius = np.linalg.norm(A, 2) + eps
    x = np.linspace(-radius, omega, steps)
    y = np.linspace(-radius, radius, steps)
    Z = x[None, :] + 1j * y[:, None]
    inside = sigma_min(A, Z) <= eps
    return x[np.nonzero(inside.any(axis=0))[0].max()], max(x[1] - x[0], y[1] - y[0])


def grcar(n, k=3):
    return -np.eye(n, k=-1) + sum(np.eye(n, k=j) for j in range(k + 1))


def orthogonal(n):
    return np.linalg.qr(rng.normal(size=(n, n)))[0]


def normal_matrix(n):
    """``Q D Qᵀ`` with ``D`` block diagonal: a rotation-scaling pair and real values."""
    pair = [[0.4, 1.3], [-1.3, 0.4]]
    D = scipy.linalg.block_diag(pair, np.diag(-0.5 - rng.random(n - 2)))
    Q = orthogonal(n)
    return Q @ D @ Q.T


def trap(n=50, eps=0.1, a=0.3, k=1.6):
    """Leading normal pair ``0.47 ± i`` (local maximum of the boundary at ``0.57``) and a
    Jordan-like block ``[[a, k], [0, a]]`` whose pseudospectrum is the disk of radius
    ``√(ε² + kε)`` about ``a``: the global maximum ``a + √(ε² + kε) = 0.712…`` is on the
    real axis, hidden from an iteration started at the leading pair."""
    pair = [[0.47, 1.0], [-1.0, 0.47]]
    B = scipy.linalg.block_diag(pair, [[a, k], [0, a]], np.diag(-1 - rng.random(n - 4)))
    Q = orthogonal(n)
    return Q @ B @ Q.T, a + np.sqrt(eps**2 + k * eps)


@pytest.fixture(scope="module")
def abscissa_fn():
    A, eps = pt.matrix("A"), pt.scalar("eps")
    value = pseudospectral_abscissa(A, eps)
    return pytensor.function([A, eps], [value, *pytensor.grad(value, [A, eps])])


@pytest.fixture(scope="module")
def distance_fn():
    A = pt.matrix("A")
    value = distance_to_instability(A)
    return pytensor.function([A], [value, pytensor.grad(value, A)])


def stable(A, margin=0.3):
    return A - (np.linalg.eigvals(A).real.max() + margin) * np.eye(len(A))


def non_normal_triangular(n):
    return np.triu(rng.normal(size=(n, n)), 1) * 2 + np.diag(rng.normal(size=n))


def complex_pair_leading(n):
    B = rng.normal(size=(n, n)) * 0.3
    B[:2, :2] = [[1.5, 2.0], [-2.0, 1.5]]
    return B


# ----------------------------------------------------------------------- values


def test_complex_schur_form():
    A = complex_pair_leading(7)
    T, Z = _pseudospectra.complex_schur(A)
    np.testing.assert_allclose(Z @ T @ Z.conj().T, A, atol=1e-13)
    np.testing.assert_allclose(Z.conj().T @ Z, np.eye(7), atol=1e-14)
    assert not np.any(np.tril(T, -1))
    T_ref, _ = scipy.linalg.rsf2csf(*scipy.linalg.schur(A))
    distance = np.abs(np.subtract.outer(np.diag(T), np.diag(T_ref)))
    assert distance.min(axis=0).max() < 1e-12 and distance.min(axis=1).max() < 1e-12


@pytest.mark.parametrize(
    "build",
    [
        lambda: rng.normal(size=(6, 6)),
        lambda: non_normal_triangular(6),
        lambda: grcar(8),
        lambda: complex_pair_leading(6),
    ],
    ids=["random", "triangular", "grcar8", "complex_pair"],
)
@pytest.mark.parametrize("eps", [0.05, 0.5])
def test_abscissa_against_a_grid(abscissa_fn, build, eps):
    A = build()
    value = abscissa_fn(A, eps)[0]
    best, step = grid_abscissa(A, eps)
    assert best <= value + 1e-12
    assert best >= value - 2 * step  # the grid maximum is within a grid step below
    assert value >= np.linalg.eigvals(A).real.max() + eps - 1e-12


def test_grcar_published_value(abscissa_fn):
    # EigTool / Trefethen & Embree: the Grcar matrix of order 100, ε = 1e-4
    assert abs(abscissa_fn(grcar(100), 1e-4)[0] - 2.41276) < 5e-6


def test_normal_matrices_closed_forms(abscissa_fn, distance_fn):
    A = normal_matrix(7)
    alpha = np.linalg.eigvals(A).real.max()
    value, G, d_eps = abscissa_fn(A, 0.2)
    np.testing.assert_allclose(value, alpha + 0.2, rtol=1e-12)
    np.testing.assert_allclose(d_eps, 1.0, rtol=1e-10)
    M = pt.matrix("M")
    G_alpha = compile_fn([M], pytensor.grad(spectral_abscissa(M), M))
    np.testing.assert_allclose(G, G_alpha(A), atol=1e-10)
    S = A - np.eye(7)  # stable, normal
    beta, G_beta = distance_fn(S)
    np.testing.assert_allclose(beta, -(alpha - 1), rtol=1e-12)
    np.testing.assert_allclose(G_beta, -G_alpha(S), atol=1e-10)


def test_jordan_block_closed_form(abscissa_fn):
    # σ_min((a + r) I − J) = ε on the real axis for r = √(ε² + kε), J = [[a, k], [0, a]]
    a, k, eps = -0.2, 3.0, 0.01
    value, _, d_eps = abscissa_fn(np.array([[a, k], [0.0, a]]), eps)
    r = np.sqrt(eps**2 + k * eps)
    np.testing.assert_allclose(value, a + r, rtol=1e-13)
    np.testing.assert_allclose(d_eps, (2 * eps + k) / (2 * r), rtol=1e-9)


def test_certificate_escapes_a_local_maximum(abscissa_fn):
    A, expected = trap()
    np.testing.assert_allclose(abscissa_fn(A, 0.1)[0], expected, rtol=1e-12)
    rounds = _pseudospectra.pseudospectral_abscissa(A, 0.1)[3]
    assert rounds >= 1  # the local iteration stopped at 0.57; the certificate went on


def test_abscissa_tends_to_the_spectral_abscissa(abscissa_fn):
    A = rng.normal(size=(5, 5))
    w, V = np.linalg.eig(A)
    condition = np.linalg.cond(V)
    for eps in (1e-2, 1e-4, 1e-6, 1e-8):
        excess = abscissa_fn(A, eps)[0] - w.real.max()
        assert eps * (1 - 1e-6) <= excess <= 1.01 * condition * eps


def test_distance_against_a_frequency_grid(distance_fn):
    for A in (stable(rng.normal(size=(6, 6))), stable(non_normal_triangular(5))):
        beta = distance_fn(A)[0]
        top = np.abs(np.linalg.eigvals(A).imag).max() + 2
        omega = np.linspace(-top, top, 40001)
        on_grid = sigma_min(A, 1j * omega).min()
        assert beta <= on_grid + 1e-12
        assert on_grid - beta <= 1e-6
        assert beta <= -np.linalg.eigvals(A).real.max() + 1e-12


def test_distance_of_an_unstable_matrix_is_zero(distance_fn):
    beta, G = distance_fn(np.array([[0.1, 2.0], [0.0, -1.0]]))
    assert beta == 0 and not np.any(G)


def test_distance_certificate_finds_the_global_minimum(distance_fn):
    # Normal pairs nearest the axis (local minima 0.5, 0.6, ... at ω = 0.2, 1, 2, 3),
    # where the local iterations start, and a far non-normal block with eigenvalues
    # -1 ± 10i (minimum ≈ 0.1 near ω = 10).
    R = np.array([[-1.0, 10.0], [-10.0, -1.0]])
    far = np.block([[R, 10 * np.eye(2)], [np.zeros((2, 2)), R]])
    pairs = [[[-a, b], [-b, -a]] for a, b in ((0.5, 0.2), (0.6, 1), (0.7, 2), (0.8, 3))]
    B = scipy.linalg.block_diag(*pairs, far)
    Q = orthogonal(12)
    A = Q @ B @ Q.T
    beta = distance_fn(A)[0]
    omega = np.linspace(-12, 12, 240001)
    np.testing.assert_allclose(beta, sigma_min(A, 1j * omega).min(), rtol=1e-6)
    assert beta < 0.2
    assert _pseudospectra.distance_to_instability(A)[2] >= 1  # found by the certificate


# ----------------------------------------------------------------------- gradients


def central_differences(f, A, directions, h=1e-6):
    return np.array([(f(A + h * E) - f(A - h * E)) / (2 * h) for E in directions])


def unit_directions(n):
    return [np.eye(n * n)[k].reshape(n, n) for k in range(n * n)]


@pytest.mark.parametrize(
    "build",
    [
        lambda: rng.normal(size=(8, 8)),
        lambda: non_normal_triangular(6),
        lambda: complex_pair_leading(6),
    ],
    ids=["random", "triangular", "complex_pair"],
)
def test_abscissa_gradient_all_entries(abscissa_fn, build):
    A, eps = build(), 0.1
    _, G, d_eps = abscissa_fn(A, eps)
    directions = unit_directions(len(A))
    fd = central_differences(lambda M: abscissa_fn(M, eps)[0], A, directions)
    np.testing.assert_allclose(fd.reshape(A.shape), G, atol=1e-6 * np.abs(G).max())
    h = 1e-6
    fd_eps = (abscissa_fn(A, eps + h)[0] - abscissa_fn(A, eps - h)[0]) / (2 * h)
    np.testing.assert_allclose(d_eps, fd_eps, rtol=1e-6)


def test_distance_gradient_all_entries(distance_fn):
    A = stable(rng.normal(size=(8, 8)))
    G = distance_fn(A)[1]
    fd = central_differences(lambda M: distance_fn(M)[0], A, unit_directions(8))
    np.testing.assert_allclose(fd.reshape(A.shape), G, atol=1e-6 * np.abs(G).max())


def test_gradients_along_random_directions_n50(abscissa_fn, distance_fn):
    A = rng.normal(size=(50, 50)) / np.sqrt(50)
    directions = list(rng.normal(size=(3, 50, 50)))
    G = abscissa_fn(A, 0.05)[1]
    fd = central_differences(lambda M: abscissa_fn(M, 0.05)[0], A, directions)
    np.testing.assert_allclose(fd, [np.sum(G * E) for E in directions], rtol=1e-6)
    S = stable(A)
    G = distance_fn(S)[1]
    fd = central_differences(lambda M: distance_fn(M)[0], S, directions)
    np.testing.assert_allclose(fd, [np.sum(G * E) for E in directions], rtol=1e-6)


def test_verify_grad():
    A = rng.normal(size=(4, 4))
    verify_grad(pseudospectral_abscissa, [A, np.array(0.3)], rng=rng)
    verify_grad(distance_to_instability, [stable(A)], rng=rng)


def test_pushforward_matches_the_gradient(abscissa_fn):
    A, eps = pt.matrix("A"), pt.scalar("eps")
    dA, d_eps = pt.matrix("dA"), pt.scalar("d_eps")
    (tangent,) = pushforward(
        [pseudospectral_abscissa(A, eps)],
        [A, eps],
        [dA, d_eps],
        use_op_pushforward=True,
    )
    f = pytensor.function([A, eps, dA, d_eps], tangent)
    A_val, E = rng.normal(size=(2, 5, 5))
    _, G, g_eps = abscissa_fn(A_val, 0.2)
    np.testing.assert_allclose(
        f(A_val, 0.2, E, 0.5), np.sum(G * E) + 0.5 * g_eps, rtol=1e-12
    )


def test_second_derivatives_raise_clearly():
    A = pt.matrix("A")
    for value in (pseudospectral_abscissa(A, 0.1), distance_to_instability(A)):
        g = pytensor.grad(value, A)
        with pytest.raises(NullTypeGradError, match="second derivatives"):
            pytensor.grad(pt.sum(g**2), A)


# ---------------------------------------------------------- batches, dtypes, bad input


def test_batched_and_float32(abscissa_fn, distance_fn):
    A = pt.tensor3("A")
    values = rng.normal(size=(3, 5, 5))
    f = pytensor.function(
        [A],
        [pseudospectral_abscissa(A, 0.1), distance_to_instability(A - 3 * pt.eye(5))],
    )
    alpha_eps, beta = f(values)
    np.testing.assert_allclose(alpha_eps, [abscissa_fn(M, 0.1)[0] for M in values])
    np.testing.assert_allclose(
        beta, [distance_fn(M - 3 * np.eye(5))[0] for M in values]
    )
    A32 = pt.fmatrix("A32")
    value = pseudospectral_abscissa(A32, np.float32(0.1))
    f32 = pytensor.function([A32], [value, pytensor.grad(value, A32)])
    M32 = values[0].astype(np.float32)
    got, G = f32(M32)
    assert got.dtype == G.dtype == np.float32
    want, G_want, _ = abscissa_fn(M32.astype(np.float64), 0.1)
    np.testing.assert_allclose(got, want, rtol=1e-6)
    np.testing.assert_allclose(G, G_want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mode", ["cvm", "numba"])
def test_bad_input(mode):
    A, eps = pt.matrix("A"), pt.scalar("eps")
    f = compile_fn([A, eps], pseudospectral_abscissa(A, eps), mode)
    g = compile_fn([A], distance_to_instability(A), mode)
    for bad in (np.full((3, 3), np.nan), np.array([[1.0, np.inf], [0.0, 1.0]])):
        with pytest.raises(ValueError, match="NaN or Inf"):
            f(bad, 0.1)
        with pytest.raises(ValueError, match="NaN or Inf"):
            g(bad)
    with pytest.raises(ValueError, match="empty"):
        f(np.zeros((0, 0)), 0.1)
    with pytest.raises(ValueError, match="empty"):
        g(np.zeros((0, 0)))
    for bad_eps in (0.0, -1.0, np.nan, np.inf):
        with pytest.raises(ValueError, match="eps must be positive and finite"):
            f(np.eye(2), bad_eps)


def test_bad_arguments_at_construction():
    with pytest.raises(ValueError, match="eps must be positive"):
        pseudospectral_abscissa(pt.matrix("A"), 0.0)
    with pytest.raises(ValueError, match="square"):
        distance_to_instability(pt.tensor("A", shape=(2, 3)))
    with pytest.raises(TypeError, match="real"):
        pseudospectral_abscissa(pt.zmatrix("A"), 0.1)
