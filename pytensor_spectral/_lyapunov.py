r"""Jitted kernels for the smoothed spectral abscissa (Vanbiervliet et al., 2009).

With :math:`A = Q T Q^\top` (real Schur form, computed once), the shifted Lyapunov
equations :math:`(A - sI)P + P(A - sI)^\top + I = 0` and its adjoint
:math:`(A - sI)^\top R + R(A - sI) + I = 0` become quasi-triangular Lyapunov equations
in :math:`T - sI`, since :math:`Q^\top I Q = I` and ``tr P`` is invariant; they are
solved by the recursive blocked solver of `pytensor_spectral._quasi_triangular` (BLAS
level 3, LAPACK ``trsyl`` on small leaves), each orientation in its own form.
"""

import numpy as np
from numba import njit
from numba.extending import overload
from numba.np.linalg import ensure_lapack
from pytensor.link.numba.dispatch.linalg._LAPACK import (
    _LAPACK,
    int_ptr_to_val,
    val_to_int_ptr,
)

from pytensor_spectral import _quasi_triangular, _schur


MAX_ITERATIONS = 100


@njit(cache=True)
def shifted_lyapunov(T, s, adjoint):
    """Solve ``(T - sI) X + X (T - sI)ᵀ = -I`` (or the adjoint, ``adjoint=True``,
    ``(T - sI)ᵀ X + X (T - sI) = -I``) for quasi-triangular ``T`` in Schur form, by the
    recursive blocked solver; by one ``trsyl`` call where a leaf of it had to scale its
    solution (near overflow)."""
    n = T.shape[0]
    M = np.empty((n, n), dtype=T.dtype).T  # column-major
    M[:, :] = T
    X = np.zeros((n, n), dtype=T.dtype).T
    for i in range(n):
        M[i, i] -= s
        X[i, i] = -1.0
    if _quasi_triangular.lyapunov(M, X, adjoint):
        return X
    return unblocked_lyapunov(T, s, adjoint)


def unblocked_lyapunov(T, s, adjoint):
    """`shifted_lyapunov` by one LAPACK ``trsyl`` call on the whole matrix (it scales its
    solution where it would overflow)."""
    raise NotImplementedError("unblocked_lyapunov is only callable from jitted code")


@overload(unblocked_lyapunov)
def _unblocked_lyapunov_impl(T, s, adjoint):
    ensure_lapack()
    dtype = T.dtype
    xtrsyl = _LAPACK().numba_xtrsyl(dtype)

    def impl(T, s, adjoint):
        n = T.shape[0]
        ld = val_to_int_ptr(max(n, 1))
        shifted = np.asfortranarray((T - s * np.eye(n, dtype=dtype)).astype(dtype))
        X = np.asfortranarray(-np.eye(n, dtype=dtype))
        scale = np.ones(1, dtype=dtype)
        info = val_to_int_ptr(0)
        trana, tranb = (ord("T"), ord("N")) if adjoint else (ord("N"), ord("T"))
        xtrsyl(
            val_to_int_ptr(trana),
            val_to_int_ptr(tranb),
            val_to_int_ptr(1),
            val_to_int_ptr(n),
            val_to_int_ptr(n),
            shifted.ctypes,
            ld,
            shifted.ctypes,
            ld,
            X.ctypes,
            ld,
            scale.ctypes,
            info,
        )
        if int_ptr_to_val(info) < 0:
            raise ValueError("trsyl: invalid argument")
        return X / scale[0]

    return impl


@njit(cache=True)
def symmetric_part_bound(A):
    """An upper bound of ``ω(A) = λmax((A + Aᵀ)/2)``: the smaller of the Gershgorin bound
    and the Frobenius norm of the symmetric part (O(n²), no eigenvalues)."""
    S = 0.5 * (A + A.T)
    gershgorin = np.max(np.diag(S) + np.sum(np.abs(S), axis=1) - np.abs(np.diag(S)))
    return min(gershgorin, np.sqrt(np.sum(S * S)))


@njit(cache=True)
def normal_lower_bound(wr, eps):
    """Root of ``Σ_k 1/(2(s - Re λ_k)) = 1/ε``: the SSA of a normal matrix with these
    eigenvalue real parts, a lower bound of the SSA (``tr P(s)`` is at least this sum,
    the diagonal of ``e^{Tt}`` being ``e^{λ_k t}``) and at least ``alpha + ε/2``.

    Newton's method on the concave, increasing ``1/Σ_k 1/(2(s - Re λ_k)) - ε`` from
    ``alpha + ε/2`` converges monotonically from below; O(n) per step.
    """
    s = np.max(wr) + 0.5 * eps
    for _ in range(MAX_ITERATIONS):
        d = s - wr
        d_min = np.min(d)
        f = np.sum(0.5 / d)
        # (ε - 1/f) f² / Σ 1/(2d²), with no product of two 1/d-sized factors (float32 range)
        step = (eps * f - 1.0) * (f * d_min) * d_min / np.sum(0.5 * (d_min / d) ** 2)
        if not step > 16 * np.finfo(wr.dtype).eps * (abs(s) + eps):
            break
        s += step
    return s


@njit(cache=True)
def check_eps(eps):
    """Raise ``ValueError`` unless ``eps`` is positive and finite."""
    if not (np.isfinite(eps) and eps > 0):
        raise ValueError("ssa: eps must be positive and finite")


@njit(cache=True)
def ssa(A, eps):
    r"""Smoothed spectral abscissa of ``A`` and its derivatives.

    Returns ``(value, G, d_eps, solves)``: the root ``s`` of ``1/tr P(s) = ε``, the
    gradient ``G = Q R P Qᵀ / tr(R P)`` (``P, R`` the Lyapunov solution and its adjoint,
    in Schur coordinates), ``∂s/∂ε = 1 / (2 ε² tr(R P))`` and the number of Lyapunov
    solves.

    ``tr P(s)`` decreases from infinity at ``alpha`` (``d tr P/ds = -2 tr(R P)``); its
    root is bracketed by ``alpha + ε/2 ≤ s ≤ ω + nε/2``. From the lower end
    (`normal_lower_bound`) one Newton step, then secant steps, each needing ``P`` only
    (one solve instead of Newton's two: order 1.62 per solve against 1.41), and the
    adjoint ``R`` once more at the root for the derivatives; in the variable
    ``log(s - alpha)``, in which ``log tr P`` is nearly linear (see `_scaled_ssa`). A
    step that leaves the current bracket is replaced by bisection, which makes the
    iteration safe for non-normal matrices.

    ``A`` and ``ε`` are first divided by a power of two near ``max(max |A_ij|, ε)``
    (exact; ``ssa(cA, cε) = c ssa(A, ε)``, ``G`` and ``∂s/∂ε`` unchanged), and no product
    of two quantities of size ``1/ε`` is formed, so float32 matrices of entries ``1e±30``
    stay in range. An ``ε`` below ``100 ε_mach max |A_ij|`` raises ``ValueError``: the root
    is then not resolved from ``alpha`` in working precision.
    """
    _schur.check_square_finite(A)
    if A.shape[0] == 0:
        raise ValueError(
            "ssa: the smoothed spectral abscissa of an empty matrix is undefined"
        )
    check_eps(eps)
    largest = np.max(np.abs(A))
    if eps < 100 * np.finfo(A.dtype).eps * largest:
        raise ValueError(
            "ssa: eps is below the working precision of the entries of A "
            "(eps < 100 ε max|A_ij|): the smoothed spectral abscissa equals the spectral "
            "abscissa to working precision and its derivatives cannot be computed; use "
            "spectral_abscissa or a larger eps"
        )
    c = _schur.power_of_two_near(max(largest, eps), A)
    value, G, d_eps, solves = _scaled_ssa(A / c, eps / c)
    return value * c, G, d_eps, solves


@njit(cache=True)
def _derivative_factors(P, R):
    """``(R / tr R, tr(R P) / tr R)``: ``tr(R P)`` is formed as ``tr((R / tr R) P)`` since
    ``P, R`` are of size ``1/ε`` (``tr(R P)`` and ``tr(P)²`` can leave the float32 range
    where these factors do not)."""
    R_unit = (R / np.trace(R)).astype(R.dtype)
    return R_unit, np.sum(R_unit * P)


@njit(cache=True)
def _scaled_ssa(A, eps):
    """`ssa` of a finite, non-empty ``A`` with entries of order one (``ssa(cA, cε) = c
    ssa(A, ε)``, the gradient in ``A`` and the derivative in ``ε`` are unchanged).

    The root is sought in ``u = log(s - alpha)`` of ``φ(u) = log(ε tr P)``, which is
    linear in ``u`` where ``tr P`` behaves like ``c (s - alpha)^-k`` (one leading
    eigenvalue, or a Jordan-like block of it): one Newton step from the lower bound
    (``dφ/du = -2 (s - alpha) tr(R P) / tr P``), then secant steps, each a solve for
    ``P`` only; a step that leaves the bracket of the root is replaced by bisection of
    the bracket in ``u``."""
    n = A.shape[0]
    wr, _, T, Q = _schur.schur_eigvals(A, True)
    alpha = np.max(wr)
    lo = normal_lower_bound(wr, eps)
    hi = max(symmetric_part_bound(A) + 0.5 * n * eps, lo)
    rel = np.finfo(A.dtype).eps
    s = lo
    P = shifted_lyapunov(T, s, False)
    R = shifted_lyapunov(T, s, True)
    solves = 2
    phi = np.log(eps * np.trace(P))
    _, rp = _derivative_factors(P, R)
    du = phi * np.trace(P) / (2.0 * (s - alpha) * rp * np.trace(R))
    r_at_s = True  # whether R belongs to the current point s
    previous = np.inf
    for _ in range(MAX_ITERATIONS):
        if phi > 0:
            lo = s
        else:
            hi = s
        # du is NaN where the secant slope was not negative: bisect then
        step = alpha + (s - alpha) * np.exp(du) - s
        scale = abs(s) + eps
        # converged, or stagnating at the rounding level of tr P (no fast decrease)
        converged = abs(step) <= 16 * rel * scale or (
            abs(step) > 0.5 * previous and previous <= rel**0.75 * scale
        )
        if converged or hi - lo <= 4 * rel * max(abs(lo), abs(hi)):
            if not r_at_s:
                R = shifted_lyapunov(T, s, True)
                solves += 1
            R_unit, rp = _derivative_factors(P, R)
            G = Q @ (R_unit @ P) @ Q.T / rp
            d_eps = 1.0 / (2.0 * (eps * np.trace(R)) * (eps * rp))
            return s + (step if np.isfinite(step) else 0.0), G, d_eps, solves
        if lo < s + step < hi:
            s_next = s + step
            previous = abs(step)
        else:  # the middle of the bracket in u
            s_next = alpha + np.sqrt((lo - alpha) * (hi - alpha))
            previous = np.inf
        P = shifted_lyapunov(T, s_next, False)
        solves += 1
        r_at_s = False
        phi_next = np.log(eps * np.trace(P))
        slope = (phi_next - phi) / np.log((s_next - alpha) / (s - alpha))
        du = -phi_next / slope if slope < 0 else np.nan
        s, phi = s_next, phi_next
    raise ValueError(
        "ssa: the root finder did not converge; the matrix may be too non-normal"
    )
