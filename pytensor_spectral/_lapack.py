"""Numba bindings of the LAPACK and BLAS routines that PyTensor's Numba backend does not
bind.

The routines are reached through ``scipy.linalg.cython_lapack`` / ``cython_blas``
function pointers, cached with PyTensor's ``_call_cached_ptr`` so that the compiled
kernels can be cached on disk. Each binding is built once per routine and dtype (``s``,
``d``; ``z`` for ``trtrs``, which takes no real workspace).
Character arguments are passed as pointers to ``int32`` holding the character code,
as in PyTensor's own bindings.
"""

from functools import cache

import numba
import numpy as np
from numba.core import types
from numba.np.linalg import get_blas_kind
from pytensor.link.numba.cache import _call_cached_ptr
from pytensor.link.numba.dispatch.linalg._BLAS import get_blas_ptr
from pytensor.link.numba.dispatch.linalg._LAPACK import (
    _get_nb_float_from_dtype,
    get_lapack_ptr,
    nb_i32p,
)


# Fortran arguments of each routine, in order; a trailing ``*`` marks a floating-point
# array or scalar, every other argument is an integer, character or logical pointer.
SIGNATURES = {
    "trevc": "SIDE HOWMNY SELECT N T* LDT VL* LDVL VR* LDVR MM M WORK* INFO",
    "gebal": "JOB N A* LDA ILO IHI SCALE* INFO",
    "gehrd": "N ILO IHI A* LDA TAU* WORK* LWORK INFO",
    "hseqr": "JOB COMPZ N ILO IHI H* LDH WR* WI* Z* LDZ WORK* LWORK INFO",
    "trtrs": "UPLO TRANS DIAG N NRHS A* LDA B* LDB INFO",
    "hsein": (
        "SIDE EIGSRC INITV SELECT N H* LDH WR* WI* VL* LDVL VR* LDVR MM M WORK* IFAILL IFAILR INFO"
    ),
    "ormhr": "SIDE TRANS M N ILO IHI A* LDA TAU* C* LDC WORK* LWORK INFO",
    "gebak": "JOB SIDE N ILO IHI SCALE* M V* LDV INFO",
}
BLAS_SIGNATURES = {
    "symv": "UPLO N ALPHA* A* LDA X* INCX BETA* Y* INCY",
    "gemv": "TRANS M N ALPHA* A* LDA X* INCX BETA* Y* INCY",
    "trmm": "SIDE UPLO TRANSA DIAG M N ALPHA* A* LDA B* LDB",
    "syr2k": "UPLO TRANS N K ALPHA* A* LDA B* LDB BETA* C* LDC",
    "symm": "SIDE UPLO M N ALPHA* A* LDA B* LDB BETA* C* LDC",
}


@cache
def lapack_routine(name: str, dtype):
    """Return a jitted caller of LAPACK ``?<name>`` for ``dtype`` (``float32``/``float64``,
    or ``complex128`` for ``trtrs``).

    The caller takes the routine's Fortran arguments as pointers, in LAPACK's order
    (see `SIGNATURES`), and returns nothing; results are written through the pointers.
    """
    return _routine("lapack", name, SIGNATURES[name], dtype)


@cache
def blas_routine(name: str, dtype):
    """Return a jitted caller of BLAS ``?<name>`` for ``dtype`` (``float32``/``float64``),
    taking the Fortran arguments of `BLAS_SIGNATURES` as pointers, as `lapack_routine`.

    BLAS is column-major: a C-contiguous ``(m, n)`` array is the ``(n, m)`` matrix of its
    transpose there (its lower triangle is BLAS's upper one)."""
    return _routine("blas", name, BLAS_SIGNATURES[name], dtype)


def _routine(library: str, name: str, signature: str, dtype):
    kind = get_blas_kind(dtype)
    float_pointer = _get_nb_float_from_dtype(kind)
    function_type = types.FunctionType(
        types.void(
            *(float_pointer if a.endswith("*") else nb_i32p for a in signature.split())
        )
    )
    unique_func_name = f"scipy.{library}.{kind}{name}"
    get_ptr = get_lapack_ptr if library == "lapack" else get_blas_ptr

    @numba.njit
    def get_pointer():
        with numba.objmode(ptr=types.intp):
            ptr = get_ptr(dtype, name)
        return ptr

    @numba.njit
    def call(*args):
        fn = _call_cached_ptr(
            get_ptr_func=get_pointer,
            func_type_ref=function_type,
            unique_func_name_lit=unique_func_name,
        )
        fn(*args)

    return call


@numba.njit(cache=True)
def workspace(queried, minimum):
    """Work array of the size a workspace query (``LWORK = -1``) wrote to ``queried[0]``,
    and at least ``minimum`` (and 1), of the dtype of ``queried``."""
    return np.empty(max(int(queried[0]), minimum, 1), dtype=queried.dtype)
