"""Graph patterns shared by the rewrites: leading entries, sole clients, signs."""

import numpy as np
from pytensor.graph.basic import Constant, Variable
from pytensor.graph.rewriting.basic import copy_stack_trace
from pytensor.scalar import Abs, Mul, Neg
from pytensor.tensor.blockwise import Blockwise
from pytensor.tensor.elemwise import Elemwise
from pytensor.tensor.math import Max
from pytensor.tensor.math import max as pt_max
from pytensor.tensor.subtensor import Subtensor, indices_from_subtensor


def core_op(node):
    """The op of ``node``, or its core op if ``node`` is a `Blockwise`."""
    return node.op.core_op if isinstance(node.op, Blockwise) else node.op


def leading_entry(node):
    """If ``node`` takes the largest entry along the last axis of a vector of values
    (``max`` over axes that include the last one, or ``x[..., i]`` for a constant
    ``i``), return ``(values, reduce_rest, index)``: ``reduce_rest`` maps the per-matrix
    result to the node's output, ``index`` is ``i`` (``None`` for ``max``), made
    non-negative where the length is static."""
    (values, *index_inputs) = node.inputs
    last = values.type.ndim - 1
    if isinstance(node.op, Max):
        axes = tuple(range(values.type.ndim)) if node.op.axis is None else node.op.axis
        if last not in axes:
            return None
        rest = tuple(a for a in axes if a != last)
        return values, (lambda x: pt_max(x, axis=rest) if rest else x), None
    if isinstance(node.op, Subtensor):
        indices = indices_from_subtensor(index_inputs, node.op.idx_list)
        if len(indices) != values.type.ndim:
            return None
        *batch, index = indices
        if any(idx != slice(None) for idx in batch) or not isinstance(index, Constant):
            return None
        index = int(index.data)
        size = values.type.shape[-1]
        if index < 0 and size is not None:
            index += size
        return values, (lambda x: x), index
    return None


def replace(node, reduce_rest, value) -> list:
    """The replacement of ``node``'s output: ``value`` (per matrix) reduced over the other
    axes ``node`` reduced, with ``node``'s stack trace and dtype."""
    new = reduce_rest(value)
    copy_stack_trace(node.outputs[0], new)
    return [new.astype(node.outputs[0].dtype)]


def sole_client(fgraph, node, var) -> bool:
    """Whether ``node`` is the only user of ``var``."""
    return [client for client, _ in fgraph.clients[var]] == [node]


def elementwise_input(var: Variable, scalar_op: type):
    """``x`` if ``var`` is the elementwise ``scalar_op(x)``, else ``None``."""
    owner = var.owner
    if owner is None or not isinstance(owner.op, Elemwise):
        return None
    if not isinstance(owner.op.scalar_op, scalar_op) or len(owner.inputs) != 1:
        return None
    return owner.inputs[0]


def absolute_input(var: Variable):
    """``x`` if ``var`` is ``abs(x)``, else ``None``."""
    return elementwise_input(var, Abs)


def negated_input(var: Variable):
    """``x`` if ``var`` is ``-x`` or ``(-1) * x`` (the form canonicalization gives
    ``-x``), else ``None``."""
    negated = elementwise_input(var, Neg)
    if negated is not None:
        return negated
    owner = var.owner
    if owner is None or not isinstance(owner.op, Elemwise):
        return None
    if not isinstance(owner.op.scalar_op, Mul) or len(owner.inputs) != 2:
        return None
    for factor, other in (owner.inputs, owner.inputs[::-1]):
        if (
            isinstance(factor, Constant)
            and all(factor.type.broadcastable)
            and np.all(factor.data == -1)
            and other.type.broadcastable == var.type.broadcastable
        ):
            return other
    return None
