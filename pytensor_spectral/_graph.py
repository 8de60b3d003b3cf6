"""Graph pieces shared by the ops' pullbacks."""

import numpy as np
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op
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
