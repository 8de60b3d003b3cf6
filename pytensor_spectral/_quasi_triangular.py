r"""Recursive blocked solvers for Lyapunov and Sylvester equations whose coefficient is
an upper quasi-triangular matrix (a real Schur form).

`lyapunov` solves :math:`M X + X M^\top = C` or, transposed, :math:`M^\top X + X M = C`
for a symmetric ``C``, in place. This is the recursive scheme of Jonsson and Kågström
(*Recursive blocked algorithms for solving triangular systems*, ACM TOMS 28(4), 2002;
RECSY's ``RECLYCT``): split :math:`M = \begin{pmatrix} M_{11} & M_{12} \\ 0 & M_{22}
\end{pmatrix}` (never inside a 2 x 2 diagonal block); for :math:`M X + X M^\top = C`

.. math::
    M_{22} X_{22} + X_{22} M_{22}^\top = C_{22}, \quad
    M_{11} X_{12} + X_{12} M_{22}^\top = C_{12} - M_{12} X_{22}, \quad
    M_{11} X_{11} + X_{11} M_{11}^\top = C_{11} - M_{12} X_{12}^\top - X_{12} M_{12}^\top,

(the transposed equation runs the same steps from the top-left block), the Sylvester
equation for :math:`X_{12}` split recursively along its larger dimension the same way.
The updates are BLAS level-3 calls on sub-blocks (``gemm``; ``symm`` with the symmetric
:math:`X_{22}` and the rank-2k ``syr2k`` on :math:`C_{11}` touch one triangle only: the
symmetry of :math:`X` is used throughout), the leaves of at most `LEAF` rows and columns
are LAPACK ``trsyl`` solves. The recursion runs as a loop over an explicit stack of
tasks. Only the upper triangle of each diagonal block is formed; the lower triangle of
``X`` is copied from it at the end.

``trsyl`` may scale a leaf's solution down to avoid overflow (``scale < 1``); that cannot
be propagated through the block updates, so `lyapunov` then reports failure and the
caller solves the whole equation with one ``trsyl`` call instead.
"""

import numpy as np
from numba import njit
from numba.extending import overload
from numba.np.linalg import ensure_lapack
from pytensor.link.numba.dispatch.linalg._BLAS import _BLAS
from pytensor.link.numba.dispatch.linalg._LAPACK import (
    _LAPACK,
    int_ptr_to_val,
    val_to_int_ptr,
)

from pytensor_spectral._lapack import blas_routine


LEAF = 16
"""Largest block solved by ``trsyl`` directly.
Measured, one BLAS thread, a solve and its adjoint on the Schur form of a Gaussian
matrix: 3.0-3.2 / 23-24 ms at n = 200 / 500 with 16 (and with 8 or 24), 3.4-3.5 / 29-31
ms with 32: ``trsyl`` is level-2 code, and smaller leaves move its work into the
``gemm`` updates."""

LYAPUNOV, SYLVESTER, SYMM, SYR2K, ROW_UPDATE, COLUMN_UPDATE = range(6)
"""Tasks of the explicit recursion stack: ``(task, r0, r1, c0, c1, mid)``."""

NORMAL, TRANSPOSE, LEFT, RIGHT = ord("N"), ord("T"), ord("L"), ord("R")


@njit(cache=True)
def leading_dimension(X):
    """The leading dimension of a column-major block (a slice of an F-contiguous
    matrix)."""
    return max(X.strides[1] // X.itemsize, 1)


def trsyl(trana, tranb, A, B, C):
    """``op(A) X + X op(B) = C`` in place of ``C`` by LAPACK ``trsyl``; returns whether
    it succeeded without scaling."""
    raise NotImplementedError("trsyl is only callable from jitted code")


@overload(trsyl)
def _trsyl_impl(trana, tranb, A, B, C):
    ensure_lapack()
    xtrsyl = _LAPACK().numba_xtrsyl(A.dtype)

    def impl(trana, tranb, A, B, C):
        scale = np.ones(1, dtype=A.dtype)
        info = val_to_int_ptr(0)
        xtrsyl(
            val_to_int_ptr(trana),
            val_to_int_ptr(tranb),
            val_to_int_ptr(1),
            val_to_int_ptr(C.shape[0]),
            val_to_int_ptr(C.shape[1]),
            A.ctypes,
            val_to_int_ptr(leading_dimension(A)),
            B.ctypes,
            val_to_int_ptr(leading_dimension(B)),
            C.ctypes,
            val_to_int_ptr(leading_dimension(C)),
            scale.ctypes,
            info,
        )
        return int_ptr_to_val(info) >= 0 and scale[0] == 1

    return impl


def gemm_update(transa, transb, A, B, C):
    """``C -= op(A) op(B)`` (BLAS ``gemm``)."""
    raise NotImplementedError("gemm_update is only callable from jitted code")


@overload(gemm_update)
def _gemm_update_impl(transa, transb, A, B, C):
    gemm = _BLAS().numba_xgemm(A.dtype)

    def impl(transa, transb, A, B, C):
        one = np.ones(1, dtype=A.dtype)
        minus_one = -one
        inner = A.shape[1] if transa == NORMAL else A.shape[0]
        gemm(
            val_to_int_ptr(transa),
            val_to_int_ptr(transb),
            val_to_int_ptr(C.shape[0]),
            val_to_int_ptr(C.shape[1]),
            val_to_int_ptr(inner),
            minus_one.ctypes,
            A.ctypes,
            val_to_int_ptr(leading_dimension(A)),
            B.ctypes,
            val_to_int_ptr(leading_dimension(B)),
            one.ctypes,
            C.ctypes,
            val_to_int_ptr(leading_dimension(C)),
        )

    return impl


def symm_update(side, S, B, C):
    """``C -= S B`` (``side`` `LEFT`) or ``C -= B S`` (`RIGHT`) for a symmetric ``S`` of
    which only the upper triangle is read (BLAS ``symm``)."""
    raise NotImplementedError("symm_update is only callable from jitted code")


@overload(symm_update)
def _symm_update_impl(side, S, B, C):
    symm = blas_routine("symm", S.dtype)

    def impl(side, S, B, C):
        one = np.ones(1, dtype=S.dtype)
        minus_one = -one
        symm(
            val_to_int_ptr(side),
            val_to_int_ptr(ord("U")),
            val_to_int_ptr(C.shape[0]),
            val_to_int_ptr(C.shape[1]),
            minus_one.ctypes,
            S.ctypes,
            val_to_int_ptr(leading_dimension(S)),
            B.ctypes,
            val_to_int_ptr(leading_dimension(B)),
            one.ctypes,
            C.ctypes,
            val_to_int_ptr(leading_dimension(C)),
        )

    return impl


def syr2k_update(trans, A, B, C):
    """``C -= A Bᵀ + B Aᵀ`` (``trans`` normal) or ``C -= Aᵀ B + Bᵀ A``, upper triangle of
    ``C`` only (BLAS ``syr2k``)."""
    raise NotImplementedError("syr2k_update is only callable from jitted code")


@overload(syr2k_update)
def _syr2k_update_impl(trans, A, B, C):
    syr2k = blas_routine("syr2k", A.dtype)

    def impl(trans, A, B, C):
        one = np.ones(1, dtype=A.dtype)
        minus_one = -one
        inner = A.shape[1] if trans == NORMAL else A.shape[0]
        syr2k(
            val_to_int_ptr(ord("U")),
            val_to_int_ptr(trans),
            val_to_int_ptr(C.shape[0]),
            val_to_int_ptr(inner),
            minus_one.ctypes,
            A.ctypes,
            val_to_int_ptr(leading_dimension(A)),
            B.ctypes,
            val_to_int_ptr(leading_dimension(B)),
            one.ctypes,
            C.ctypes,
            val_to_int_ptr(leading_dimension(C)),
        )

    return impl


@njit(cache=True)
def split_point(M, k0, k1):
    """A split of the diagonal range ``k0:k1`` (at least 2 long) near its middle that
    does not cut a 2 x 2 diagonal block of ``M``."""
    mid = (k0 + k1) // 2
    if M[mid, mid - 1] != 0:
        mid = mid + 1 if mid + 1 < k1 else mid - 1
    return mid


@njit(cache=True)
def _lyapunov_tasks(stack, M, k0, k1, transposed):
    """Push the steps of the Lyapunov equation on the diagonal block ``k0:k1``, in
    reverse order of execution (the transposed equation starts at the top-left block)."""
    mid = split_point(M, k0, k1)
    top, bottom = (LYAPUNOV, k0, mid, k0, mid, 0), (LYAPUNOV, mid, k1, mid, k1, 0)
    if transposed:
        top, bottom = bottom, top
    stack.append(top)
    stack.append((SYR2K, k0, mid, mid, k1, 0))
    stack.append((SYLVESTER, k0, mid, mid, k1, 0))
    stack.append((SYMM, k0, mid, mid, k1, 0))
    stack.append(bottom)


@njit(cache=True)
def _sylvester_tasks(stack, M, r0, r1, c0, c1, transposed):
    """Push the steps of the Sylvester equation of the block ``r0:r1 x c0:c1`` split
    along its larger dimension, in reverse order of execution. Untransposed
    (``A Y + Y Bᵀ = C``, ``A = M[r0:r1, r0:r1]``, ``B = M[c0:c1, c0:c1]``) the bottom
    rows and the right columns come first; transposed (``Aᵀ Y + Y B = C``) the top rows
    and the left columns."""
    if r1 - r0 >= c1 - c0:
        mid = split_point(M, r0, r1)
        first = (SYLVESTER, r0, mid, c0, c1, 0)
        second = (SYLVESTER, mid, r1, c0, c1, 0)
        update = (ROW_UPDATE, r0, r1, c0, c1, mid)
    else:
        mid = split_point(M, c0, c1)
        first = (SYLVESTER, r0, r1, c0, mid, 0)
        second = (SYLVESTER, r0, r1, mid, c1, 0)
        update = (COLUMN_UPDATE, r0, r1, c0, c1, mid)
    if not transposed:
        first, second = second, first
    stack.append(second)
    stack.append(update)
    stack.append(first)


@njit(cache=True)
def _run_update(task, M, X, r0, r1, c0, c1, mid, transposed):
    """One block update of the recursion (see the module docstring)."""
    if task == SYMM:  # X12 -= M12 X22, or X12 -= X11 M12 (transposed)
        if transposed:
            symm_update(LEFT, X[r0:r1, r0:r1], M[r0:r1, c0:c1], X[r0:r1, c0:c1])
        else:
            symm_update(RIGHT, X[c0:c1, c0:c1], M[r0:r1, c0:c1], X[r0:r1, c0:c1])
    elif task == SYR2K:  # X11 -= M12 X12ᵀ + X12 M12ᵀ, or X22 -= M12ᵀ X12 + X12ᵀ M12
        if transposed:
            syr2k_update(TRANSPOSE, M[r0:r1, c0:c1], X[r0:r1, c0:c1], X[c0:c1, c0:c1])
        else:
            syr2k_update(NORMAL, M[r0:r1, c0:c1], X[r0:r1, c0:c1], X[r0:r1, r0:r1])
    elif task == ROW_UPDATE:  # Y1 -= A12 Y2, or Y2 -= A12ᵀ Y1 (transposed)
        A12 = M[r0:mid, mid:r1]
        if transposed:
            gemm_update(TRANSPOSE, NORMAL, A12, X[r0:mid, c0:c1], X[mid:r1, c0:c1])
        else:
            gemm_update(NORMAL, NORMAL, A12, X[mid:r1, c0:c1], X[r0:mid, c0:c1])
    else:  # Y1 -= Y2 B12ᵀ, or Y2 -= Y1 B12 (transposed)
        B12 = M[c0:mid, mid:c1]
        if transposed:
            gemm_update(NORMAL, NORMAL, X[r0:r1, c0:mid], B12, X[r0:r1, mid:c1])
        else:
            gemm_update(NORMAL, TRANSPOSE, X[r0:r1, mid:c1], B12, X[r0:r1, c0:mid])


@njit(cache=True)
def _symmetrize_upper(X):
    """Copy the upper triangle of the square ``X`` to its lower one."""
    for j in range(X.shape[1]):
        for i in range(j + 1, X.shape[0]):
            X[i, j] = X[j, i]


@njit(cache=True)
def lyapunov(M, X, transposed):
    """Solve ``M X + X Mᵀ = C`` (``transposed``: ``Mᵀ X + X M = C``) in place of the
    symmetric ``C`` stored in ``X`` (its upper triangle is read), for the upper
    quasi-triangular ``M``; both F-contiguous. Returns ``False`` if a ``trsyl`` leaf
    scaled its solution (then ``X`` is meaningless)."""
    trana, tranb = (TRANSPOSE, NORMAL) if transposed else (NORMAL, TRANSPOSE)
    n = M.shape[0]
    stack = [(LYAPUNOV, 0, n, 0, n, 0)]
    while len(stack) > 0:
        task, r0, r1, c0, c1, mid = stack.pop()
        if task == LYAPUNOV and r1 - r0 <= LEAF:
            _symmetrize_upper(X[r0:r1, r0:r1])
            A = M[r0:r1, r0:r1]
            if not trsyl(trana, tranb, A, A, X[r0:r1, r0:r1]):
                return False
        elif task == LYAPUNOV:
            _lyapunov_tasks(stack, M, r0, r1, transposed)
        elif task == SYLVESTER and max(r1 - r0, c1 - c0) <= LEAF:
            A, B = M[r0:r1, r0:r1], M[c0:c1, c0:c1]
            if not trsyl(trana, tranb, A, B, X[r0:r1, c0:c1]):
                return False
        elif task == SYLVESTER:
            _sylvester_tasks(stack, M, r0, r1, c0, c1, transposed)
        else:
            _run_update(task, M, X, r0, r1, c0, c1, mid, transposed)
    _symmetrize_upper(X)
    return True
