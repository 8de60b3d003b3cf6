"""Jitted kernels of the leading-value ops: the largest eigenpair of a symmetric matrix
stored in one triangle, and the leading singular triplet, by thick-restart Lanczos
(`pytensor_spectral._lanczos`) with a dense LAPACK ``syevr`` fallback for small
matrices and when the iteration does not converge."""

import numpy as np
from numba import njit

from pytensor_spectral import _lanczos, _schur, _symmetric


@njit(cache=True)
def default_start_vector(n, dtype):
    """A fixed, dense unit vector (deterministic, unlikely to be orthogonal to any
    eigenvector): ``cos(2.4 i + 0.5)`` normalized (as
    `pytensor_spectral.iterative.default_start_vector`)."""
    x = np.cos(2.4 * np.arange(n) + 0.5).astype(dtype)
    return x / np.sqrt(np.sum(x * x))


@njit(cache=True)
def start_vector(v0, n, dtype):
    """The warm start ``v0``, or `default_start_vector` for a zero ``v0`` (no
    information); ``ValueError`` for NaN/Inf entries or a length other than ``n``."""
    if v0.shape[0] != n:
        raise ValueError("The start vector v0 must have one entry per column of A")
    for x in v0:
        if not np.isfinite(x):
            raise ValueError("The start vector v0 has NaN or Inf entries")
    if not np.any(v0):
        return default_start_vector(v0.shape[0], dtype)
    return v0.astype(dtype)


@njit(cache=True)
def restart_bound(size, krylov_dim, max_restarts):
    """``max_restarts``, or for ``-1`` (the default) as many restarts as fit in about
    ``size / 2`` products (at least 2), past which a dense O(size³) solve is cheaper."""
    if max_restarts >= 0:
        return max_restarts
    m = min(krylov_dim, size)
    new_per_restart = max(m - _lanczos.keep_count(m), 1)
    return max(2, (size // 2 - m) // new_per_restart)


@njit(cache=True)
def _checked_scale(A, name, triangle):
    """`pytensor_spectral._schur.power_of_two_near` the largest entry of ``A`` in modulus
    (``triangle``: ``"L"``/``"U"``, of that triangle only; ``"A"``: all of it), in one
    pass that raises ``ValueError`` for an empty ``A`` or a NaN/Inf entry anywhere."""
    if A.size == 0:
        raise ValueError(name + ": A is empty")
    largest = 0.0
    for i in range(A.shape[0]):
        for j in range(A.shape[1]):
            x = A[i, j]
            if not np.isfinite(x):
                raise ValueError("Matrix contains NaN or Inf entries")
            counted = triangle == "A" or (j <= i if triangle == "L" else j >= i)
            if counted and abs(x) > largest:
                largest = abs(x)
    return _schur.power_of_two_near(largest, A)


@njit(cache=True)
def _positive_gauge(v):
    """``+1`` or ``-1``: the sign that makes the largest-modulus entry of ``v`` positive
    (ties: the lowest index)."""
    return -1.0 if v[np.argmax(np.abs(v))] < 0 else 1.0


@njit(cache=True)
def _top_eigenvector(S):
    """Unit eigenvector of the largest eigenvalue of the symmetric ``S`` (``syevr``)."""
    return _symmetric.symmetric_eigpairs(S, S.shape[0], S.shape[0])[1][:, 0].copy()


@njit(cache=True)
def leading_eigenpair(A, v0, lower, krylov_dim, max_restarts, tol, crossover):
    """Largest eigenvalue and unit eigenvector of the symmetric matrix in the lower
    (``lower``) or upper triangle of ``A``.

    Returns ``(lam, v, products)``: ``v`` with its largest-modulus entry positive,
    ``products`` the number of products with the matrix Lanczos used (0 when
    ``n < crossover``). The dense path runs below the crossover and when Lanczos did not
    converge.
    """
    c = _checked_scale(A, "leading_eigenpair", "L" if lower else "U")
    n = A.shape[0]
    products = 0
    converged = False
    lam = 0.0
    v = np.zeros(n, dtype=A.dtype)
    if n >= crossover:
        lam, v, converged, products = _lanczos.krylov_schur(
            np.ascontiguousarray(A),
            _lanczos.LOWER if lower else _lanczos.UPPER,
            c,
            start_vector(v0, n, A.dtype),
            krylov_dim,
            restart_bound(n, krylov_dim, max_restarts),
            tol,
        )
    if not converged:
        S = _symmetric.symmetrize_triangle(A, lower, False) / c
        w, Z = _symmetric.symmetric_eigpairs(S, n, n)
        lam, v = w[0], Z[:, 0].copy()
    v = (_positive_gauge(v) / _schur.frobenius_norm(v) * v).astype(A.dtype)
    return c * lam, v, products


@njit(cache=True)
def leading_singular_triplet(A, v0, krylov_dim, max_restarts, tol, crossover):
    r"""Leading singular triplet ``(u, sigma, v)`` of ``A`` and the number of products
    with :math:`A^\top A` Lanczos used (0 when ``min(m, n) < crossover``). The dense path
    runs below the crossover and when Lanczos did not converge.

    ``v`` is the largest eigenvector of :math:`A^\top A`, ``u = A v / ‖A v‖`` (zero if
    ``A v = 0``), ``sigma = ‖A v‖``; the largest-modulus entry of ``u`` is positive.
    """
    c = _checked_scale(A, "leading_singular_triplet", "A")
    A = np.ascontiguousarray(A)
    m, n = A.shape
    products = 0
    converged = False
    v = np.zeros(n, dtype=A.dtype)
    if min(m, n) >= crossover:
        _, v, converged, products = _lanczos.krylov_schur(
            A,
            _lanczos.GRAM,
            c,
            start_vector(v0, n, A.dtype),
            krylov_dim,
            restart_bound(min(m, n), krylov_dim, max_restarts),
            tol,
        )
    if not converged:
        scaled = A / c
        v = _top_eigenvector(scaled.T @ scaled)
    v = (v / _schur.frobenius_norm(v)).astype(A.dtype)
    Av = (A @ v) / c
    norm = _schur.frobenius_norm(Av)
    u = (Av / norm).astype(A.dtype) if norm > 0 else np.zeros(m, dtype=A.dtype)
    sign = _positive_gauge(u)
    return (sign * u).astype(A.dtype), c * norm, (sign * v).astype(A.dtype), products
