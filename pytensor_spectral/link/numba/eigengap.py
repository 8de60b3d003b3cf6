"""Numba implementation of the eigengap op (``syevr`` for two eigenpairs)."""

import numpy as np
from pytensor.link.numba.dispatch.basic import register_funcify_default_op_cache_key

from pytensor_spectral import _eigengap, _lapack, _schur, _symmetric
from pytensor_spectral.eigengap import Eigengap
from pytensor_spectral.link.numba.basic import cache_version, kernel_njit


CACHE_VERSION = cache_version(
    __file__, _eigengap.__file__, _lapack.__file__, _schur.__file__, _symmetric.__file__
)


@register_funcify_default_op_cache_key(Eigengap)
def numba_funcify_Eigengap(op, node, **kwargs):
    dtype = np.dtype(node.outputs[0].dtype)

    @kernel_njit
    def eigengap(A, k):
        gap, V = _eigengap.eigengap(A, k)
        return np.asarray(gap).astype(dtype), V

    return eigengap, CACHE_VERSION
