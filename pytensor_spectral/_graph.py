"""Graph pieces shared by the ops' pullbacks."""

from collections.abc import Callable

import numpy as np
import pytensor
from pytensor.graph.basic import Apply, Variable
from pytensor.graph.op import Op
from pytensor.graph.replace import graph_replace
from pytensor.tensor import as_tensor_variable


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


def partial_derivatives(cost_of: Callable[..., Variable], inputs: list[Variable]) -> list[Variable]:
    """Partial derivatives of ``cost_of(*inputs)`` with respect to each of ``inputs``.

    The cost is built on stand-ins and differentiated there, then the stand-ins are
    replaced by ``inputs``: unlike ``pytensor.grad(cost, inputs)``, a path from one input
    to the cost *through another* (e.g. a cotangent ``2 w`` that depends on ``A``) is not
    counted, so an op's pullback built this way composes with the rest of the chain rule.
    """
    stand_ins = [x.type() for x in inputs]
    grads = pytensor.grad(cost_of(*stand_ins), stand_ins, disconnected_inputs="ignore")
    return graph_replace(grads, dict(zip(stand_ins, inputs, strict=True)), strict=False)
