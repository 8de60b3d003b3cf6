"""Native JAX implementation of the numerical abscissa op (``eigh`` of the symmetric part),
with the op's pullback as its VJP."""

import jax.numpy as jnp
from pytensor.link.jax.dispatch import jax_funcify

from pytensor_spectral.link.jax.basic import check_finite, with_pullback
from pytensor_spectral.link.jax.symmetric import positive_gauge
from pytensor_spectral.numerical_abscissa import NumericalAbscissa


@jax_funcify.register(NumericalAbscissa)
def jax_funcify_NumericalAbscissa(op, node, **kwargs):
    def numerical_abscissa(A):
        if A.shape[0] == 0:
            raise ValueError("The numerical abscissa of an empty matrix is undefined")
        check_finite(A, "numerical_abscissa")
        w, V = jnp.linalg.eigh(0.5 * (A + A.T))
        (v,) = positive_gauge(V[:, -1])
        return w[-1], v

    return with_pullback(op, node, numerical_abscissa)
