"""Native JAX implementations (``jax.numpy``/``lax``; any JAX device, GPU included) of the
symmetric leading-value ops: the restarted Lanczos of `pytensor_spectral.iterative` as a
``lax.while_loop`` (PyTensor cannot convert a ``scan`` with a stopping condition to JAX),
dense fallback by ``eigh``."""

import jax
import jax.numpy as jnp
import numpy as np
from pytensor.link.jax.dispatch import jax_funcify

from pytensor_spectral.implicit import REPEATED_MESSAGE
from pytensor_spectral.iterative import lanczos_controls, orthogonalize
from pytensor_spectral.link.jax.basic import check_finite, raise_if_false, with_pullback
from pytensor_spectral.symmetric import (
    ShiftedSolve,
    SymmetricLeadingEigenpair,
    SymmetrizeTriangle,
)


def entry_scale(A):
    """`pytensor_spectral._graph.entry_scale` in ``jax.numpy``."""
    largest = jnp.max(jnp.abs(A))
    return jnp.where(largest > 0, jnp.exp2(jnp.round(jnp.log2(largest))), 1).astype(
        A.dtype
    )


def symmetrize_triangle(A, lower: bool, adjoint: bool, antisymmetric: bool = False):
    """`pytensor_spectral._symmetric.symmetrize_triangle` in ``jax.numpy``."""
    triangle = jnp.tril if lower else jnp.triu
    strict = -1 if lower else 1
    if antisymmetric:
        if adjoint:
            return triangle(A - A.T, strict)
        return triangle(A, strict) - triangle(A, strict).T
    if adjoint:
        return triangle(A + A.T) - jnp.diag(jnp.diag(A))
    return triangle(A) + triangle(A, strict).T


def positive_gauge(v, *others):
    """Flip ``v`` and ``others`` so that the largest-modulus entry of ``v`` is positive."""
    sign = jnp.where(v[jnp.argmax(jnp.abs(v))] < 0, -1, 1).astype(v.dtype)
    return [sign * x for x in (v, *others)]


def _top_eigenvector(S):
    """Unit eigenvector of the largest eigenvalue of symmetric ``S``."""
    return jnp.linalg.eigh(S)[1][:, -1]


def _lanczos_pass(matvec, v, krylov_dim: int):
    """`pytensor_spectral.iterative._lanczos_pass` as a ``lax.fori_loop``: the basis rows
    beyond step ``j`` are zero instead of sliced away."""
    n, dtype = v.shape[0], v.dtype
    tiny = np.finfo(dtype).eps
    rows = jnp.arange(krylov_dim)[:, None]

    def step(j, carry):
        V, a, b, q = carry
        w = matvec(q)
        alpha = q @ w
        V = V.at[j].set(q)
        basis = jnp.where(rows <= j, V, 0)
        w = orthogonalize(basis, w)
        beta = jnp.linalg.norm(w)
        scale = jnp.maximum(jnp.abs(alpha), jnp.max(jnp.abs(b)))
        fresh = jnp.cos((1.7 + j) * jnp.arange(n) + j).astype(dtype)
        fresh = orthogonalize(basis, fresh)
        broke_down = beta <= 16 * tiny * scale
        beta = jnp.where(broke_down, 0, beta)
        w = jnp.where(broke_down, fresh, w)
        q = w / jnp.maximum(jnp.linalg.norm(w), np.finfo(dtype).tiny)
        return V, a.at[j].set(alpha), b.at[j].set(beta), q

    zeros = jnp.zeros((krylov_dim,), dtype)
    V, a, b, _ = jax.lax.fori_loop(
        0, krylov_dim, step, (jnp.zeros((krylov_dim, n), dtype), zeros, zeros, v)
    )
    return V, a, b


def _max_eigenpair(matvec, v0, size: int, op):
    """`pytensor_spectral.iterative.max_eigenpair` with the controls of ``op`` (defaults
    from `~pytensor_spectral.iterative.lanczos_controls`): ``(v, converged, products)``."""
    n, dtype = v0.shape[0], v0.dtype
    k = min(op.krylov_dim, n)
    controls = lanczos_controls(
        str(dtype), size, op.krylov_dim, op.max_restarts, op.tol
    )
    max_restarts, tol = controls["max_restarts"], controls["tol"]

    def restart(state):
        count, v, _ = state
        V, a, b = _lanczos_pass(matvec, v, k)
        T = jnp.diag(a) + jnp.diag(b[:-1], 1) + jnp.diag(b[:-1], -1)
        ritz_values, ritz_vectors = jnp.linalg.eigh(T)
        s = ritz_vectors[:, -1]
        y = V.T @ s
        done = jnp.abs(b[-1] * s[-1]) <= tol * jnp.max(jnp.abs(ritz_values))
        return count + 1, y / jnp.linalg.norm(y), done

    def going_on(state):
        count, _, done = state
        return (count < max_restarts) & ~done

    # Like the PyTensor scan, at least one restart runs.
    state = restart((jnp.int64(0), v0 / jnp.linalg.norm(v0), jnp.bool_(False)))
    count, v, converged = jax.lax.while_loop(going_on, restart, state)
    return v, converged, count * k


def lanczos_or_dense(matvec, matrix, v0, size: int, op):
    """Vector and product count as `pytensor_spectral.symmetric.lanczos_or_dense`
    chooses them: dense (the eigenvector of ``matrix()``) below the crossover or when
    Lanczos did not converge."""
    if size < op.crossover:
        return _top_eigenvector(matrix()), jnp.int64(0)
    v, converged, products = _max_eigenpair(matvec, v0, size, op)
    v = jax.lax.cond(converged, lambda: v, lambda: _top_eigenvector(matrix()))
    return v, products


@jax_funcify.register(SymmetrizeTriangle)
def jax_funcify_SymmetrizeTriangle(op, node, **kwargs):
    def symmetrize(A):
        return symmetrize_triangle(A, op.lower, op.adjoint, op.antisymmetric)

    return symmetrize


@jax_funcify.register(SymmetricLeadingEigenpair)
def jax_funcify_SymmetricLeadingEigenpair(op, node, **kwargs):
    def symmetric_leading_eigenpair(A, v0):
        check_finite(A, "leading_eigenpair")
        S = symmetrize_triangle(A, op.lower, adjoint=False)
        c = entry_scale(S)
        S = S / c
        v, products = lanczos_or_dense(lambda q: S @ q, lambda: S, v0, S.shape[0], op)
        (v,) = positive_gauge(v)
        return c * (v @ (S @ v)), v, products

    return with_pullback(op, node, symmetric_leading_eigenpair)


@jax_funcify.register(ShiftedSolve)
def jax_funcify_ShiftedSolve(op, node, **kwargs):
    """The dense bordered solve of `pytensor_spectral.implicit` (skipped for a zero
    right-hand side, the first-order case)."""

    def bordered(S, lam, v, b):
        n = S.shape[0]
        c = entry_scale(S)
        K = jnp.block(
            [
                [(lam / c) * jnp.eye(n, dtype=S.dtype) - S / c, v[:, None]],
                [v[None, :], jnp.zeros((1, 1), S.dtype)],
            ]
        )
        rhs = jnp.concatenate([b - v * (v @ b), jnp.zeros((1,), S.dtype)])
        # the probe of `pytensor_spectral.implicit.CheckedSymmetricSolve`
        probe = jnp.sin(jnp.arange(1, n + 2, dtype=S.dtype)).at[-1].set(0)
        X = jnp.linalg.solve(K, jnp.stack([rhs, probe], axis=1))
        threshold = jnp.linalg.norm(probe) / (
            100 * np.finfo(S.dtype).eps * (n + 1) * jnp.linalg.norm(S / c)
        )
        regular = jnp.linalg.norm(X[:, 1]) <= threshold
        return jnp.where(regular, X[:-1, 0] / c, jnp.nan)

    def shifted_solve(A, lam, v, b):
        S = symmetrize_triangle(A, op.lower, adjoint=False)
        w = jax.lax.cond(
            jnp.any(b != 0), bordered, lambda *_: jnp.zeros_like(b), S, lam, v, b
        )
        jax.debug.callback(raise_if_false, jnp.all(jnp.isfinite(w)), REPEATED_MESSAGE)
        return w

    return shifted_solve
