"""JAX implementations of the spectral abscissa and radius ops: host callbacks (LAPACK on
the CPU), with the op's pullback as its VJP."""

from pytensor.link.jax.dispatch import jax_funcify

from pytensor_spectral.abscissa import LeadingEigenvalue, LeadingEigenvalueHessian
from pytensor_spectral.link.jax.basic import host_perform, with_pullback


@jax_funcify.register(LeadingEigenvalue)
def jax_funcify_LeadingEigenvalue(op, node, **kwargs):
    return with_pullback(op, node, host_perform(op, node))


@jax_funcify.register(LeadingEigenvalueHessian)
def jax_funcify_LeadingEigenvalueHessian(op, node, **kwargs):
    return host_perform(op, node)
