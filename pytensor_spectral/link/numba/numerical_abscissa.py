"""Numba implementation of the numerical abscissa op (``syevr`` for the largest eigenpair)."""

import numpy as np
from pytensor.link.numba.dispatch.basic import register_funcify_default_op_cache_key

from pytensor_spectral import _lapack, _schur, _symmetric
from pytensor_spectral.link.numba.basic import cache_version, kernel_njit
from pytensor_spectral.numerical_abscissa import NumericalAbscissa


CACHE_VERSION = cache_version(
    __file__, _lapack.__file__, _schur.__file__, _symmetric.__file__
)


@register_funcify_default_op_cache_key(NumericalAbscissa)
def numba_funcify_NumericalAbscissa(op, node, **kwargs):
    dtype = np.dtype(node.outputs[0].dtype)

    @kernel_njit
    def numerical_abscissa(A):
        value, v = _symmetric.numerical_abscissa(A)
        return np.asarray(value).astype(dtype), v

    return numerical_abscissa, CACHE_VERSION
