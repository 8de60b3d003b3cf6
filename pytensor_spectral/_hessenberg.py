"""Jitted kernels for one eigenvalue and its eigenvector pair via the Hessenberg form.

The leading eigenvalue of a general real matrix (largest real part or modulus) and its
right/left eigenvectors cost about as much as the eigenvalues alone: LAPACK's
``gebal → gehrd → hseqr`` (the eigenvalue path of ``geev``), then inverse iteration on
the Hessenberg matrix for the selected eigenvalue only (``hsein``, O(n²)), back-transformed
with ``ormhr`` and ``gebak``. No Schur vectors and no full eigenvector matrix are formed.
"""

import numpy as np
from numba import njit
from numba.extending import overload
from numba.np.linalg import ensure_lapack
from pytensor.link.numba.dispatch.linalg._LAPACK import int_ptr_to_val, val_to_int_ptr

from pytensor_spectral import _schur
from pytensor_spectral._lapack import lapack_routine, workspace
from pytensor_spectral._schur import ieee_kernel


REAL_PART = 0
MODULUS = 1
MEASURE_CODES = {"real": REAL_PART, "modulus": MODULUS}  # LeadingEigenvalue.measure


def hessenberg_eigvals(A):
    """Balance, reduce to Hessenberg form and compute all eigenvalues of ``A``.

    Returns ``(wr, wi, H, R, tau, scale, ilo, ihi)``: ``H`` the upper Hessenberg matrix
    of the balanced ``A``, ``R, tau`` the Householder reflectors of ``gehrd``, ``scale,
    ilo, ihi`` the balancing of ``gebal``. Raises ``ValueError`` if ``hseqr`` fails.
    """
    raise NotImplementedError("hessenberg_eigvals is only callable from jitted code")


@njit(cache=True)
def _check_info(info, routine):
    if info != 0:
        raise ValueError(routine)


@overload(hessenberg_eigvals)
def _hessenberg_eigvals_impl(A):
    ensure_lapack()
    dtype = A.dtype
    gebal = lapack_routine("gebal", dtype)
    gehrd = lapack_routine("gehrd", dtype)
    hseqr = lapack_routine("hseqr", dtype)

    def impl(A):
        n = A.shape[0]
        ld = val_to_int_ptr(max(n, 1))
        R = np.asfortranarray(A.copy())
        scale = np.empty(n, dtype=dtype)
        ilo = val_to_int_ptr(1)
        ihi = val_to_int_ptr(n)
        info = val_to_int_ptr(0)
        gebal(
            val_to_int_ptr(ord("B")),
            val_to_int_ptr(n),
            R.ctypes,
            ld,
            ilo,
            ihi,
            scale.ctypes,
            info,
        )
        tau = np.empty(max(n - 1, 1), dtype=dtype)
        work = np.empty(1, dtype=dtype)
        for query in (True, False):
            if not query:
                work = workspace(work, n)
            gehrd(
                val_to_int_ptr(n),
                ilo,
                ihi,
                R.ctypes,
                ld,
                tau.ctypes,
                work.ctypes,
                val_to_int_ptr(-1 if query else work.size),
                info,
            )
        _check_info(int_ptr_to_val(info), "gebal/gehrd failed")
        H = np.asfortranarray(np.triu(R, -1))
        W = np.asfortranarray(np.triu(R, -1))  # hseqr with JOB='E' overwrites it
        wr = np.empty(n, dtype=dtype)
        wi = np.empty(n, dtype=dtype)
        z = np.empty(1, dtype=dtype)
        for query in (True, False):
            if not query:
                work = workspace(work, n)
            hseqr(
                val_to_int_ptr(ord("E")),
                val_to_int_ptr(ord("N")),
                val_to_int_ptr(n),
                ilo,
                ihi,
                W.ctypes,
                ld,
                wr.ctypes,
                wi.ctypes,
                z.ctypes,
                val_to_int_ptr(1),
                work.ctypes,
                val_to_int_ptr(-1 if query else work.size),
                info,
            )
        if int_ptr_to_val(info) != 0:
            raise ValueError(
                "The QR algorithm failed to compute all eigenvalues (hseqr)"
            )
        return wr, wi, H, R, tau, scale, int_ptr_to_val(ilo), int_ptr_to_val(ihi)

    return impl


def eigvec_pair(H, R, tau, scale, ilo, ihi, wr, wi, k):
    """Right and left eigenvectors of ``A`` for eigenvalue ``k`` (``wi[k] >= 0``).

    Inverse iteration on ``H`` (``hsein``), then ``x = D Q x_H``, ``y = D⁻¹ Q y_H``
    (``ormhr``, ``gebak``). Returns ``(x_re, x_im, y_re, y_im, ok)``; ``ok`` is false
    when inverse iteration did not converge.
    """
    raise NotImplementedError("eigvec_pair is only callable from jitted code")


@overload(eigvec_pair)
def _eigvec_pair_impl(H, R, tau, scale, ilo, ihi, wr, wi, k):
    ensure_lapack()
    dtype = H.dtype
    hsein = lapack_routine("hsein", dtype)
    ormhr = lapack_routine("ormhr", dtype)
    gebak = lapack_routine("gebak", dtype)

    def impl(H, R, tau, scale, ilo, ihi, wr, wi, k):
        n = H.shape[0]
        ld = val_to_int_ptr(max(n, 1))
        mm = 1 if wi[k] == 0 else 2
        select = np.zeros(n, dtype=np.int32)
        select[k] = 1
        VL = np.zeros((mm, n), dtype=dtype).T
        VR = np.zeros((mm, n), dtype=dtype).T
        ifail = np.zeros(2 * mm, dtype=np.int32)
        info = val_to_int_ptr(0)
        hsein(
            val_to_int_ptr(ord("B")),
            val_to_int_ptr(ord("Q")),
            val_to_int_ptr(ord("N")),
            select.ctypes,
            val_to_int_ptr(n),
            H.ctypes,
            ld,
            wr.copy().ctypes,
            wi.copy().ctypes,
            VL.ctypes,
            ld,
            VR.ctypes,
            ld,
            val_to_int_ptr(mm),
            val_to_int_ptr(0),
            np.empty((n + 2) * n, dtype=dtype).ctypes,
            ifail[:mm].ctypes,
            ifail[mm:].ctypes,
            info,
        )
        if int_ptr_to_val(info) != 0:
            z = np.zeros(n, dtype=dtype)
            return z, z, z, z, False
        C = np.zeros((4, n), dtype=dtype).T
        C[:, 0] = VR[:, 0]
        C[:, 2] = VL[:, 0]
        if mm == 2:
            C[:, 1] = VR[:, 1]
            C[:, 3] = VL[:, 1]
        work = np.empty(1, dtype=dtype)
        for query in (True, False):
            if not query:
                work = workspace(work, 4)
            ormhr(
                val_to_int_ptr(ord("L")),
                val_to_int_ptr(ord("N")),
                val_to_int_ptr(n),
                val_to_int_ptr(4),
                val_to_int_ptr(ilo),
                val_to_int_ptr(ihi),
                R.ctypes,
                ld,
                tau.ctypes,
                C.ctypes,
                ld,
                work.ctypes,
                val_to_int_ptr(-1 if query else work.size),
                info,
            )
        _check_info(int_ptr_to_val(info), "ormhr failed")
        X = np.asfortranarray(C[:, :2])
        Y = np.asfortranarray(C[:, 2:])
        for side, V in ((ord("R"), X), (ord("L"), Y)):
            gebak(
                val_to_int_ptr(ord("B")),
                val_to_int_ptr(side),
                val_to_int_ptr(n),
                val_to_int_ptr(ilo),
                val_to_int_ptr(ihi),
                scale.ctypes,
                val_to_int_ptr(2),
                V.ctypes,
                ld,
                info,
            )
        return X[:, 0].copy(), X[:, 1].copy(), Y[:, 0].copy(), Y[:, 1].copy(), True

    return impl


@njit(cache=True)
def leading_index(wr, wi, measure):
    """Index of the leading eigenvalue: largest real part (``REAL_PART``) or modulus
    (``MODULUS``); among ties the lowest index, so the ``wi > 0`` member of a pair."""
    key = wr if measure == REAL_PART else np.hypot(wr, wi)
    return int(np.argmax(key))


@njit(cache=True)
def _is_repeated(H, wr, wi, k):
    """Whether eigenvalue ``k`` is repeated to working precision (`_schur.repeated_tolerance`)."""
    n = wr.shape[0]
    tol = _schur.repeated_tolerance(H)
    for j in range(n):
        conjugate = wr[j] == wr[k] and wi[j] == -wi[k] and wi[k] != 0
        if j != k and not conjugate and np.hypot(wr[j] - wr[k], wi[j] - wi[k]) <= tol:
            return True
    return False


@njit(cache=True)
def _measure_cotangent(wr, wi, k, measure):
    """``(∂m/∂Re λ_k, ∂m/∂Im λ_k)`` for the measure ``m`` (zero for ``|λ| = 0``)."""
    if measure == REAL_PART:
        return 1.0, 0.0
    modulus = np.hypot(wr[k], wi[k])
    if modulus == 0:
        return 0.0, 0.0
    return wr[k] / modulus, wi[k] / modulus


@njit(cache=True)
def _schur_gradient(A, measure):
    """Gradient of the measure through the real Schur form: used when the leading
    eigenvalue is repeated (spectral projector of its cluster) or inverse iteration fails."""
    wr, wi, T, Q = _schur.schur_eigvals(A, True)
    k = leading_index(wr, wi, measure)
    g_re = np.zeros_like(wr)
    g_im = np.zeros_like(wr)
    g_re[k], g_im[k] = _measure_cotangent(wr, wi, k, measure)
    return _schur.eigvals_pullback_unchecked(T, Q, wr, wi, g_re, g_im)


@njit(cache=True)
def leading_eigenvalue(A, measure):
    """Spectral abscissa or radius of ``A`` and its gradient.

    Returns ``(value, G)`` with ``G = ∂value/∂A``. For a simple leading eigenvalue ``λ``
    with right/left eigenvectors ``x, y``: ``G = Re(ḡ y xᴴ / conj(yᴴx))`` with
    ``ḡ = ∂m/∂Re λ + i ∂m/∂Im λ``. A repeated leading eigenvalue contributes the gradient
    of the mean of its cluster instead. ``G`` is not finite where the gradient is
    undefined (defective leading eigenvalue); the op's pullback reports that.

    Both measures are positively homogeneous, ``m(cA) = c m(A)``, so ``A`` is first scaled
    by a power of two to entries of order one (`_schur.power_of_two_scale`; exact): the
    Hessenberg QR iteration, unlike ``gees``, does not scale on its own, and in float32 a
    matrix of entries ``1e-30`` would lose accuracy to underflow.
    """
    _schur.check_square_finite(A)
    n = A.shape[0]
    if n == 0:
        raise ValueError(
            "The spectral abscissa and radius of an empty matrix are undefined"
        )
    c = _schur.power_of_two_scale(A)
    value, G = _scaled_leading_eigenvalue(A / c, measure)
    return value * c, G


@ieee_kernel
def _scaled_leading_eigenvalue(A, measure):
    """`leading_eigenvalue` of a finite, non-empty ``A`` with entries of order one."""
    wr, wi, H, R, tau, scale, ilo, ihi = hessenberg_eigvals(A)
    k = leading_index(wr, wi, measure)
    value = wr[k] if measure == REAL_PART else np.hypot(wr[k], wi[k])
    g_re, g_im = _measure_cotangent(wr, wi, k, measure)
    if g_re == 0 and g_im == 0:  # rho(A) = 0: zero is returned as the (sub)gradient
        return value, np.zeros_like(A)
    if _is_repeated(H, wr, wi, k):
        return value, _schur_gradient(A, measure)
    x_re, x_im, y_re, y_im, ok = eigvec_pair(H, R, tau, scale, ilo, ihi, wr, wi, k)
    if not ok:
        return value, _schur_gradient(A, measure)
    # c = ḡ / conj(s), s = yᴴx; G = Re(c y xᴴ) = Re(c y) x_reᵀ + Im(c y) x_imᵀ
    s = (
        np.sum(y_re * x_re)
        + np.sum(y_im * x_im)
        + 1j * (np.sum(y_re * x_im) - np.sum(y_im * x_re))
    )
    c = (g_re + 1j * g_im) * _schur.reciprocal(np.conj(s))
    cy_re = c.real * y_re - c.imag * y_im
    cy_im = c.real * y_im + c.imag * y_re
    G = np.outer(cy_re, x_re) + np.outer(cy_im, x_im)
    return value, G.astype(A.dtype)
