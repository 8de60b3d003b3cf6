"""Numba implementations of the pseudospectral abscissa and distance to instability ops
(Schur-coordinate iterations certified by Hamiltonian eigenvalues)."""

import numpy as np
from pytensor.link.numba.dispatch.basic import register_funcify_default_op_cache_key

from pytensor_spectral import _hessenberg, _lapack, _pseudospectra, _schur
from pytensor_spectral.link.numba.basic import cache_version, kernel_njit
from pytensor_spectral.pseudospectra import (
    DistanceToInstability,
    PseudospectralAbscissa,
)


CACHE_VERSION = cache_version(
    __file__,
    _hessenberg.__file__,
    _lapack.__file__,
    _pseudospectra.__file__,
    _schur.__file__,
)


@register_funcify_default_op_cache_key(PseudospectralAbscissa)
def numba_funcify_PseudospectralAbscissa(op, node, **kwargs):
    dtype = np.dtype(node.outputs[0].dtype)

    @kernel_njit
    def pseudospectral_abscissa(A, eps):
        value, G, d_eps, _ = _pseudospectra.pseudospectral_abscissa(
            A.astype(np.float64), float(eps.item())
        )
        return (
            np.asarray(value).astype(dtype),
            G.astype(dtype),
            np.asarray(d_eps).astype(dtype),
        )

    return pseudospectral_abscissa, CACHE_VERSION


@register_funcify_default_op_cache_key(DistanceToInstability)
def numba_funcify_DistanceToInstability(op, node, **kwargs):
    dtype = np.dtype(node.outputs[0].dtype)

    @kernel_njit
    def distance_to_instability(A):
        value, G, _ = _pseudospectra.distance_to_instability(A.astype(np.float64))
        return np.asarray(value).astype(dtype), G.astype(dtype)

    return distance_to_instability, CACHE_VERSION
