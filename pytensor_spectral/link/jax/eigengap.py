"""JAX implementation of the eigengap op: a host callback (LAPACK ``syevr`` on the CPU),
with the op's pullback as its VJP."""

from pytensor.link.jax.dispatch import jax_funcify

from pytensor_spectral.eigengap import Eigengap
from pytensor_spectral.link.jax.basic import host_perform, with_pullback


@jax_funcify.register(Eigengap)
def jax_funcify_Eigengap(op, node, **kwargs):
    return with_pullback(op, node, host_perform(op, node))
