"""Numba implementation of the smoothed spectral abscissa op (Lyapunov solves by ``trsyl``)."""

import numpy as np
from pytensor.link.numba.dispatch.basic import register_funcify_default_op_cache_key

from pytensor_spectral import _lapack, _lyapunov, _schur
from pytensor_spectral.link.numba.basic import cache_version, kernel_njit
from pytensor_spectral.ssa import SmoothedSpectralAbscissa


CACHE_VERSION = cache_version(
    __file__, _lapack.__file__, _lyapunov.__file__, _schur.__file__
)


@register_funcify_default_op_cache_key(SmoothedSpectralAbscissa)
def numba_funcify_SmoothedSpectralAbscissa(op, node, **kwargs):
    dtype = np.dtype(node.outputs[0].dtype)

    @kernel_njit
    def smoothed_spectral_abscissa(A, eps):
        value, G, d_eps, _ = _lyapunov.ssa(A, eps.item())
        return (
            np.asarray(value).astype(dtype),
            G.astype(dtype),
            np.asarray(d_eps).astype(dtype),
        )

    return smoothed_spectral_abscissa, CACHE_VERSION
