"""Native JAX implementation of the leading singular triplet op: Lanczos on ``AᵀA`` as a
``lax.while_loop`` (`pytensor_spectral.link.jax.symmetric`), with the op's pullback as its
VJP."""

import jax.numpy as jnp
import numpy as np
from pytensor.link.jax.dispatch import jax_funcify

from pytensor_spectral.link.jax.basic import check_finite, with_pullback
from pytensor_spectral.link.jax.symmetric import (
    entry_scale,
    lanczos_or_dense,
    positive_gauge,
)
from pytensor_spectral.svd import LeadingSingularTriplet


@jax_funcify.register(LeadingSingularTriplet)
def jax_funcify_LeadingSingularTriplet(op, node, **kwargs):
    def leading_singular_triplet(A, v0):
        if min(A.shape) == 0:
            raise ValueError("leading_singular_triplet: A is empty")
        check_finite(A, "leading_singular_triplet")
        c = entry_scale(A)
        A = A / c
        v, products = lanczos_or_dense(
            lambda q: A.T @ (A @ q), lambda: A.T @ A, v0, min(A.shape), 4.0 * A.size, op
        )
        Av = A @ v
        u = Av / jnp.maximum(jnp.linalg.norm(Av), np.finfo(A.dtype).tiny)
        u, v = positive_gauge(u, v)
        return u, c * (u @ (A @ v)), v, products

    return with_pullback(op, node, leading_singular_triplet, 3)
