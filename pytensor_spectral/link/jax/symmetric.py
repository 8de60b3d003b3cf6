"""Native JAX implementations (``jax.numpy``/``lax``; any JAX device, GPU included) of the
symmetric leading-value ops: the thick-restart Lanczos of the Numba kernels
(`pytensor_spectral._lanczos`) as a ``lax.while_loop`` over steps, dense fallback by
``eigh``."""

import jax
import jax.numpy as jnp
import numpy as np
from pytensor.link.jax.dispatch import jax_funcify

from pytensor_spectral import _lanczos, _leading
from pytensor_spectral.implicit import REPEATED_MESSAGE
from pytensor_spectral.iterative import orthogonalize
from pytensor_spectral.link.jax.basic import check_finite, raise_if_false, with_pullback
from pytensor_spectral.symmetric import (
    FoldedOuter,
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


def _masked_projection(H, j):
    """``H`` with the rows and columns past ``j`` decoupled, their diagonal below every
    active Ritz value (the smallest active diagonal entry minus one), so that the largest
    eigenpair of the result is that of the block ``H[:j+1, :j+1]`` padded with zeros."""
    active = jnp.arange(H.shape[0]) <= j
    smallest = jnp.min(jnp.where(active, jnp.diag(H), jnp.inf))
    inner = jnp.where(active[:, None] & active[None, :], H, 0)
    return inner + jnp.diag(jnp.where(active, 0, smallest - 1)), smallest


def _krylov_schur(matvec, v0, size: int, product_work: float, op):
    """`pytensor_spectral._lanczos.krylov_schur` with fixed-size arrays (the basis rows
    past the current step are masked out) as one ``lax.while_loop`` over Lanczos steps,
    the restart under ``lax.cond``: ``(v, converged, products)``. Convergence is tested
    at the steps the kernel tests it (``product_work``: flops of one ``matvec``), so both
    stop after the same products."""
    n, dtype = v0.shape[0], v0.dtype
    eps = np.finfo(dtype).eps
    m = min(op.krylov_dim, n)
    keep = min(_lanczos.keep_count(m), m - 1)
    _, max_restarts, tol, _ = op.kernel_controls(dtype)
    max_restarts = _leading.restart_bound(size, op.krylov_dim, max_restarts)
    rows = jnp.arange(m + 1)[:, None]

    def restart(V, values, Z):
        V = V.at[:keep].set(Z[:, m - keep :].T @ V[:m]).at[keep].set(V[m])
        H = jnp.zeros((m, m), dtype).at[jnp.arange(keep), jnp.arange(keep)]
        return V, H.set(values[m - keep :])

    def step(state):
        V, H, j, restarts, waiting, scale, y, _, _, products, work = state
        w = matvec(V[j])
        work = work + _lanczos.step_work.py_func(product_work, j, n)
        before = jnp.linalg.norm(w)
        basis = jnp.where(rows <= j, V, 0)
        h = basis @ w
        w = w - basis.T @ h
        h2 = basis @ w
        w = w - basis.T @ h2
        h = (h + h2)[:m]
        H = H.at[:, j].set(h).at[j, :].set(h)
        beta = jnp.linalg.norm(w)
        broke_down = (beta <= 16 * eps * jnp.maximum(before, scale)) | (j + 1 == n)
        beta = jnp.where(broke_down, 0, beta)
        masked, smallest = _masked_projection(H, j)
        values, Z = jnp.linalg.eigh(masked)
        s = Z[:, -1]
        full = j + 1 == m
        due = (j == 0) | broke_down | _lanczos.test_due.py_func(work, j)
        tested = full | (due & ~waiting)
        scale = jnp.where(tested, jnp.maximum(jnp.abs(values[-1]), -smallest), scale)
        done = tested & (beta * jnp.abs(s[j]) <= tol * scale)
        y = jnp.where(tested, V[:m].T @ s, y)
        fresh = orthogonalize(
            basis, jnp.cos((1.7 + j) * jnp.arange(n) + j).astype(dtype)
        )
        w = jnp.where(broke_down, fresh, w)
        V = V.at[j + 1].set(w / jnp.maximum(jnp.linalg.norm(w), np.finfo(dtype).tiny))
        compress = full & ~done & (restarts < max_restarts)
        V, H = jax.lax.cond(compress, restart, lambda V, *_: (V, H), V, values, Z)
        exhausted = full & ~done & ~compress
        return (
            V,
            H,
            jnp.where(compress, keep, j + 1),
            restarts + compress,
            (waiting | broke_down) & ~compress,
            scale,
            y,
            done,
            exhausted,
            products + 1,
            jnp.where(tested, 0.0, work),
        )

    def going_on(state):
        *_, done, exhausted, _, _ = state
        return ~done & ~exhausted

    V = jnp.zeros((m + 1, n), dtype).at[0].set(v0 / jnp.linalg.norm(v0))
    false = jnp.bool_(False)
    state = (
        V,
        jnp.zeros((m, m), dtype),
        jnp.int64(0),
        jnp.int64(0),
        false,
        jnp.zeros((), dtype),
        jnp.zeros((n,), dtype),
        false,
        false,
        jnp.int64(0),
        jnp.zeros((), jnp.float64),
    )
    *_, y, converged, _, products, _ = jax.lax.while_loop(going_on, step, state)
    return y / jnp.linalg.norm(y), converged, products


def start_vector(v0):
    """`pytensor_spectral._leading.start_vector`: ``v0``, or the fixed dense start for a
    zero ``v0`` (NaN/Inf entries are reported by the caller's finiteness check)."""
    n = v0.shape[0]
    default = jnp.cos(2.4 * jnp.arange(n) + 0.5).astype(v0.dtype)
    return jnp.where(jnp.any(v0 != 0), v0, default)


def lanczos_or_dense(matvec, matrix, v0, size: int, product_work: float, op):
    """Vector and product count as the Numba kernels (`pytensor_spectral._leading`)
    choose them: dense (the eigenvector of ``matrix()``) below the crossover (0 products)
    or when Lanczos did not converge; ``product_work`` is the flop count of one
    ``matvec``."""
    if size < op.crossover:
        return _top_eigenvector(matrix()), jnp.int64(0)
    v, converged, products = _krylov_schur(
        matvec, start_vector(v0), size, product_work, op
    )
    v = jax.lax.cond(converged, lambda: v, lambda: _top_eigenvector(matrix()))
    return v, products


@jax_funcify.register(SymmetrizeTriangle)
def jax_funcify_SymmetrizeTriangle(op, node, **kwargs):
    def symmetrize(A):
        return symmetrize_triangle(A, op.lower, op.adjoint, op.antisymmetric)

    return symmetrize


@jax_funcify.register(FoldedOuter)
def jax_funcify_FoldedOuter(op, node, **kwargs):
    def folded_outer(g, x, y):
        return symmetrize_triangle(g * jnp.outer(x, y), op.lower, adjoint=True)

    return folded_outer


@jax_funcify.register(SymmetricLeadingEigenpair)
def jax_funcify_SymmetricLeadingEigenpair(op, node, **kwargs):
    def symmetric_leading_eigenpair(A, v0):
        check_finite(A, "leading_eigenpair")
        S = symmetrize_triangle(A, op.lower, adjoint=False)
        c = entry_scale(S)
        S = S / c
        v, products = lanczos_or_dense(
            lambda q: S @ q, lambda: S, v0, S.shape[0], 2.0 * S.size, op
        )
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
