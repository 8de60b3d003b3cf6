"""Numba implementations of the spectral abscissa and radius ops (Hessenberg QR and inverse iteration)."""

import numpy as np
from pytensor.link.numba.dispatch.basic import register_funcify_default_op_cache_key

from pytensor_spectral import _hessenberg, _lapack, _schur
from pytensor_spectral.abscissa import LeadingEigenvalue, LeadingEigenvalueHessian
from pytensor_spectral.link.numba.basic import cache_version, kernel_njit


CACHE_VERSION = cache_version(
    __file__, _hessenberg.__file__, _lapack.__file__, _schur.__file__
)


@register_funcify_default_op_cache_key(LeadingEigenvalue)
def numba_funcify_LeadingEigenvalue(op, node, **kwargs):
    measure = _hessenberg.MEASURE_CODES[op.measure]
    dtype = np.dtype(node.outputs[0].dtype)

    @kernel_njit
    def leading_eigenvalue(A):
        value, G = _hessenberg.leading_eigenvalue(A, measure)
        return np.asarray(value).astype(dtype), G

    return leading_eigenvalue, CACHE_VERSION


@register_funcify_default_op_cache_key(LeadingEigenvalueHessian)
def numba_funcify_LeadingEigenvalueHessian(op, node, **kwargs):
    modulus = op.measure == "modulus"
    dtype = np.dtype(node.outputs[0].dtype)

    @kernel_njit
    def leading_eigenvalue_hessian(A, C):
        return _schur.leading_second_order(A, C.astype(dtype), modulus)

    return leading_eigenvalue_hessian, CACHE_VERSION
