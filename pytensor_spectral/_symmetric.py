"""Jitted kernels for selected eigenpairs of a real symmetric matrix (LAPACK ``syevr``)."""

import numpy as np
from numba import njit
from numba.extending import overload
from numba.np.linalg import ensure_lapack
from pytensor.link.numba.dispatch.linalg._LAPACK import (
    _LAPACK,
    int_ptr_to_val,
    val_to_int_ptr,
)

from pytensor_spectral import _schur
from pytensor_spectral._lapack import workspace


def symmetric_eigpairs(S, il, iu):
    """Eigenvalues ``il..iu`` (1-based, ascending) of the symmetric ``S`` and their unit
    eigenvectors, from its lower triangle (LAPACK ``syevr``, MRRR). Returns ``(w, Z)``."""
    raise NotImplementedError("symmetric_eigpairs is only callable from jitted code")


@overload(symmetric_eigpairs)
def _symmetric_eigpairs_impl(S, il, iu):
    ensure_lapack()
    dtype = S.dtype
    xsyevr = _LAPACK().numba_xsyevr(dtype)

    def impl(S, il, iu):
        n = S.shape[0]
        m = iu - il + 1
        ld = val_to_int_ptr(max(n, 1))
        work_matrix = np.asfortranarray(S.copy())
        w = np.empty(max(n, 1), dtype=dtype)
        Z = np.empty((m, n), dtype=dtype).T
        isuppz = np.empty(2 * max(m, 1), dtype=np.int32)
        bound = np.zeros(1, dtype=dtype)
        found = val_to_int_ptr(0)
        info = val_to_int_ptr(0)
        work = np.empty(1, dtype=dtype)
        iwork = np.empty(1, dtype=np.int32)
        for query in (True, False):
            if not query:
                work = workspace(work, 1)
                iwork = workspace(iwork, 1)
            xsyevr(
                val_to_int_ptr(ord("V")),
                val_to_int_ptr(ord("I")),
                val_to_int_ptr(ord("L")),
                val_to_int_ptr(n),
                work_matrix.ctypes,
                ld,
                bound.ctypes,
                bound.ctypes,
                val_to_int_ptr(il),
                val_to_int_ptr(iu),
                bound.ctypes,
                found,
                w.ctypes,
                Z.ctypes,
                ld,
                isuppz.ctypes,
                work.ctypes,
                val_to_int_ptr(-1 if query else work.size),
                iwork.ctypes,
                val_to_int_ptr(-1 if query else iwork.size),
                info,
            )
        if int_ptr_to_val(info) != 0:
            raise ValueError("The symmetric eigensolver failed to converge (syevr)")
        return w[:m].copy(), np.ascontiguousarray(Z)

    return impl


@njit(cache=True)
def numerical_abscissa(A):
    """``ω(A) = λmax((A + Aᵀ)/2)`` and its unit eigenvector ``v`` (sign: largest-modulus
    component positive), so that ``∂ω/∂A = v vᵀ``."""
    _schur.check_square_finite(A)
    n = A.shape[0]
    if n == 0:
        raise ValueError("The numerical abscissa of an empty matrix is undefined")
    S = A + A.T
    S *= 0.5  # in place: keeps float32 input in float32
    w, Z = symmetric_eigpairs(S, n, n)
    v = Z[:, 0].copy()
    p = np.argmax(np.abs(v))
    if v[p] < 0:
        v = -v
    return w[0], v


@njit(cache=True)
def symmetrize_triangle(A, lower, adjoint, antisymmetric=False):
    """The symmetric matrix that LAPACK's symmetric solvers see in one triangle of ``A``,
    ``tril(A) + tril(A, -1)ᵀ`` (``lower``) or ``triu(A) + triu(A, 1)ᵀ``; with ``adjoint``,
    the adjoint map ``G -> tril(G + Gᵀ) - diag(G)`` (resp. ``triu``). ``antisymmetric``:
    the antisymmetric matrix of the strict triangle, ``tril(A, -1) - tril(A, -1)ᵀ``, with
    the adjoint ``G -> tril(G - Gᵀ, -1)``."""
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError("Expected a square matrix")
    n = A.shape[0]
    sign = -1.0 if antisymmetric else 1.0
    out = np.empty((n, n), dtype=A.dtype)
    for i in range(n):
        for j in range(n):
            in_triangle = i >= j if lower else i <= j
            if i == j:
                out[i, j] = 0.0 if antisymmetric else A[i, j]
            elif not adjoint:
                out[i, j] = A[i, j] if in_triangle else sign * A[j, i]
            elif not in_triangle:
                out[i, j] = 0.0
            else:
                out[i, j] = A[i, j] + sign * A[j, i]
    return out


@njit(cache=True)
def folded_outer(g, x, y, lower):
    """``symmetrize_triangle(g x yᵀ, lower, adjoint=True)`` in one pass over the output:
    ``g (x_i y_j + y_i x_j)`` in the strict triangle, ``g x_i y_i`` on the diagonal,
    zero in the other triangle."""
    n = x.shape[0]
    out = np.empty((n, n), dtype=x.dtype)
    for i in range(n):
        gx, gy = g * x[i], g * y[i]
        for j in range(n):
            if j == i:
                out[i, j] = gx * y[i]
            elif (j < i) == lower:
                out[i, j] = gx * y[j] + gy * x[j]
            else:
                out[i, j] = 0.0
    return out
