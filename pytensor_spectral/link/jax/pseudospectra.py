"""JAX implementations of the pseudospectral abscissa and distance to instability ops:
host callbacks (the Numba kernels on the CPU), with the op's pullback as its VJP."""

from pytensor.link.jax.dispatch import jax_funcify

from pytensor_spectral.link.jax.basic import host_perform, with_pullback
from pytensor_spectral.pseudospectra import (
    DistanceToInstability,
    PseudospectralAbscissa,
)


@jax_funcify.register(PseudospectralAbscissa)
def jax_funcify_PseudospectralAbscissa(op, node, **kwargs):
    return with_pullback(op, node, host_perform(op, node))


@jax_funcify.register(DistanceToInstability)
def jax_funcify_DistanceToInstability(op, node, **kwargs):
    return with_pullback(op, node, host_perform(op, node))
