"""Numba implementation of the leading singular triplet (thick-restart Lanczos on
``AᵀA``, dense ``syevr`` fallback)."""

import numpy as np
from pytensor.link.numba.dispatch.basic import register_funcify_default_op_cache_key

from pytensor_spectral import _leading
from pytensor_spectral.link.numba.basic import cache_version, kernel_njit
from pytensor_spectral.link.numba.symmetric import KERNEL_FILES
from pytensor_spectral.svd import LeadingSingularTriplet


CACHE_VERSION = cache_version(__file__, *KERNEL_FILES)


@register_funcify_default_op_cache_key(LeadingSingularTriplet)
def numba_funcify_LeadingSingularTriplet(op, node, **kwargs):
    dtype = np.dtype(node.outputs[1].dtype)
    krylov_dim, max_restarts, tol, crossover = op.kernel_controls(dtype)

    @kernel_njit
    def leading_singular_triplet(A, v0):
        u, sigma, v, products = _leading.leading_singular_triplet(
            A, v0, krylov_dim, max_restarts, tol, crossover
        )
        return (
            u,
            np.asarray(sigma).astype(dtype),
            v,
            np.asarray(products, dtype=np.int64),
        )

    return leading_singular_triplet, CACHE_VERSION
