"""The recursive blocked Lyapunov solver (`pytensor_spectral._quasi_triangular`) against
SciPy's ``solve_continuous_lyapunov``: random, non-normal and 2 x 2-block-heavy
quasi-triangular matrices at sizes that reach every leaf and split case (1 x 1, leaves
of ``LEAF ± 1``, odd splits, splits that would cut a 2 x 2 block), both orientations,
general symmetric right-hand sides, and the fallback to one ``trsyl`` call."""

import numpy as np
import pytest
import scipy.linalg
from numba import njit

from pytensor_spectral import _lyapunov, _quasi_triangular
from pytensor_spectral._quasi_triangular import LEAF


@njit
def solve(M, C, transposed):
    """`lyapunov` on column-major copies; returns ``(X, ok)``."""
    n = M.shape[0]
    Mf = np.empty((n, n)).T
    Mf[:, :] = M
    X = np.empty((n, n)).T
    X[:, :] = C
    ok = _quasi_triangular.lyapunov(Mf, X, transposed)
    return np.ascontiguousarray(X), ok


@njit
def shifted(T, s, adjoint):
    return np.ascontiguousarray(_lyapunov.shifted_lyapunov(T, s, adjoint))


@njit
def unblocked(T, s, adjoint):
    return np.ascontiguousarray(_lyapunov.unblocked_lyapunov(T, s, adjoint))


def stable_schur(rng, n, kind):
    """Upper quasi-triangular ``T - sI`` with its spectrum in the open left half plane:
    the real Schur form of a random, a non-normal or a rotation-heavy matrix."""
    if kind == "random":
        A = rng.normal(size=(n, n))
    elif kind == "nonnormal":
        A = (
            -np.eye(n)
            + np.diag(np.full(n - 1, 8.0), 1)
            + 0.01 * rng.normal(size=(n, n))
        )
    else:  # 2 x 2 blocks (complex pairs) everywhere but possibly one
        D = np.zeros((n, n))
        for j in range(0, n - 1, 2):
            D[j : j + 2, j : j + 2] = [[-0.3 * j, -1.0 - j], [1.0 + j, -0.3 * j]]
        if n % 2:
            D[-1, -1] = -0.5
        S = rng.normal(size=(n, n)) + 3 * np.eye(n)
        A = S @ D @ np.linalg.inv(S)
    T = scipy.linalg.schur(A)[0]
    return T - (np.linalg.eigvals(A).real.max() + 0.5) * np.eye(n)


SIZES = [1, 2, 3, 5, LEAF - 1, LEAF, LEAF + 1, 2 * LEAF, 2 * LEAF + 1, 97, 160]


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("kind", ["random", "nonnormal", "pairs"])
@pytest.mark.parametrize("transposed", [False, True])
def test_matches_scipy(n, kind, transposed):
    rng = np.random.default_rng(n)
    M = stable_schur(rng, n, kind)
    B = rng.normal(size=(n, n))
    C = B + B.T
    X, ok = solve(M, C, transposed)
    assert ok
    op = M.T if transposed else M
    reference = scipy.linalg.solve_continuous_lyapunov(op, C)
    scale = np.abs(reference).max()
    np.testing.assert_allclose(X, reference, rtol=0, atol=1e-10 * scale)
    np.testing.assert_array_equal(X, X.T)
    residual = op @ X + X @ op.T - C
    assert np.abs(residual).max() <= 1e-12 * np.abs(op).max() * scale * n


def test_split_points_never_cut_a_pair():
    """Every range of at least 3 rows between block boundaries is split inside, and a
    middle inside a 2 x 2 block moves past it."""
    rng = np.random.default_rng(1)
    n = 2 * LEAF + 3
    M = stable_schur(rng, n, "pairs")
    boundaries = [k for k in range(n + 1) if k in (0, n) or M[k, k - 1] == 0]
    assert len(boundaries) < n // 2 + 3  # mostly pairs
    for k0 in boundaries:
        for k1 in boundaries:
            if k1 - k0 >= 3:
                mid = _quasi_triangular.split_point(M, k0, k1)
                assert k0 < mid < k1 and M[mid, mid - 1] == 0


@pytest.mark.parametrize("adjoint", [False, True])
def test_shifted_solve_equals_one_trsyl_call(adjoint):
    """`shifted_lyapunov` (recursive) and `unblocked_lyapunov` (LAPACK ``trsyl`` on the
    whole matrix) solve the same shifted equation."""
    rng = np.random.default_rng(2)
    A = rng.normal(size=(150, 150))
    T = scipy.linalg.schur(A)[0]
    s = np.linalg.eigvals(A).real.max() + 0.1
    X = shifted(T, s, adjoint)
    Y = unblocked(T, s, adjoint)
    np.testing.assert_allclose(X, Y, rtol=0, atol=1e-11 * np.abs(Y).max())


def test_a_scaled_leaf_is_reported_and_falls_back():
    """A solution beyond the floating-point range makes a ``trsyl`` leaf scale it: the
    recursive solver reports failure (its block updates cannot carry the scale), and
    `shifted_lyapunov` returns what one ``trsyl`` call on the whole matrix gives."""
    n = 3 * LEAF
    T = -1e-5 * np.eye(n) + np.eye(n, k=1)  # X grows like 1e5 per step along the chain
    for transposed in (False, True):
        assert not solve(T, -np.eye(n), transposed)[1]
        X = shifted(T, 0.0, transposed)
        np.testing.assert_array_equal(X, unblocked(T, 0.0, transposed))
