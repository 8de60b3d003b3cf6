r"""Jitted kernels of the pseudospectral abscissa and the distance to instability.

Both are extrema of :math:`s(z) = \sigma_{\min}(zI - A)` over the complex plane:

* :math:`\alpha_\varepsilon(A) = \max\{\operatorname{Re} z : s(z) \le \varepsilon\}`,
* :math:`\beta(A) = \min_{\omega \in \mathbb{R}} s(i\omega)` for a stable ``A``.

**Local work** is done in complex Schur coordinates :math:`A = Z T Z^H` (LAPACK's real
Schur form, each 2 x 2 block triangularized by a complex rotation), where
:math:`s(z) = \sigma_{\min}(zI - T)` costs O(n²) per evaluation: inverse iteration with
two triangular solves (LAPACK ``trtrs``) per step, warm-started from the previous point,
with a dense SVD as the fallback when it does not converge. With the singular vectors
:math:`(zI - T) v = s\, u`, :math:`\partial s/\partial x = \operatorname{Re} u^H v` and
:math:`\partial s/\partial y = -\operatorname{Im} u^H v` (``z = x + iy``) drive
safeguarded Newton and secant iterations.

**The global certificate** is a level-set test (Byers 1988; Burke, Lewis & Overton 2003):
for real ``x, c``, ``iy`` is an eigenvalue of the real Hamiltonian matrix
:math:`\begin{bmatrix} A - xI & cI \\ -cI & xI - A^\top \end{bmatrix}` exactly when
:math:`|c|` is a singular value of :math:`(x + iy)I - A`. On the vertical line just right
of a local rightmost point (``c = ε``), or at a level just below a local minimum on the
imaginary axis (``x = 0``, ``c`` the level), those crossings bound the intervals where
the pseudospectrum continues; a midpoint inside one restarts the local iteration from
there, which strictly improves the value. The result is certified when no midpoint is
inside: to a relative ``CERTIFICATE_MARGIN`` the value is then the global extremum.

The kernels take float64 matrices (the callers cast other dtypes, so that each kernel is
compiled once) and compute in double precision.
"""

import numpy as np
from numba import njit
from numba.extending import overload
from numba.np.linalg import ensure_lapack
from pytensor.link.numba.dispatch.linalg._LAPACK import int_ptr_to_val, val_to_int_ptr

from pytensor_spectral._hessenberg import hessenberg_eigvals
from pytensor_spectral._lapack import lapack_routine
from pytensor_spectral._schur import frobenius_norm, schur_eigvals


EPS = np.finfo(np.float64).eps
CERTIFICATE_MARGIN = 1e-8
"""Relative margin of the level-set test: a value is certified to be the global extremum
when no part of the pseudospectrum (level set) lies beyond it by more than this."""
MAX_ROUNDS = 30
"""Bound on the certificate rounds (each failed round strictly improves the value)."""
MAX_STEPS = 200
"""Bound on the steps of each local iteration (Newton, secant, bracketing)."""
MAX_INVERSE_ITERATIONS = 30
"""Inverse-iteration steps for one smallest singular triplet before the SVD fallback."""


def triangular_solve(R_t, b, conjugate_transpose):
    """Solve ``R x = b`` (or ``Rᴴ x = b``) for the upper triangular ``R`` whose transpose
    is the C-ordered ``R_t`` (LAPACK ``?trtrs``); return ``(x, info)``, ``info > 0`` if
    ``R`` is exactly singular."""
    raise NotImplementedError("triangular_solve is only callable from jitted code")


@overload(triangular_solve)
def _triangular_solve_impl(R_t, b, conjugate_transpose):
    ensure_lapack()
    trtrs = lapack_routine("trtrs", R_t.dtype)

    def impl(R_t, b, conjugate_transpose):
        n = R_t.shape[0]
        x = b.copy()
        info = val_to_int_ptr(0)
        trtrs(
            val_to_int_ptr(ord("U")),
            val_to_int_ptr(ord("C") if conjugate_transpose else ord("N")),
            val_to_int_ptr(ord("N")),
            val_to_int_ptr(n),
            val_to_int_ptr(1),
            R_t.ctypes,
            val_to_int_ptr(max(n, 1)),
            x.ctypes,
            val_to_int_ptr(max(n, 1)),
            info,
        )
        return x, int_ptr_to_val(info)

    return impl


@njit(cache=True)
def _rotate_columns(M, m, c, s):
    """``M[:, m-1:m+1] @ Gᴴ`` in place, ``Gᴴ = [[c, -conj(s)], [s, conj(c)]]``."""
    cols = M[:, m - 1 : m + 1].copy()
    M[:, m - 1] = c * cols[:, 0] + s * cols[:, 1]
    M[:, m] = -np.conj(s) * cols[:, 0] + np.conj(c) * cols[:, 1]


@njit(cache=True)
def complex_schur(A):
    """``(T, Z)`` with ``A = Z T Zᴴ``, ``T`` complex upper triangular and ``Z`` unitary.

    From LAPACK's real Schur form (``gees``): each standardized 2 x 2 block
    ``[[a, b], [c, a]]`` (``bc < 0``) is triangularized by the rotation whose first
    column is the block's eigenvector ``(b, λ - a)`` for ``λ = a + i√(-bc)``, as in
    SciPy's ``rsf2csf``.
    """
    wr, wi, T_real, Q = schur_eigvals(A, True)
    n = A.shape[0]
    T = T_real.astype(np.complex128)
    Z = Q.astype(np.complex128)
    for m in range(1, n):
        if T_real[m, m - 1] == 0.0:
            continue
        x0 = T[m - 1, m]
        x1 = complex(wr[m - 1], abs(wi[m - 1])) - T[m - 1, m - 1]
        r = np.sqrt(abs(x0) ** 2 + abs(x1) ** 2)
        c, s = x0 / r, x1 / r  # G^H = [[c, -conj(s)], [s, conj(c)]]
        rows = T[m - 1 : m + 1, m - 1 :].copy()
        T[m - 1, m - 1 :] = np.conj(c) * rows[0] + np.conj(s) * rows[1]
        T[m, m - 1 :] = -s * rows[0] + c * rows[1]
        _rotate_columns(T[: m + 1], m, c, s)
        _rotate_columns(Z, m, c, s)
        T[m, m - 1] = 0.0
    return T, Z


@njit(cache=True)
def _check_nonempty(A, name):
    """``ValueError`` if ``A`` is empty."""
    if A.shape[0] == 0:
        raise ValueError(name + ": A is empty")


@njit(cache=True)
def _norm(x):
    return np.sqrt(np.sum(x.real**2 + x.imag**2))


@njit(cache=True)
def smallest_triplet(T_t, z, v0):
    """``(sigma, u, v)``: the smallest singular value of ``R = zI - T`` (``T`` upper
    triangular, given as its C-ordered transpose ``T_t``) and unit vectors with
    ``R v = sigma u``, ``Rᴴ u = sigma v``.

    Inverse iteration on ``(RᴴR)⁻¹`` from ``v0``: ``w = R⁻ᴴ v``, ``x = R⁻¹ w`` give
    ``u = w / ‖w‖``, ``v' = x / ‖x‖`` and ``sigma = ‖w‖ / ‖x‖`` with ``R v' = sigma u``
    exactly and ``Rᴴ u = sigma v`` up to ``‖v - v'‖`` (``x`` is a positive multiple of
    ``v`` plus the error), which stops it at ``1e-13``. A dense SVD if that does not
    happen in `MAX_INVERSE_ITERATIONS` steps or ``R`` is exactly singular.
    """
    n = T_t.shape[0]
    R_t = -T_t
    for i in range(n):
        R_t[i, i] += z
    v = v0 / _norm(v0)
    for _ in range(MAX_INVERSE_ITERATIONS):
        w, info = triangular_solve(R_t, v, True)
        if info != 0:
            break  # R is exactly singular
        x, _ = triangular_solve(R_t, w, False)
        size_w, size_x = _norm(w), _norm(x)
        if not (np.isfinite(size_x) and size_x > 0.0):
            break
        v_new = x / size_x
        change = _norm(v - v_new)
        v = v_new
        if change <= 1e-13:
            return size_w / size_x, w / size_w, v
    U, s, Vh = np.linalg.svd(np.ascontiguousarray(R_t.T))
    return s[n - 1], U[:, n - 1].copy(), np.conj(Vh[n - 1])


@njit(cache=True)
def level_set_crossings(A, x, c):
    """Sorted ``y`` of the eigenvalues ``iy`` of ``[[A - xI, cI], [-cI, xI - Aᵀ]]``: the
    points where ``|c|`` is a singular value of ``(x + iy)I - A``.

    Eigenvalues within ``1e-6 ‖H‖_F`` of the imaginary axis count: a spurious one only
    costs a test at a midpoint, a missed one would lose a part of the level set.
    """
    n = A.shape[0]
    H = np.zeros((2 * n, 2 * n))
    H[:n, :n] = A
    H[n:, n:] = -A.T
    for i in range(n):
        H[i, i] -= x
        H[n + i, n + i] += x
        H[i, n + i] = c
        H[n + i, i] = -c
    eigenvalues = hessenberg_eigvals(H)
    wr, wi = eigenvalues[0], eigenvalues[1]
    tolerance = 1e-6 * frobenius_norm(H)
    return np.sort(wi[np.abs(wr) <= tolerance])


@njit(cache=True)
def _midpoints(ys):
    """Midpoints ``≥ 0`` of consecutive crossings (the level sets of a real matrix are
    symmetric about the real axis)."""
    mids = 0.5 * (ys[1:] + ys[:-1])
    return mids[mids >= 0.0]


@njit(cache=True)
def _real_gradient(Z, u, v, denominator):
    """``Re(conj(Z u) (Z v)ᵀ) / denominator``: the gradient of ``s`` with respect to
    ``A`` (up to sign) from the singular vectors in Schur coordinates."""
    uA = Z @ u
    vA = Z @ v
    return np.real(np.outer(np.conj(uA), vA)) / denominator


# ------------------------------------------------------------ pseudospectral abscissa


@njit(cache=True)
def _boundary_on_line(T_t, y, eps, lo, hi, v0, tolerance):
    """Rightmost-seeking ``x`` in ``(lo, hi)`` with ``s(x + iy) = ε``, given ``s < ε`` at
    ``lo`` and ``s ≥ ε`` at ``hi``: Newton from ``hi`` (``∂s/∂x = Re uᴴv``), bisection
    whenever a step leaves the bracket. Returns ``(x, sigma, u, v)``."""
    x = hi
    sigma, u, v = smallest_triplet(T_t, complex(x, y), v0)
    for _ in range(MAX_STEPS):
        excess = sigma - eps
        if abs(excess) <= tolerance:
            return x, sigma, u, v
        if excess < 0:
            lo = x
        else:
            hi = x
        if hi - lo <= 4 * EPS * max(abs(lo), abs(hi)):
            return x, sigma, u, v
        slope = np.real(np.vdot(u, v))
        x_new = x - excess / slope if slope > 0 else lo
        if not lo < x_new < hi:
            x_new = 0.5 * (lo + hi)
        x = x_new
        sigma, u, v = smallest_triplet(T_t, complex(x, y), v)
    raise ValueError("pseudospectral_abscissa: the boundary search did not converge")


@njit(cache=True)
def _slope(u, v):
    """``dx/dy`` along the boundary ``s(x + iy) = ε``: ``Im(uᴴv) / Re(uᴴv)``."""
    p = np.vdot(u, v)
    return p.imag / p.real


@njit(cache=True)
def _rightmost_near(T_t, x, y, u, v, eps, hi, tolerance):
    """Local ascent of ``x`` along the boundary from the boundary point ``x + iy``:
    secant steps on the slope ``dx/dy``, each accepted only if ``x_old + i y_new`` is
    inside the pseudospectrum (so that the boundary on the new line lies right of
    ``x_old``), halved otherwise. Returns ``(x, y, u, v)`` at a local maximum."""
    slope = _slope(u, v)
    y_prev, slope_prev = np.nan, np.nan
    for _ in range(MAX_STEPS):
        if abs(slope) <= 1e-12:
            break
        step = slope * eps  # the Newton step where the boundary is a circle
        if np.isfinite(y_prev) and slope != slope_prev:
            secant = -slope * (y - y_prev) / (slope - slope_prev)
            if secant * slope > 0:
                step = secant
        accepted = False
        for _ in range(60):
            y_new = y + step
            sigma, u_new, v_new = smallest_triplet(T_t, complex(x, y_new), v)
            if sigma < eps:
                x_new, _, u_new, v_new = _boundary_on_line(
                    T_t, y_new, eps, x, hi, v_new, tolerance
                )
                accepted = x_new > x
                if accepted:
                    break
            step *= 0.5
            if abs(step) <= 4 * EPS * max(abs(y), eps):
                break
        if not accepted:
            break
        y_prev, slope_prev = y, slope
        x, y, u, v = x_new, y_new, u_new, v_new
        slope = _slope(u, v)
    return x, y, u, v


@njit(cache=True)
def pseudospectral_abscissa(A, eps):
    r"""``(alpha_ε, G, ∂alpha_ε/∂ε, rounds)`` of a finite real square ``A`` and ``ε > 0``.

    ``G = Re(ū vᵀ) / Re(uᴴv)`` and ``∂alpha_ε/∂ε = 1 / Re(uᴴv)`` from the singular vectors
    :math:`(z^* I - A) v = \varepsilon u` at the rightmost point ``z*``; ``rounds`` is the
    number of certificate rounds that found more of the pseudospectrum to the right.
    """
    _check_nonempty(A, "pseudospectral_abscissa")
    if not (np.isfinite(eps) and eps > 0):
        raise ValueError("pseudospectral_abscissa: eps must be positive and finite")
    n = A.shape[0]
    T, Z = complex_schur(A)
    T_t = np.ascontiguousarray(T.T)
    w = np.diag(T)
    k = np.argmax(w.real)
    symmetric_part = 0.5 * (A + A.T)
    hi = np.linalg.eigvalsh(symmetric_part)[n - 1] + 1.01 * eps  # s ≥ ε beyond it
    tolerance = 8 * EPS * (frobenius_norm(A) + eps)
    v0 = np.ones(n, dtype=np.complex128)
    x, _, u, v = _boundary_on_line(
        T_t, abs(w[k].imag), eps, w[k].real, hi, v0, tolerance
    )
    x, y, u, v = _rightmost_near(T_t, x, abs(w[k].imag), u, v, eps, hi, tolerance)
    margin = CERTIFICATE_MARGIN * (frobenius_norm(A) + eps)
    for rounds in range(MAX_ROUNDS):
        line = x + margin
        best = (x, y, u, v)
        for mid in _midpoints(level_set_crossings(A, line, eps)):
            sigma, u_mid, v_mid = smallest_triplet(T_t, complex(line, mid), v0)
            if sigma >= eps:
                continue
            x_mid, _, u_mid, v_mid = _boundary_on_line(
                T_t, mid, eps, line, hi, v_mid, tolerance
            )
            candidate = _rightmost_near(
                T_t, x_mid, mid, u_mid, v_mid, eps, hi, tolerance
            )
            if candidate[0] > best[0]:
                best = candidate
        if best[0] == x:
            p = np.vdot(u, v).real
            return x, _real_gradient(Z, u, v, p), 1.0 / p, rounds
        x, y, u, v = best
    raise ValueError(
        "pseudospectral_abscissa: the level-set certificate did not pass within "
        "MAX_ROUNDS rounds"
    )


# ------------------------------------------------------------ distance to instability


@njit(cache=True)
def _frequency_slope(T_t, omega, v0):
    """``(s, ds/dω, u, v)`` at ``iω``: ``s = sigma_min(T - iωI)``, ``ds/dω = Im(uᴴv)``."""
    sigma, u, v = smallest_triplet(T_t, complex(0.0, omega), v0)
    # (iωI - T) v = sigma u, so (T - iωI) v = sigma (-u): the vectors of T - iωI are (-u, v)
    return sigma, -np.vdot(u, v).imag, -u, v


@njit(cache=True)
def _local_minimum_frequency(T_t, omega, v0):
    """A local minimizer ``ω ≥ 0`` of ``sigma_min(T - iωI)`` near ``omega``: a bracket of a
    sign change of the derivative (steps doubling downhill; at ``ω = 0``, where the
    derivative of the function, even in ``ω`` for real ``A``, vanishes, the sign of the
    derivative at ``1e-6`` of the scale tells whether ``0`` is the minimizer or closes
    the bracket from below), then the Illinois method on the derivative. Returns ``(sigma, ω, u, v)`` with
    ``(T - iωI) v = sigma u``."""
    f, d, u, v = _frequency_slope(T_t, omega, v0)
    best = (f, omega, u, v)
    if d == 0.0:
        return best
    step = -d * f
    x0, d0 = omega, d
    for _ in range(MAX_STEPS):
        trial = max(x0 + step, 0.0)
        f_t, d_t, u_t, v_t = _frequency_slope(T_t, trial, best[3])
        if f_t < best[0]:
            best = (f_t, trial, u_t, v_t)
        if trial == 0.0:  # the function is even: its derivative is odd, 0 at ω = 0
            probe = 1e-6 * max(x0, f_t)
            f_p, d_p, u_p, v_p = _frequency_slope(T_t, probe, v_t)
            if d_p >= 0.0:  # ω = 0 is a local minimum
                return (f_t, 0.0, u_t, v_t) if f_t <= best[0] else best
            if f_p < best[0]:
                best = (f_p, probe, u_p, v_p)
            trial, d_t = probe, d_p
            break
        if d_t * d0 <= 0.0:
            break
        x0, d0 = trial, d_t
        step *= 2.0
    else:
        raise ValueError("distance_to_instability: no local minimum was bracketed")
    a, da, b, db = (trial, d_t, x0, d0) if trial < x0 else (x0, d0, trial, d_t)
    side = 0
    for _ in range(MAX_STEPS):
        if b - a <= 4 * EPS * max(b, best[0]):
            break
        trial = (a * db - b * da) / (db - da) if db != da else 0.5 * (a + b)
        if not a < trial < b:
            trial = 0.5 * (a + b)
        f_t, d_t, u_t, v_t = _frequency_slope(T_t, trial, best[3])
        if f_t < best[0]:
            best = (f_t, trial, u_t, v_t)
        if d_t == 0.0:
            break
        if d_t < 0:
            a, da = trial, d_t
            if side == -1:
                db *= 0.5
            side = -1
        else:
            b, db = trial, d_t
            if side == 1:
                da *= 0.5
            side = 1
    return best


@njit(cache=True)
def distance_to_instability(A):
    r"""``(β, G, rounds)`` of a finite real square ``A``: ``β = min_ω sigma_min(A - iωI)``
    and ``G = Re(ū vᵀ)`` from :math:`(A - i\omega^* I) v = \beta u`, for ``alpha(A) < 0``;
    ``(0, 0, 0)`` for ``alpha(A) ≥ 0`` (``A`` is already unstable)."""
    _check_nonempty(A, "distance_to_instability")
    n = A.shape[0]
    T, Z = complex_schur(A)
    w = np.diag(T)
    if np.max(w.real) >= 0.0:
        return 0.0, np.zeros((n, n)), 0
    T_t = np.ascontiguousarray(T.T)
    v0 = np.ones(n, dtype=np.complex128)
    upper = w[w.imag >= 0.0]  # one member of each conjugate pair
    nearest = np.argsort(-upper.real)[:4]  # the eigenvalues nearest the imaginary axis
    best = (np.inf, 0.0, v0, v0)
    for omega in np.unique(np.concatenate((np.zeros(1), upper[nearest].imag))):
        candidate = _local_minimum_frequency(T_t, omega, v0)
        if candidate[0] < best[0]:
            best = candidate
    beta, omega, u, v = best
    for rounds in range(MAX_ROUNDS):
        level = beta * (1.0 - CERTIFICATE_MARGIN)
        for mid in _midpoints(level_set_crossings(A, 0.0, level)):
            candidate = _local_minimum_frequency(T_t, mid, v0)
            if candidate[0] < best[0]:
                best = candidate
        if best[0] == beta:
            return beta, _real_gradient(Z, u, v, 1.0), rounds
        beta, omega, u, v = best
    raise ValueError(
        "distance_to_instability: the level-set certificate did not pass within "
        "MAX_ROUNDS rounds"
    )
