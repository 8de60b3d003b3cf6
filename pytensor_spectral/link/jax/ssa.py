"""JAX implementation of the smoothed spectral abscissa op: a host callback (JAX has no
Sylvester solver), with the op's pullback as its VJP."""

from pytensor.link.jax.dispatch import jax_funcify

from pytensor_spectral.link.jax.basic import host_perform, with_pullback
from pytensor_spectral.ssa import SmoothedSpectralAbscissa


@jax_funcify.register(SmoothedSpectralAbscissa)
def jax_funcify_SmoothedSpectralAbscissa(op, node, **kwargs):
    return with_pullback(op, node, host_perform(op, node))
