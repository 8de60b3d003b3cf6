"""Numba bindings of the LAPACK routines that SciPy's Python wrappers lack.

The routines are reached through ``scipy.linalg.cython_lapack`` function pointers,
cached with PyTensor's ``_call_cached_ptr`` so that the compiled kernels can be
cached on disk. Each binding is built once per dtype (``s`` or ``d``).
"""

from functools import cache

import numba
from numba.core import types
from numba.np.linalg import get_blas_kind
from pytensor.link.numba.cache import _call_cached_ptr
from pytensor.link.numba.dispatch.linalg._LAPACK import (
    _get_nb_float_from_dtype,
    get_lapack_ptr,
    nb_i32p,
)


@cache
def numba_xtrevc(dtype):
    """Return a jitted ``?trevc`` for ``dtype`` (``float32`` or ``float64``).

    ``?trevc`` computes right and/or left eigenvectors of an upper quasi-triangular
    matrix ``T`` in real Schur form (LAPACK Users' Guide, section 2.4.8).
    """
    kind = get_blas_kind(dtype)
    float_pointer = _get_nb_float_from_dtype(kind)
    unique_func_name = f"scipy.lapack.{kind}trevc"

    @numba.njit
    def get_trevc_pointer():
        with numba.objmode(ptr=types.intp):
            ptr = get_lapack_ptr(dtype, "trevc")
        return ptr

    trevc_function_type = types.FunctionType(
        types.void(
            nb_i32p,  # SIDE
            nb_i32p,  # HOWMNY
            nb_i32p,  # SELECT
            nb_i32p,  # N
            float_pointer,  # T
            nb_i32p,  # LDT
            float_pointer,  # VL
            nb_i32p,  # LDVL
            float_pointer,  # VR
            nb_i32p,  # LDVR
            nb_i32p,  # MM
            nb_i32p,  # M
            float_pointer,  # WORK
            nb_i32p,  # INFO
        )
    )

    @numba.njit
    def trevc(SIDE, HOWMNY, SELECT, N, T, LDT, VL, LDVL, VR, LDVR, MM, M, WORK, INFO):
        fn = _call_cached_ptr(
            get_ptr_func=get_trevc_pointer,
            func_type_ref=trevc_function_type,
            unique_func_name_lit=unique_func_name,
        )
        fn(SIDE, HOWMNY, SELECT, N, T, LDT, VL, LDVL, VR, LDVR, MM, M, WORK, INFO)

    return trevc
