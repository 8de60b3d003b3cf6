"""Jitted kernels for the real Schur form and the eigenvectors of a quasi-triangular matrix.

These kernels are shared by the ops' ``perform`` methods and their Numba implementations,
so that every backend runs the same LAPACK calls. All arrays are real: a complex pair of
eigenvalues ``wr[j] ± i wi[j]`` (``wi[j] > 0``) occupies two adjacent columns ``j, j + 1``
of an eigenvector matrix, holding the real and imaginary parts of the vector of
``wr[j] + i wi[j]`` (LAPACK's packed storage).
"""

import math

import numpy as np
from numba import njit
from numba.extending import overload
from numba.np.linalg import ensure_lapack
from pytensor.link.numba.dispatch.linalg._LAPACK import (
    _LAPACK,
    int_ptr_to_val,
    val_to_int_ptr,
)

from pytensor_spectral._lapack import blas_routine, lapack_routine, workspace


# Kernels that divide by eigenvalue differences or condition products ``s_k = y_kᴴ x_k``
# use IEEE division (NumPy's error model): a zero divisor (a defective eigenvalue whose
# ``s_k`` underflows) gives inf/NaN, which the finiteness checks of the callers report as
# a ``ValueError`` naming the cause, instead of Numba's bare ``ZeroDivisionError``.
ieee_kernel = njit(cache=True, error_model="numpy")


def gees(A, compute_q):
    """Real Schur form ``A = Q T Qᵀ``: return ``(T, Q, wr, wi, info)`` (LAPACK ``?gees``)."""
    raise NotImplementedError("gees is only callable from jitted code")


@overload(gees)
def _gees_impl(A, compute_q):
    ensure_lapack()
    dtype = A.dtype
    xgees = _LAPACK().numba_xgees(dtype)

    def impl(A, compute_q):
        n = A.shape[0]
        ld = max(n, 1)
        T = np.asfortranarray(A.copy())
        wr = np.empty(n, dtype=dtype)
        wi = np.empty(n, dtype=dtype)
        Q = np.empty((n, n) if compute_q else (1, 1), dtype=dtype).T
        jobvs = val_to_int_ptr(ord("V") if compute_q else ord("N"))
        sort = val_to_int_ptr(ord("N"))
        select = val_to_int_ptr(0)
        sdim = val_to_int_ptr(0)
        bwork = val_to_int_ptr(0)
        info = val_to_int_ptr(0)
        work = np.empty(1, dtype=dtype)
        for lwork in (-1, 0):
            if lwork == 0:
                work = workspace(work, 1)
                lwork = work.size
            xgees(
                jobvs,
                sort,
                select,
                val_to_int_ptr(n),
                T.ctypes,
                val_to_int_ptr(ld),
                sdim,
                wr.ctypes,
                wi.ctypes,
                Q.ctypes,
                val_to_int_ptr(max(Q.shape[0], 1)),
                work.ctypes,
                val_to_int_ptr(lwork),
                bwork,
                info,
            )
        return T, Q, wr, wi, int_ptr_to_val(info)

    return impl


def trevc(T, left, right):
    """Eigenvectors of the quasi-triangular ``T`` in packed storage (LAPACK ``?trevc``).

    Returns ``(VL, VR)``; an array not asked for is empty. Raises ``ValueError`` if
    LAPACK reports an error. ``T`` is divided by a power of two near its largest entry
    first (`power_of_two_scale`): the eigenvectors (each scaled by ``trevc`` to largest
    component 1) do not change, and ``trevc``'s guard against small pivots,
    ``max(ε|λ|, n·safmin/ε)`` — about ``1e-30`` in float32 — no longer treats a matrix
    of tiny entries as singular.
    """
    raise NotImplementedError("trevc is only callable from jitted code")


@overload(trevc)
def _trevc_impl(T, left, right):
    ensure_lapack()
    dtype = T.dtype
    xtrevc = lapack_routine("trevc", dtype)

    def impl(T, left, right):
        n = T.shape[0]
        ld = max(n, 1)
        Tf = np.asfortranarray(T / power_of_two_scale(T))
        VL = np.empty((n, n) if left else (1, 1), dtype=dtype).T
        VR = np.empty((n, n) if right else (1, 1), dtype=dtype).T
        side = ord("B") if left and right else (ord("L") if left else ord("R"))
        select = np.zeros(1, dtype=np.int32)
        work = np.empty(3 * ld, dtype=dtype)
        m = val_to_int_ptr(0)
        info = val_to_int_ptr(0)
        xtrevc(
            val_to_int_ptr(side),
            val_to_int_ptr(ord("A")),
            select.ctypes,
            val_to_int_ptr(n),
            Tf.ctypes,
            val_to_int_ptr(ld),
            VL.ctypes,
            val_to_int_ptr(max(VL.shape[0], 1)),
            VR.ctypes,
            val_to_int_ptr(max(VR.shape[0], 1)),
            val_to_int_ptr(n),
            m,
            work.ctypes,
            info,
        )
        if int_ptr_to_val(info) != 0:
            raise ValueError("trevc failed")
        return VL, VR

    return impl


def triangular_times(B, A, lower, transpose):
    """``B := B op(A)`` in place for the triangular part of ``A`` (lower or upper, the
    other triangle not read; ``op(A) = Aᵀ`` if ``transpose``): BLAS ``trmm``, half the
    work of a general product. ``A`` and ``B`` square, F-contiguous."""
    raise NotImplementedError("triangular_times is only callable from jitted code")


@overload(triangular_times)
def _triangular_times_impl(B, A, lower, transpose):
    trmm = blas_routine("trmm", A.dtype)

    def impl(B, A, lower, transpose):
        n = A.shape[0]
        one = np.ones(1, dtype=A.dtype)
        trmm(
            val_to_int_ptr(ord("R")),
            val_to_int_ptr(ord("L") if lower else ord("U")),
            val_to_int_ptr(ord("T") if transpose else ord("N")),
            val_to_int_ptr(ord("N")),
            val_to_int_ptr(B.shape[0]),
            val_to_int_ptr(n),
            one.ctypes,
            A.ctypes,
            val_to_int_ptr(max(n, 1)),
            B.ctypes,
            val_to_int_ptr(max(B.shape[0], 1)),
        )

    return impl


@njit(cache=True)
def fortran_copy(B):
    """A column-major (F-contiguous) copy of the matrix ``B``."""
    out = np.empty((B.shape[1], B.shape[0]), dtype=B.dtype).T
    out[:, :] = B
    return out


@njit(cache=True)
def quasi_triangular_times(B, A, wi, lower, transpose):
    """``B op(A)`` for a quasi-triangular ``A`` whose only entries outside its triangle
    are those of the 2 x 2 blocks of the complex pairs of ``wi`` (``A[j+1, j]`` of an
    upper, ``A[j, j+1]`` of a lower one, ``wi[j] > 0``): `triangular_times` for the
    triangle, plus one column update per pair. ``A`` F-contiguous; returns a new
    F-contiguous array."""
    out = fortran_copy(B)
    triangular_times(out, A, lower, transpose)
    for j in range(wi.shape[0] - 1):
        if wi[j] <= 0:
            continue
        outside = A[j + 1, j] if not lower else A[j, j + 1]
        if transpose == lower:  # op(A) has the entry at (j + 1, j)
            out[:, j] += B[:, j + 1] * outside
        else:  # at (j, j + 1)
            out[:, j + 1] += B[:, j] * outside
    return out


@njit(cache=True)
def check_square_finite(A):
    """Raise ``ValueError`` unless ``A`` is a square matrix of finite entries."""
    if A.shape[0] != A.shape[1]:
        raise ValueError("Expected a square matrix")
    for x in A.ravel():
        if not np.isfinite(x):
            raise ValueError("Matrix contains NaN or Inf entries")


@njit(cache=True)
def schur_eigvals(A, compute_q):
    """Eigenvalues ``(wr, wi)`` and real Schur form ``(T, Q)`` of ``A``; ``Q`` only if asked."""
    check_square_finite(A)
    T, Q, wr, wi, info = gees(A, compute_q)
    if info != 0:
        raise ValueError("The QR algorithm failed to compute all eigenvalues (gees)")
    return wr, wi, T, Q


@njit(cache=True)
def reciprocal(z):
    """``1 / z`` for a complex scalar, NaN for ``z = 0``: Numba's complex division raises
    ``ZeroDivisionError`` whatever the error model; NaN reaches the finiteness checks."""
    if z == 0:
        return complex(np.nan, np.nan)
    return 1.0 / z


@njit(cache=True)
def power_of_two_near(x, like):
    """A power of two within a factor 2 of ``x ≥ 0`` (1 for ``x = 0``), in ``like``'s dtype."""
    exponent = math.frexp(x)[1] if x > 0 else 0
    return np.full(1, math.ldexp(1.0, exponent), dtype=like.dtype)[0]


@njit(cache=True)
def power_of_two_scale(A):
    """`power_of_two_near` ``max |A_ij|``. Dividing by it is exact and brings the entries
    to order one, so that products of entries neither overflow nor underflow (LAPACK's
    ``gebal`` scales by powers of two for the same reason)."""
    return power_of_two_near(np.max(np.abs(A)) if A.size else 0.0, A)


@njit(cache=True)
def frobenius_norm(M):
    """``‖M‖_F`` without overflow or underflow (the sum of squares of ``M / max |M_ij|``)."""
    largest = np.max(np.abs(M)) if M.size else 0.0
    if largest == 0:
        return 0.0
    X = M / largest
    return largest * np.sqrt(np.sum(X * X))


@njit(cache=True)
def _largest_modulus_index(re, im):
    """Index of the largest ``re**2 + im**2``; ties go to the lowest index.

    Moduli within 64 ulps of the largest count as tied, so that an exact tie in exact
    arithmetic (e.g. ``(1, -i)/√2``) is not decided by rounding.
    """
    m = re * re + im * im
    threshold = np.max(m) * (1.0 - 64.0 * np.finfo(re.dtype).eps)
    for i in range(m.shape[0]):
        if m[i] >= threshold:
            return i
    return 0


@njit(cache=True)
def gauge_eigvecs(P, wi):
    """Complex eigenvectors ``(v_re, v_im)`` in the gauge of `eig` from packed storage ``P``.

    Every column is scaled to unit 2-norm and rotated so that its largest-modulus
    component is real and positive. The vector of ``wr[j] - i wi[j]`` is the conjugate
    of the vector of ``wr[j] + i wi[j]``.
    """
    n = P.shape[0]
    v_re = np.zeros((n, n), dtype=P.dtype)
    v_im = np.zeros((n, n), dtype=P.dtype)
    j = 0
    while j < n:
        re = P[:, j]
        im = P[:, j + 1] if wi[j] != 0 else np.zeros(n, dtype=P.dtype)
        p = _largest_modulus_index(re, im)
        scale = np.sqrt(np.sum(re * re) + np.sum(im * im))
        modulus = np.sqrt(re[p] * re[p] + im[p] * im[p])
        c = re[p] / (modulus * scale)
        s = -im[p] / (modulus * scale)
        v_re[:, j] = c * re - s * im
        v_im[:, j] = s * re + c * im
        v_im[p, j] = 0.0
        if wi[j] != 0:
            v_re[:, j + 1] = v_re[:, j]
            v_im[:, j + 1] = -v_im[:, j]
            j += 2
        else:
            j += 1
    return v_re, v_im


@njit(cache=True)
def schur_eigvecs(T, Q, wi):
    """Right eigenvectors ``(v_re, v_im)`` of ``A = Q T Qᵀ`` in the gauge of `eig`."""
    _, VR = trevc(T, False, True)
    return gauge_eigvecs(Q @ VR, wi)


@njit(cache=True)
def _reciprocal_condition_products(YL, XR, wi):
    """``s_k = y_kᴴ x_k`` for packed left/right eigenvector matrices, as ``(s_re, s_im)``."""
    n = XR.shape[0]
    s_re = np.zeros(n, dtype=XR.dtype)
    s_im = np.zeros(n, dtype=XR.dtype)
    j = 0
    while j < n:
        if wi[j] == 0:
            s_re[j] = np.sum(YL[:, j] * XR[:, j])
            j += 1
        else:
            yr, yi = YL[:, j], YL[:, j + 1]
            xr, xi = XR[:, j], XR[:, j + 1]
            s_re[j] = np.sum(yr * xr) + np.sum(yi * xi)
            s_im[j] = np.sum(yr * xi) - np.sum(yi * xr)
            s_re[j + 1] = s_re[j]
            s_im[j + 1] = -s_im[j]
            j += 2
    return s_re, s_im


@njit(cache=True)
def _check_finite_gradient(G):
    """Return ``G``, raising ``ValueError`` if any entry is not finite."""
    for x in G.ravel():
        if not np.isfinite(x):
            raise ValueError(
                "Eigenvalue derivative is not finite: an eigenvalue is defective "
                "(left and right eigenvectors orthogonal), or the derivative overflows "
                "the floating-point range"
            )
    return G


@njit(cache=True)
def _complex_columns(P, wi, idx):
    """Complex eigenvectors ``idx`` from packed storage ``P``."""
    out = np.empty((P.shape[0], len(idx)), dtype=np.complex128)
    for c, k in enumerate(idx):
        if wi[k] == 0:
            out[:, c] = P[:, k]
        elif wi[k] > 0:
            out[:, c] = P[:, k] + 1j * P[:, k + 1]
        else:
            out[:, c] = P[:, k - 1] - 1j * P[:, k]
    return out


@njit(cache=True)
def repeated_tolerance(M):
    """``100 n ε ‖M‖_F``: eigenvalues of ``M`` closer than this are equal to working precision."""
    return 100.0 * max(M.shape[0], 1) * np.finfo(M.dtype).eps * frobenius_norm(M)


@njit(cache=True)
def eigenvalue_clusters(T, wr, wi):
    """Label numerically repeated eigenvalues: ``label[k]`` is the first index of k's cluster.

    Two eigenvalues are repeated when they differ by at most `repeated_tolerance` of ``T``.
    """
    n = wr.shape[0]
    tol = repeated_tolerance(T)
    label = np.arange(n)
    for k in range(n):
        for i in range(k):
            if label[i] == i and np.hypot(wr[i] - wr[k], wi[i] - wi[k]) <= tol:
                label[k] = i
                break
    return label


@njit(cache=True)
def _independent_columns(X, eps):
    """Whether the columns of ``X`` are linearly independent to working precision ``eps``:
    the smallest singular value of ``X`` with unit columns exceeds ``100 k ε``."""
    k = X.shape[1]
    unit = X / np.sqrt(np.sum(np.abs(X) ** 2, axis=0))
    return np.linalg.svd(unit)[1][k - 1] > 100.0 * k * eps


@ieee_kernel
def _projector_from_vectors(VL, VR, wi, members):
    """``X_c (Y_cᴴ X_c)⁻¹ Y_cᴴ`` from ``trevc``'s right/left eigenvectors of the cluster;
    NaN where they do not span a ``|c|``-dimensional space or ``Y_cᴴ X_c`` is singular."""
    Y = _complex_columns(VL, wi, members)
    X = _complex_columns(VR, wi, members)
    eps = np.finfo(VL.dtype).eps
    if not (_independent_columns(X, eps) and _independent_columns(Y, eps)):
        return np.full((VL.shape[0], VL.shape[0]), np.nan + 0j)
    M = Y.conj().T @ X
    if np.linalg.cond(M) * eps >= 1:
        return np.full((VL.shape[0], VL.shape[0]), np.nan + 0j)
    return X @ np.linalg.solve(M, Y.conj().T)


@ieee_kernel
def spectral_projector(T, VL, VR, wr, wi, label, c):
    """Spectral projector ``P_c`` (in the coordinates of ``T``) of the cluster labelled
    ``c`` (`eigenvalue_clusters`); NaN where the cluster is defective or ``P_c`` cannot be
    formed.

    From the cluster's eigenvectors when they are reliable. At a repeated eigenvalue
    ``trevc`` meets (nearly) zero pivots, and rounding-level couplings in ``T`` can make
    the vectors of a semisimple cluster nearly parallel; then ``P_c = I - Σ_{d≠c} P_d``
    from the other clusters (when those are reliable), and the cluster counts as
    defective unless ``‖(T - λI) P_c‖_F ≤ 10 · tol · ‖P_c‖_F`` (`repeated_tolerance`): a
    Jordan block leaves its nilpotent part there.
    """
    members = np.nonzero(label == c)[0]
    P = _projector_from_vectors(VL, VR, wi, members)
    if np.all(np.isfinite(P)):
        return P
    n = T.shape[0]
    P = np.eye(n, dtype=np.complex128)
    for d in range(n):
        if label[d] == d and d != c:
            P -= _projector_from_vectors(VL, VR, wi, np.nonzero(label == d)[0])
    k = members[0]
    shifted = T.astype(np.complex128) - (wr[k] + 1j * wi[k]) * np.eye(n)
    residual = np.sqrt(np.sum(np.abs(shifted @ P) ** 2))
    if not residual <= 10 * repeated_tolerance(T) * np.sqrt(np.sum(np.abs(P) ** 2)):
        return np.full((n, n), np.nan + 0j)
    return P


@njit(cache=True)
def eigvals_pullback(T, Q, wr, wi, g_re, g_im):
    """`eigvals_pullback_unchecked`, raising ``ValueError`` where it is not finite."""
    return _check_finite_gradient(eigvals_pullback_unchecked(T, Q, wr, wi, g_re, g_im))


@ieee_kernel
def eigvals_pullback_unchecked(T, Q, wr, wi, g_re, g_im):
    """Cotangent of ``A`` for eigenvalue cotangents ``(g_re, g_im)``.

    ``Ā = Re Σ_k ḡ_k / conj(s_k) · y_k x_kᴴ`` with ``ḡ_k = g_re[k] + i g_im[k]``,
    right/left eigenvectors ``x_k, y_k`` of ``A`` and ``s_k = y_kᴴ x_k``. In packed
    storage this is ``Ā = Q (Ỹ C X̃ᵀ) Qᵀ`` with ``C`` block diagonal and ``Ỹ, X̃`` the
    eigenvectors of ``T`` from ``trevc``. A cluster of repeated eigenvalues contributes
    through its spectral projector with the mean of its cotangents instead; a defective
    cluster (no projector) makes the result NaN.
    """
    VL, VR = trevc(T, True, True)
    s_re, s_im = _reciprocal_condition_products(VL, VR, wi)
    label = eigenvalue_clusters(T, wr, wi)
    size = np.zeros(T.shape[0], dtype=np.int64)
    for k in label:
        size[k] += 1
    n = T.shape[0]
    W = np.zeros((n, n), dtype=T.dtype).T  # column-major, like VL and VR
    j = 0
    while j < n:
        step = 1 if wi[j] == 0 else 2
        if size[label[j]] > 1 or size[label[j + step - 1]] > 1:
            j += step  # clustered: added through the spectral projector below
            continue
        if step == 1:
            W[:, j] = VL[:, j] * (g_re[j] / s_re[j])
        else:
            # a = ḡ_j / conj(s), b = ḡ_{j+1} / s; block [[Re(a+b), Im(a-b)], [Im(b-a), Re(a+b)]]
            s = s_re[j] + 1j * s_im[j]
            a = (g_re[j] + 1j * g_im[j]) * reciprocal(np.conj(s))
            b = (g_re[j + 1] + 1j * g_im[j + 1]) * reciprocal(s)
            c11 = (a + b).real
            c12 = (a - b).imag
            W[:, j] = VL[:, j] * c11 - VL[:, j + 1] * c12
            W[:, j + 1] = VL[:, j] * c12 + VL[:, j + 1] * c11
        j += step
    if np.all(size == 1):
        # W lower and VR upper quasi-triangular (the pairs' 2 x 2 blocks): so is the
        # product G = W VRᵀ, and Q G Qᵀ needs one general product
        G = quasi_triangular_times(W, VR, wi, False, True)
        return quasi_triangular_times(Q, G, wi, True, False) @ Q.T
    # only the simple eigenvalues' columns: trevc's vectors of a cluster may be inf
    simple = np.nonzero(size[label] == 1)[0]
    G = np.ascontiguousarray(W[:, simple]) @ np.ascontiguousarray(VR[:, simple]).T
    g = g_re + 1j * g_im
    for c in range(n):
        if size[c] > 1:
            gamma = np.mean(
                g[label == c]
            )  # Re(gamma P_cᴴ): the gradient of gamma Σ_{k∈c} λ_k
            P = spectral_projector(T, VL, VR, wr, wi, label, c)
            G += (gamma * P.conj().T).real.astype(T.dtype)
    return Q @ G @ Q.T


@ieee_kernel
def _gauge_pullback(v_re, v_im, g_re, g_im):
    """Pull cotangents of gauge-fixed eigenvectors back to the unnormalized ones.

    For ``v = N(u) = u · conj(u_p) / (|u_p| ‖u‖)`` at ``‖v‖ = 1``, ``v_p > 0``:
    ``ū = v̄ - Re(v̄ᴴ v) v + i Im(v̄ᴴ v) / v_p · e_p``.
    """
    u_re = g_re.copy()
    u_im = g_im.copy()
    for k in range(v_re.shape[1]):
        vr, vi = v_re[:, k], v_im[:, k]
        z_re = np.sum(g_re[:, k] * vr) + np.sum(g_im[:, k] * vi)
        z_im = np.sum(g_re[:, k] * vi) - np.sum(g_im[:, k] * vr)
        u_re[:, k] -= z_re * vr
        u_im[:, k] -= z_re * vi
        p = _largest_modulus_index(vr, vi)
        u_im[p, k] += z_im / vr[p]
    return u_re, u_im


@njit(cache=True)
def _mix_rows(R, wi):
    """``Eᴴ R``: packed coordinates to complex ones, pair rows ``(j, j+1) → (R_j - iR_{j+1}, R_j + iR_{j+1})``."""
    G = R.copy()
    for j in range(wi.shape[0]):
        if wi[j] > 0:
            G[j] = R[j] - 1j * R[j + 1]
            G[j + 1] = R[j] + 1j * R[j + 1]
    return G


@njit(cache=True)
def _unmix(K, wi):
    """``Re(E K Eᴴ)``: complex coordinates back to packed ones."""
    M = K.copy()
    for j in range(wi.shape[0]):
        if wi[j] > 0:
            M[j] = K[j] + K[j + 1]
            M[j + 1] = 1j * (K[j] - K[j + 1])
    N = M.copy()
    for j in range(wi.shape[0]):
        if wi[j] > 0:
            N[:, j] = M[:, j] + M[:, j + 1]
            N[:, j + 1] = 1j * (M[:, j + 1] - M[:, j])
    return N.real.copy()


@ieee_kernel
def eig_pullback(T, Q, wr, wi, v_re, v_im, gw_re, gw_im, gv_re, gv_im):
    """Cotangent of ``A`` for cotangents of all outputs of `eig`.

    With ``V`` the gauge-fixed eigenvectors, ``Ū`` the eigenvector cotangent pulled back
    through the gauge, ``F_ij = 1/(λ_j - λ_i)`` (``i ≠ j``) and ``S = diag(s)``,
    ``s_k = y_kᴴ v_k`` for the left eigenvectors ``y_k = Q ỹ_k`` from ``trevc``:
    ``Ā = Re(Y S⁻ᴴ H Vᴴ)``, ``H = diag(ḡ) + conj(F) ∘ (Vᴴ Ū)``, since ``V⁻ᴴ = Y S⁻ᴴ``.
    Evaluated with real matrix products in packed storage.
    """
    n = T.shape[0]
    u_re, u_im = _gauge_pullback(v_re, v_im, gv_re, gv_im)
    if not (np.any(u_re) or np.any(u_im)):
        return eigvals_pullback(T, Q, wr, wi, gw_re, gw_im)
    label = eigenvalue_clusters(T, wr, wi)
    if np.any(label != np.arange(n)):
        raise ValueError(
            "Eigenvectors are not differentiable at repeated eigenvalues; "
            "the loss depends on eigenvectors of a repeated eigenvalue"
        )
    VL, _ = trevc(T, True, False)
    PY = Q @ VL
    PV = v_re.copy()
    for j in range(n):
        if wi[j] > 0:
            PV[:, j + 1] = v_im[:, j]
    s_re, s_im = _reciprocal_condition_products(PY, PV, wi)
    G = _mix_rows((PV.T @ u_re) + 1j * (PV.T @ u_im), wi)
    w = wr + 1j * wi
    H = np.empty((n, n), dtype=np.complex128)
    for i in range(n):
        for k in range(n):
            if i == k:
                H[i, k] = gw_re[k] + 1j * gw_im[k]
            else:
                H[i, k] = G[i, k] / np.conj(w[k] - w[i])
        H[i] *= reciprocal(s_re[i] - 1j * s_im[i])
    C = _unmix(H, wi).astype(T.dtype)
    return _check_finite_gradient(PY @ C @ PV.T)


@ieee_kernel
def eigvals_pushforward(T, Q, wr, wi, dA):
    """Eigenvalue tangents ``dλ_k = ỹ_kᴴ (Qᵀ dA Q) x̃_k / s_k``; a cluster of repeated
    eigenvalues gets the mean ``tr(P_c dA) / |c|`` (the adjoint of `eigvals_pullback`).
    """
    VL, VR = trevc(T, True, True)
    n = T.shape[0]
    dT = Q.T @ dA @ Q
    D = dT @ VR
    everything = np.arange(n)
    Y = _complex_columns(VL, wi, everything)
    X = _complex_columns(VR, wi, everything)
    Dc = _complex_columns(D, wi, everything)
    dw = np.empty(n, dtype=np.complex128)
    for k in range(n):
        dw[k] = np.sum(np.conj(Y[:, k]) * Dc[:, k]) * reciprocal(
            np.sum(np.conj(Y[:, k]) * X[:, k])
        )
    label = eigenvalue_clusters(T, wr, wi)
    for c in range(n):
        members = np.nonzero(label == c)[0]
        if len(members) > 1:
            P = spectral_projector(T, VL, VR, wr, wi, label, c)
            dw[members] = np.trace(P @ dT.astype(np.complex128)) / len(members)
    for k in range(n):
        if wi[k] == 0:
            dw[k] = dw[k].real
    dw_re = np.ascontiguousarray(dw.real).astype(T.dtype)
    dw_im = np.ascontiguousarray(dw.imag).astype(T.dtype)
    return _check_finite_gradient(dw_re), _check_finite_gradient(dw_im)


@njit(cache=True)
def _mix_columns(R, wi):
    """``R E``: packed coordinates to complex ones, pair columns
    ``(j, j+1) → (R_j + iR_{j+1}, R_j - iR_{j+1})`` (``X = P_X E`` for packed ``P_X``)."""
    G = R.astype(np.complex128)
    for j in range(wi.shape[0]):
        if wi[j] > 0:
            G[:, j] = R[:, j] + 1j * R[:, j + 1]
            G[:, j + 1] = R[:, j] - 1j * R[:, j + 1]
    return G


@ieee_kernel
def eigvals_second_order(T, Q, wr, wi, g_re, g_im, C):
    """Pullback of `eigvals_pullback` for a cotangent ``C`` of its output ``Ā``.

    ``⟨C, Ā(A, ḡ)⟩ = Σ_k Re(conj(ḡ_k) dλ_k[C])``, so the cotangent of ``ḡ`` is the
    eigenvalue tangent ``dλ[C] = diag(C̃)``, ``C̃ = X⁻¹ C X``, and the cotangent of ``A`` is
    the gradient of ``Σ_k Re(conj(ḡ_k) d²λ_k[C, E])`` in ``E``, where
    ``d²λ_k[C, E] = Σ_{j≠k} (C̃_kj Ẽ_jk + Ẽ_kj C̃_jk) / (λ_k - λ_j)``:

        ``H = Re(X⁻ᴴ M Xᴴ)``, ``M_pq = conj(C̃_qp) (ḡ_p - ḡ_q) / conj(λ_p - λ_q)`` (``p ≠ q``),

    with ``X⁻¹`` the rows ``y_pᴴ / s_p`` from the left eigenvectors (``trevc``), no
    inverse. Real products in packed storage. Returns ``(H, dλ_re, dλ_im)``; repeated
    eigenvalues (where the second derivative is not defined by these formulas) raise
    ``ValueError``.
    """
    n = T.shape[0]
    label = eigenvalue_clusters(T, wr, wi)
    if np.any(label != np.arange(n)):
        raise ValueError(
            "Second derivatives of eigenvalues are not implemented where any eigenvalues "
            "are repeated"
        )
    VL, VR = trevc(T, True, True)
    PY = Q @ VL
    PX = Q @ VR
    s_re, s_im = _reciprocal_condition_products(VL, VR, wi)
    s = s_re + 1j * s_im
    Ct = _mix_rows(_mix_columns(PY.T @ C @ PX, wi), wi)
    w = wr + 1j * wi
    g = g_re + 1j * g_im
    M = np.zeros((n, n), dtype=np.complex128)
    dw = np.empty(n, dtype=np.complex128)
    for p in range(n):
        dw[p] = Ct[p, p] * reciprocal(s[p])
        for q in range(n):
            if p != q:
                M[p, q] = (
                    np.conj(Ct[q, p] * reciprocal(s[q]))
                    * (g[p] - g[q])
                    / np.conj(w[p] - w[q])
                )
        M[p] *= reciprocal(np.conj(s[p]))
    H = PY @ _unmix(M, wi).astype(T.dtype) @ PX.T
    dw_re = np.ascontiguousarray(dw.real).astype(T.dtype)
    dw_im = np.where(wi == 0, 0.0, dw.imag).astype(T.dtype)
    return (
        _check_finite_gradient(H),
        _check_finite_gradient(dw_re),
        _check_finite_gradient(dw_im),
    )


@njit(cache=True)
def leading_second_order(A, C, modulus):
    """Pullback of the gradient ``G`` of the spectral abscissa (``modulus=False``) or radius
    for a cotangent ``C`` of ``G``: the Hessian of ``m(λ_k)`` applied to ``C``.

    ``λ_k`` is the leading eigenvalue (positive-imaginary member of a pair). With
    ``ḡ = ∇m``, the result is `eigvals_second_order` for ``ḡ e_k`` plus, for the modulus,
    the curvature of ``|z|`` (``[[y², -xy], [-xy, x²]] / |z|³`` in ``z = x + iy``) applied to
    ``dλ_k[C]`` and pulled back through `eigvals_pullback`. A tie between distinct leading
    eigenvalues, ``rho = 0`` and repeated eigenvalues raise ``ValueError`` (no second
    derivative there). ``A`` is scaled by a power of two first (`power_of_two_scale`; the
    Hessian of a positively homogeneous measure scales as ``1/c``), so that ``|λ|³`` cannot
    overflow.
    """
    c = power_of_two_scale(A)
    return _scaled_leading_second_order(A / c, C, modulus) / c


@ieee_kernel
def _scaled_leading_second_order(A, C, modulus):
    """`leading_second_order` for an ``A`` with entries of order one."""
    wr, wi, T, Q = schur_eigvals(A, True)
    n = wr.shape[0]
    m = np.hypot(wr, wi) if modulus else wr.copy()
    k = int(np.argmax(m))
    if wi[k] < 0:
        k -= 1
    tol = repeated_tolerance(T)
    for j in range(n):
        partner = wi[k] != 0 and j == k + 1
        if j != k and not partner and m[j] >= m[k] - tol:
            raise ValueError(
                "The second derivative does not exist here: the leading eigenvalue is "
                "repeated or tied with another eigenvalue"
            )
    g_re = np.zeros(n, dtype=T.dtype)
    g_im = np.zeros(n, dtype=T.dtype)
    if not modulus:
        g_re[k] = 1.0
        return eigvals_second_order(T, Q, wr, wi, g_re, g_im, C)[0]
    r = m[k]
    if r <= tol:
        raise ValueError("The spectral radius is not twice differentiable at zero")
    g_re[k] = wr[k] / r
    g_im[k] = wi[k] / r
    H, dw_re, dw_im = eigvals_second_order(T, Q, wr, wi, g_re, g_im, C)
    x, y, dx, dy = wr[k], wi[k], dw_re[k], dw_im[k]
    g_re[k] = (y * y * dx - x * y * dy) / r**3
    g_im[k] = (x * x * dy - x * y * dx) / r**3
    return H + eigvals_pullback(T, Q, wr, wi, g_re, g_im)


@ieee_kernel
def inverse_adjoint_eigvecs(T, Q, wi, v_re, v_im):
    """``W = V⁻ᴴ`` for the gauge-fixed eigenvectors ``V = v_re + i v_im`` of ``A = Q T Qᵀ``,
    from the left eigenvectors (``trevc``): ``w_k = y_k / conj(y_kᴴ v_k)``, no inverse.
    Returns ``(W_re, W_im)``."""
    VL, _ = trevc(T, True, False)
    n = T.shape[0]
    Y = _complex_columns(Q @ VL, wi, np.arange(n))
    V = v_re + 1j * v_im
    W = np.empty((n, n), dtype=np.complex128)
    for k in range(n):
        W[:, k] = Y[:, k] * reciprocal(np.conj(np.sum(np.conj(Y[:, k]) * V[:, k])))
    W_re = np.ascontiguousarray(W.real).astype(T.dtype)
    W_im = np.ascontiguousarray(W.imag).astype(T.dtype)
    return _check_finite_gradient(W_re), _check_finite_gradient(W_im)
