"""Shared pieces of the JAX implementations: host callbacks to an op's ``perform`` and
``jax.custom_vjp`` wrappers that give JAX's own autodiff the op's pullback.

Bad input raises at run time as on the other backends (a ``ValueError`` from the host,
surfacing as a ``JaxRuntimeError`` that quotes it): the native implementations check for
NaN/Inf entries with a host callback.
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


def host_perform(op, node):
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
            jnp.asarray(x, dtype=var.dtype)
            for x, var in zip(inputs, node.inputs, strict=True)
        ]
        shapes = op.infer_shape(node, [tuple(x.shape) for x in inputs])
        results = tuple(
            jax.ShapeDtypeStruct(tuple(int(d) for d in shape), out.dtype)
            for shape, out in zip(shapes, node.outputs, strict=True)
        )
        outputs = jax.pure_callback(host, results, *inputs, vmap_method="sequential")
        return outputs if len(outputs) > 1 else outputs[0]

    return callback


def _compile_pullback(op, node, input_shapes, output_shapes, k: int):
    """JAX function ``(*inputs, *outputs, *cotangents) -> cotangents of the float
    inputs`` from ``op.pullback`` with cotangents for the first ``k`` outputs, for inputs
    of the given (concrete) shapes; the graph goes through the JAX mode's rewrites first,
    so its shapes are constants."""
    inputs = [
        pt.TensorType(x.dtype, shape=s)()
        for x, s in zip(node.inputs, input_shapes, strict=True)
    ]
    outputs = [
        pt.TensorType(x.dtype, shape=s)()
        for x, s in zip(node.outputs, output_shapes, strict=True)
    ]
    cotangents = [x.type() for x in outputs[:k]]
    grads = op.pullback(
        inputs, outputs, [*cotangents, *(disconnected_type() for _ in outputs[k:])]
    )
    grads = [
        x.zeros_like() if isinstance(g.type, DisconnectedType) else g
        for x, g in zip(inputs, grads, strict=True)
        if x.type.numpy_dtype.kind == "f"
    ]
    fgraph = FunctionGraph([*inputs, *outputs, *cotangents], grads, clone=True)
    get_mode("JAX").optimizer.rewrite(fgraph)
    return jax_funcify(fgraph)


def with_pullback(op, node, forward, differentiable_outputs: int = 1):
    """``forward`` with ``op.pullback`` as its JAX VJP (``jax.custom_vjp``), so that JAX's
    own autodiff (numpyro, blackjax: samplers that differentiate the JAX log density)
    uses the op's gradient instead of tracing through callbacks or loops. Only the first
    ``differentiable_outputs`` outputs take cotangents (the others are hidden outputs:
    Schur factors, gradients, vectors cut from the gradient, counts). The pullback graph
    is built and converted once per input shape."""
    k = differentiable_outputs
    single = len(node.outputs) == 1
    floats = [x.type.numpy_dtype.kind == "f" for x in node.inputs]
    compiled = {}

    def pullback(inputs, outputs, cotangents):
        key = tuple(x.shape for x in (*inputs, *outputs))
        if key not in compiled:
            shapes = [x.shape for x in inputs], [x.shape for x in outputs]
            compiled[key] = _compile_pullback(op, node, *shapes, k)
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
            jnp.asarray(x, dtype=var.dtype)
            for x, var in zip(inputs, node.inputs, strict=True)
        )
        outputs = differentiable(*inputs)
        return outputs, (inputs, (outputs,) if single else tuple(outputs))

    def bwd(residuals, cotangents):
        inputs, outputs = residuals
        cotangents = (cotangents,) if single else tuple(cotangents)
        for c in cotangents[k:]:
            if jnp.issubdtype(c.dtype, jnp.floating):
                jax.debug.callback(
                    raise_if_false,
                    jnp.all(c == 0),
                    f"JAX autodiff of {type(op).__name__} differentiates its first {k} "
                    "output(s) only; use pytensor.grad for the others",
                )
        return pullback(inputs, outputs, cotangents)

    differentiable.defvjp(fwd, bwd)
    return differentiable


def raise_if_false(condition, message):
    if not condition:
        raise ValueError(message)


def check_finite(A, op_name: str) -> None:
    """Host callback raising ``ValueError`` at run time when ``A`` has NaN/Inf."""
    message = f"{op_name}: the input has NaN or Inf entries"
    jax.debug.callback(raise_if_false, jnp.all(jnp.isfinite(A)), message)


@jax_funcify.register(CheckFinite)
def jax_funcify_CheckFinite(op, node, **kwargs):
    def check_finite(x):
        jax.debug.callback(raise_if_false, jnp.all(jnp.isfinite(x)), op.message)
        return x

    return check_finite
