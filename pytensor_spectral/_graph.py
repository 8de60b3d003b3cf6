"""Graph helpers shared by all ops: input checks, applying an op to a (batch of) matrices,
output types, and pieces of the pullbacks."""

import importlib
import numbers
from collections.abc import Callable
from types import ModuleType

import numpy as np
import pytensor
import pytensor.tensor as pt
from pytensor.gradient import DisconnectedType
from pytensor.graph.basic import Apply, Variable
from pytensor.graph.op import Op
from pytensor.graph.replace import graph_replace
from pytensor.raise_op import CheckAndRaise
from pytensor.tensor import TensorLike, as_tensor_variable
from pytensor.tensor.blockwise import Blockwise
from pytensor.tensor.type import TensorType


class LazyModule:
    """A module imported at its first attribute access.

    The ops reach their Numba kernels through it: the kernels import PyTensor's Numba
    LAPACK bindings, whose package imports all of ``pytensor.tensor``, so an op module
    that imported them eagerly could not itself be imported while ``pytensor.tensor``
    initializes (where PyTensor's own linear-algebra modules live).
    """

    __slots__ = ("_module", "_name")

    def __init__(self, name: str):
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attribute: str):
        if self._module is None:
            self._module = importlib.import_module(self._name)
        return getattr(self._module, attribute)


class CheckFinite(Op):
    """Identity that raises ``ValueError(message)`` at run time when its input has a NaN
    or Inf entry.

    Unlike ``Assert(x, all(isfinite(x)))`` it has one input, so it is transparent to
    both autodiff modes: its pullback and pushforward are the identity (PyTensor's ``All``
    has no pushforward, which makes the forward mode fail on an ``Assert`` condition).
    """

    __props__ = ("message",)
    view_map = {0: [0]}

    def __init__(self, message: str):
        self.message = message

    def make_node(self, x):
        x = as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, outputs):
        (x,) = inputs
        if not np.all(np.isfinite(x)):
            raise ValueError(self.message)
        outputs[0][0] = x

    def infer_shape(self, node, shapes):
        return shapes

    def pullback(self, inputs, outputs, cotangents):
        return cotangents

    def pushforward(self, inputs, outputs, tangents):
        return tangents


def check_nonempty_finite(A: Variable, op_name: str) -> Variable:
    """``A``, raising ``ValueError`` at run time if it is empty or has NaN/Inf entries
    (before any iteration runs on it; the messages of the LAPACK kernels)."""
    A = CheckAndRaise(ValueError, f"{op_name}: A is empty")(A, pt.gt(A.size, 0))
    return CheckAndRaise(ValueError, "Matrix contains NaN or Inf entries")(
        A, pt.all(pt.isfinite(A))
    )


def entry_scale(A: Variable) -> Variable:
    """A power of two near ``max |A_ij|`` (1 for a zero matrix; ``A`` must not be empty:
    `check_nonempty_finite` first), a constant for autodiff: ``round`` has the derivative
    zero (and ``log2`` sees 1, not 0, for a zero matrix, so that zero stays finite).
    Neither ``ifelse`` (it is used in pullback graphs, which ``Blockwise``
    vectorizes) nor ``disconnected_grad``, which stops PyTensor from hoisting ``A / c``
    out of a ``scan`` that uses it: the Lanczos and CG loops then divided the whole
    matrix at every step (4x slower at n = 2000).

    Dividing by it brings the entries to order one, so that squares of entries (Lanczos on
    ``AᵀA``, norms) neither overflow nor underflow; for the positively homogeneous
    quantities of this package the result is exactly independent of the scale, so treating
    it as a constant gives exact derivatives of every order.
    """
    largest = pt.max(pt.abs(A))
    safe = pt.switch(largest > 0, largest, 1)
    return pt.cast(pt.exp2(pt.round(pt.log2(safe))), A.dtype)


def partial_derivatives(
    cost_of: Callable[..., Variable], inputs: list[Variable]
) -> list[Variable]:
    """Partial derivatives of ``cost_of(*inputs)`` with respect to each of ``inputs``.

    The cost is built on stand-ins and differentiated there, then the stand-ins are
    replaced by ``inputs``: unlike ``pytensor.grad(cost, inputs)``, a path from one input
    to the cost *through another* (e.g. a cotangent ``2 w`` that depends on ``A``) is not
    counted, so an op's pullback built this way composes with the rest of the chain rule.
    """
    stand_ins = [x.type() for x in inputs]
    grads = pytensor.grad(cost_of(*stand_ins), stand_ins, disconnected_inputs="ignore")
    return graph_replace(grads, dict(zip(stand_ins, inputs, strict=True)), strict=False)


def as_square_float_matrix(
    A: TensorLike, op_name: str, *, batched: bool = False
) -> Variable:
    """Return ``A`` as a float matrix (or, if ``batched``, a batch of them), checking what
    the static type shows.

    Integer and boolean input is cast to ``float64`` (as PyTensor's linear algebra
    does); complex input raises ``TypeError``; a wrong ``ndim`` or a static shape that is
    not square raises ``ValueError``.
    """
    A = pt.as_tensor_variable(A)
    if A.type.ndim != 2 and not (batched and A.type.ndim > 2):
        raise ValueError(f"{op_name} expects a matrix, got ndim={A.type.ndim}")
    m, n = A.type.shape[-2:]
    if m is not None and n is not None and m != n:
        raise ValueError(
            f"{op_name} expects a square matrix, got static shape {(m, n)}"
        )
    return as_real_float(A, op_name)


def as_real_float(A: Variable, op_name: str) -> Variable:
    """``A`` with integer/boolean dtypes cast to ``float64``; complex raises ``TypeError``."""
    kind = A.type.numpy_dtype.kind
    if kind == "c":
        raise TypeError(f"{op_name} supports real matrices only, got dtype {A.dtype}")
    return A if kind == "f" else pt.cast(A, "float64")


def as_eps(eps: TensorLike, dtype) -> Variable:
    """A perturbation or smoothing size ``eps`` as a real scalar of ``dtype``
    (``ValueError`` for a non-scalar, ``TypeError`` for a complex one)."""
    eps = pt.as_tensor_variable(eps)
    if eps.type.ndim != 0:
        raise ValueError(f"eps must be a scalar, got ndim={eps.type.ndim}")
    if eps.type.numpy_dtype.kind == "c":
        raise TypeError(f"eps must be real, got dtype {eps.dtype}")
    return pt.cast(eps, dtype)


def check_constant_eps(eps: TensorLike, function_name: str) -> None:
    """``ValueError`` at graph construction for a constant ``eps`` that is not positive
    and finite (a symbolic one is checked by the kernels at run time)."""
    if isinstance(eps, numbers.Real) and not (np.isfinite(eps) and eps > 0):
        raise ValueError(f"{function_name}: eps must be positive and finite, got {eps}")


def _require_ndim(A: TensorLike, op_name: str) -> Variable:
    A = pt.as_tensor_variable(A)
    if A.type.ndim < 2:
        raise ValueError(
            f"{op_name} expects a (batch of) matrices, got ndim={A.type.ndim}"
        )
    return A


def _apply(op: Op, A: TensorLike, *args) -> list[Variable]:
    """Apply ``op`` to a matrix, or as a `Blockwise` to a batch of matrices."""
    A = _require_ndim(A, type(op).__name__)
    if A.type.ndim == 2:
        return op(A, *args)
    return Blockwise(op)(A, *args)


def apply_core(op: Op, *inputs: TensorLike) -> list[Variable]:
    """Apply ``op`` to its core inputs, or as a `Blockwise` when any input has batch
    dimensions (core dimensions from ``op.gufunc_signature``)."""
    inputs = [pt.as_tensor_variable(x) for x in inputs]
    signature = op.gufunc_signature.split("->")[0][1:-1].split("),(")
    core_ndims = [len([d for d in arg.split(",") if d]) for arg in signature]
    if all(x.type.ndim == nd for x, nd in zip(inputs, core_ndims, strict=True)):
        return op(*inputs)
    return Blockwise(op)(*inputs)


def _static_size(A: Variable) -> int | None:
    """Static size of a square matrix, from whichever dimension is known."""
    m, n = A.type.shape
    return m if m is not None else n


def _matrix(dtype, n) -> TensorType:
    return TensorType(dtype=dtype, shape=(n, n))


def _vector(dtype, n) -> TensorType:
    return TensorType(dtype=dtype, shape=(n,))


def add_terms(terms: list[Variable]) -> Variable:
    """Sum of one or more terms of a derivative; a single term is returned as it is (a
    one-input ``add`` would stay in graphs compiled with few rewrites, and JAX cannot
    run it)."""
    return terms[0] if len(terms) == 1 else pt.add(*terms)


def _zeros_if_disconnected(cotangents, outputs) -> list[Variable]:
    """Cotangents with the disconnected ones replaced by zeros shaped like their output."""
    return [
        out.zeros_like() if isinstance(g.type, DisconnectedType) else g
        for g, out in zip(cotangents, outputs, strict=True)
    ]


def _scalar(dtype) -> TensorType:
    return TensorType(dtype=dtype, shape=())
