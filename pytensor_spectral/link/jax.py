r"""JAX implementations (`jax_funcify`) of the package's ops.

Imported by `pytensor_spectral` when JAX is installed (``pip install
pytensor-spectral[jax]``). Two kinds:

* **Native** (``jax.numpy``/``lax``; they run on any JAX device, GPU included):
  `SymmetrizeTriangle`, `NumericalAbscissa` (``eigh`` of the symmetric part),
  `SymmetricLeadingEigenpair` and `LeadingSingularTriplet` (the restarted Lanczos of
  `pytensor_spectral.iterative` as a ``lax.while_loop``, since PyTensor cannot convert a
  ``scan`` with a stopping condition to JAX; dense fallback by ``eigh``).
* **Host callbacks** (``jax.pure_callback`` to the op's ``perform``, i.e. LAPACK on the
  CPU): the ops built on the real Schur form, ``trsyl`` or ``syevr`` subsets —
  `SchurEig`, `Eigvals` and their pullback/pushforward ops, `LeadingEigenvalue`,
  `SmoothedSpectralAbscissa`, `Eigengap`. JAX has no real Schur decomposition on GPU
  (``jax.scipy.linalg.schur`` is CPU-only) and no Sylvester solver; the callbacks give
  results identical to the other backends, and under ``vmap`` (`Blockwise`) run once per
  matrix.

Bad input raises at run time as on the other backends (a ``ValueError`` from the host,
surfacing as a ``JaxRuntimeError`` that quotes it): the native ops check for NaN/Inf
entries with a host callback.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytensor.tensor as pt
from pytensor.compile.mode import get_mode
from pytensor.gradient import DisconnectedType, disconnected_type
from pytensor.graph.fg import FunctionGraph
from pytensor.link.jax.dispatch import jax_funcify

from pytensor_spectral._graph import CheckFinite
from pytensor_spectral.abscissa import (
    LeadingEigenvalue,
    LeadingEigenvalueHessian,
    NumericalAbscissa,
)
from pytensor_spectral.eig import (
    EigPullback,
    Eigvals,
    EigvalsHessian,
    EigvalsPullback,
    EigvalsPushforward,
    InverseAdjointEigvecs,
    SchurEig,
)
from pytensor_spectral.implicit import REPEATED_MESSAGE
from pytensor_spectral.iterative import lanczos_controls, orthogonalize
from pytensor_spectral.ssa import SmoothedSpectralAbscissa
from pytensor_spectral.svd import LeadingSingularTriplet
from pytensor_spectral.symmetric import (
    Eigengap,
    ShiftedSolve,
    SymmetricLeadingEigenpair,
    SymmetrizeTriangle,
)


def _host_perform(op, node):
    """``jax.pure_callback`` running ``op.perform`` on the host, one matrix at a time
    under ``vmap``; output shapes from ``op.infer_shape`` on the concrete input shapes."""

    def host(*inputs):
        storage = [[None] for _ in node.outputs]
        op.perform(node, [np.array(x) for x in inputs], storage)
        return tuple(
            np.asarray(cell[0], dtype=out.dtype)
            for cell, out in zip(storage, node.outputs, strict=True)
        )

    def callback(*inputs):
        inputs = [
            jnp.asarray(x, dtype=var.dtype) for x, var in zip(inputs, node.inputs, strict=True)
        ]
        shapes = op.infer_shape(node, [tuple(x.shape) for x in inputs])
        results = tuple(
            jax.ShapeDtypeStruct(tuple(int(d) for d in shape), out.dtype)
            for shape, out in zip(shapes, node.outputs, strict=True)
        )
        outputs = jax.pure_callback(host, results, *inputs, vmap_method="sequential")
        return outputs if len(outputs) > 1 else outputs[0]

    return callback


def _differentiable_outputs(op) -> int:
    """How many leading outputs of ``op`` its pullback accepts cotangents for (the others
    are hidden outputs: Schur factors, gradients, vectors cut from the gradient, counts)."""
    if isinstance(op, SchurEig):
        return 4 if op.compute_v else 2
    if isinstance(op, Eigvals):
        return 2
    if isinstance(op, LeadingSingularTriplet):
        return 3
    return 1


def _compile_pullback(op, node, input_shapes, output_shapes):
    """JAX function ``(*inputs, *outputs, *cotangents) -> cotangents of the float
    inputs`` from ``op.pullback``, for inputs of the given (concrete) shapes; the graph
    goes through the JAX mode's rewrites first, so its shapes are constants."""
    k = _differentiable_outputs(op)
    inputs = [
        pt.TensorType(x.dtype, shape=s)() for x, s in zip(node.inputs, input_shapes, strict=True)
    ]
    outputs = [
        pt.TensorType(x.dtype, shape=s)() for x, s in zip(node.outputs, output_shapes, strict=True)
    ]
    cotangents = [x.type() for x in outputs[:k]]
    grads = op.pullback(inputs, outputs, [*cotangents, *(disconnected_type() for _ in outputs[k:])])
    grads = [
        x.zeros_like() if isinstance(g.type, DisconnectedType) else g
        for x, g in zip(inputs, grads, strict=True)
        if x.type.numpy_dtype.kind == "f"
    ]
    fgraph = FunctionGraph([*inputs, *outputs, *cotangents], grads, clone=True)
    get_mode("JAX").optimizer.rewrite(fgraph)
    return jax_funcify(fgraph)


def _with_pullback(op, node, forward):
    """``forward`` with ``op.pullback`` as its JAX VJP (``jax.custom_vjp``), so that JAX's
    own autodiff (numpyro, blackjax: samplers that differentiate the JAX log density)
    uses the op's gradient instead of tracing through callbacks or loops. The pullback
    graph is built and converted once per input shape."""
    k = _differentiable_outputs(op)
    single = len(node.outputs) == 1
    floats = [x.type.numpy_dtype.kind == "f" for x in node.inputs]
    compiled = {}

    def pullback(inputs, outputs, cotangents):
        key = tuple(x.shape for x in (*inputs, *outputs))
        if key not in compiled:
            shapes = [x.shape for x in inputs], [x.shape for x in outputs]
            compiled[key] = _compile_pullback(op, node, *shapes)
        grads = iter(compiled[key](*inputs, *outputs, *cotangents[:k]))
        return tuple(
            next(grads) if is_float else np.zeros(x.shape, jax.dtypes.float0)
            for x, is_float in zip(inputs, floats, strict=True)
        )

    @jax.custom_vjp
    def differentiable(*inputs):
        return forward(*inputs)

    def fwd(*inputs):
        inputs = tuple(
            jnp.asarray(x, dtype=var.dtype) for x, var in zip(inputs, node.inputs, strict=True)
        )
        outputs = differentiable(*inputs)
        return outputs, (inputs, (outputs,) if single else tuple(outputs))

    def bwd(residuals, cotangents):
        inputs, outputs = residuals
        cotangents = (cotangents,) if single else tuple(cotangents)
        for c in cotangents[k:]:
            if jnp.issubdtype(c.dtype, jnp.floating):
                jax.debug.callback(
                    _raise_if_false,
                    jnp.all(c == 0),
                    f"JAX autodiff of {type(op).__name__} differentiates its first {k} "
                    "output(s) only; use pytensor.grad for the others",
                )
        return pullback(inputs, outputs, cotangents)

    differentiable.defvjp(fwd, bwd)
    return differentiable


for _op_type in (
    EigvalsPullback,
    EigvalsHessian,
    EigPullback,
    EigvalsPushforward,
    InverseAdjointEigvecs,
    LeadingEigenvalueHessian,
):
    jax_funcify.register(_op_type)(lambda op, node, **kwargs: _host_perform(op, node))

for _op_type in (SchurEig, Eigvals, LeadingEigenvalue, SmoothedSpectralAbscissa, Eigengap):
    jax_funcify.register(_op_type)(
        lambda op, node, **kwargs: _with_pullback(op, node, _host_perform(op, node))
    )


def _check_finite(A, op_name: str) -> None:
    """Host callback raising ``ValueError`` at run time when ``A`` has NaN/Inf."""
    message = f"{op_name}: the input has NaN or Inf entries"
    jax.debug.callback(_raise_if_false, jnp.all(jnp.isfinite(A)), message)


@jax_funcify.register(CheckFinite)
def jax_funcify_CheckFinite(op, node, **kwargs):
    def check_finite(x):
        jax.debug.callback(_raise_if_false, jnp.all(jnp.isfinite(x)), op.message)
        return x

    return check_finite


def _entry_scale(A):
    """`pytensor_spectral._graph.entry_scale` in ``jax.numpy``."""
    largest = jnp.max(jnp.abs(A))
    return jnp.where(largest > 0, jnp.exp2(jnp.round(jnp.log2(largest))), 1).astype(A.dtype)


def _raise_if_false(condition, message):
    if not condition:
        raise ValueError(message)


def _symmetrize_triangle(A, lower: bool, adjoint: bool):
    """`pytensor_spectral._symmetric.symmetrize_triangle` in ``jax.numpy``."""
    triangle = jnp.tril if lower else jnp.triu
    if adjoint:
        return triangle(A + A.T) - jnp.diag(jnp.diag(A))
    return triangle(A) + triangle(A, -1 if lower else 1).T


def _positive_gauge(v, *others):
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
    controls = lanczos_controls(str(dtype), size, op.krylov_dim, op.max_restarts, op.tol)
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


def _lanczos_or_dense(matvec, matrix, v0, size: int, op):
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
    def symmetrize_triangle(A):
        return _symmetrize_triangle(A, op.lower, op.adjoint)

    return symmetrize_triangle


@jax_funcify.register(NumericalAbscissa)
def jax_funcify_NumericalAbscissa(op, node, **kwargs):
    def numerical_abscissa(A):
        if A.shape[0] == 0:
            raise ValueError("The numerical abscissa of an empty matrix is undefined")
        _check_finite(A, "numerical_abscissa")
        w, V = jnp.linalg.eigh(0.5 * (A + A.T))
        (v,) = _positive_gauge(V[:, -1])
        return w[-1], v

    return _with_pullback(op, node, numerical_abscissa)


@jax_funcify.register(SymmetricLeadingEigenpair)
def jax_funcify_SymmetricLeadingEigenpair(op, node, **kwargs):
    def symmetric_leading_eigenpair(A, v0):
        _check_finite(A, "leading_eigenpair")
        S = _symmetrize_triangle(A, op.lower, adjoint=False)
        c = _entry_scale(S)
        S = S / c
        v, products = _lanczos_or_dense(lambda q: S @ q, lambda: S, v0, S.shape[0], op)
        (v,) = _positive_gauge(v)
        return c * (v @ (S @ v)), v, products

    return _with_pullback(op, node, symmetric_leading_eigenpair)


@jax_funcify.register(ShiftedSolve)
def jax_funcify_ShiftedSolve(op, node, **kwargs):
    """The dense bordered solve of `pytensor_spectral.implicit` (skipped for a zero
    right-hand side, the first-order case)."""

    def bordered(S, lam, v, b):
        n = S.shape[0]
        c = _entry_scale(S)
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
        S = _symmetrize_triangle(A, op.lower, adjoint=False)
        w = jax.lax.cond(jnp.any(b != 0), bordered, lambda *_: jnp.zeros_like(b), S, lam, v, b)
        jax.debug.callback(_raise_if_false, jnp.all(jnp.isfinite(w)), REPEATED_MESSAGE)
        return w

    return shifted_solve


@jax_funcify.register(LeadingSingularTriplet)
def jax_funcify_LeadingSingularTriplet(op, node, **kwargs):
    def leading_singular_triplet(A, v0):
        if min(A.shape) == 0:
            raise ValueError("leading_singular_triplet: A is empty")
        _check_finite(A, "leading_singular_triplet")
        c = _entry_scale(A)
        A = A / c
        v, products = _lanczos_or_dense(
            lambda q: A.T @ (A @ q), lambda: A.T @ A, v0, min(A.shape), op
        )
        Av = A @ v
        u = Av / jnp.maximum(jnp.linalg.norm(Av), np.finfo(A.dtype).tiny)
        u, v = _positive_gauge(u, v)
        return u, c * (u @ (A @ v)), v, products

    return _with_pullback(op, node, leading_singular_triplet)
