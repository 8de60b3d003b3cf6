"""JAX implementations (`jax_funcify`) of the package's ops, imported by
`pytensor_spectral` when JAX is installed (``pip install pytensor-spectral[jax]``).

Two kinds: **native** (``jax.numpy``/``lax``, any JAX device): `SymmetrizeTriangle`,
`FoldedOuter`, `NumericalAbscissa`, `SymmetricLeadingEigenpair`, `ShiftedSolve`,
`LeadingSingularTriplet`;
**host callbacks** (``jax.pure_callback`` to the op's ``perform``, i.e. LAPACK on the CPU)
for the ops built on the real Schur form (the pseudospectral measures too), ``trsyl`` or ``syevr`` subsets, which give
results identical to the other backends and under ``vmap`` (`Blockwise`) run once per
matrix. Every differentiable op carries its pullback as a ``jax.custom_vjp``.
"""

import pytensor_spectral.link.jax.abscissa
import pytensor_spectral.link.jax.basic
import pytensor_spectral.link.jax.eig
import pytensor_spectral.link.jax.eigengap
import pytensor_spectral.link.jax.numerical_abscissa
import pytensor_spectral.link.jax.pseudospectra
import pytensor_spectral.link.jax.ssa
import pytensor_spectral.link.jax.svd
import pytensor_spectral.link.jax.symmetric  # noqa: F401
