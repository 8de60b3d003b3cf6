"""JAX implementations of the eigendecomposition ops: host callbacks (LAPACK on the CPU;
JAX has no real Schur decomposition on GPU, ``jax.scipy.linalg.schur`` is CPU-only), with
the ops' pullbacks as their VJPs. Under ``vmap`` (`Blockwise`) they run once per matrix."""

from pytensor.link.jax.dispatch import jax_funcify

from pytensor_spectral.eig import (
    EigPullback,
    Eigvals,
    EigvalsHessian,
    EigvalsPullback,
    EigvalsPushforward,
    InverseAdjointEigvecs,
    SchurEig,
)
from pytensor_spectral.link.jax.basic import host_perform, with_pullback


for _op_type in (
    EigvalsPullback,
    EigvalsHessian,
    EigPullback,
    EigvalsPushforward,
    InverseAdjointEigvecs,
):
    jax_funcify.register(_op_type)(lambda op, node, **kwargs: host_perform(op, node))


@jax_funcify.register(SchurEig)
def jax_funcify_SchurEig(op, node, **kwargs):
    return with_pullback(op, node, host_perform(op, node), 4 if op.compute_v else 2)


@jax_funcify.register(Eigvals)
def jax_funcify_Eigvals(op, node, **kwargs):
    return with_pullback(op, node, host_perform(op, node), 2)
