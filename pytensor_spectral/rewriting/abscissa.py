r"""``max(eigvals(A)[0])`` → `spectral_abscissa` (canonicalize, on by default): exact,
and it fixes PyTensor's ``max`` gradient, which hands the full cotangent to every tied
entry and so counts a leading conjugate pair twice."""

from pytensor.graph.rewriting.basic import node_rewriter
from pytensor.tensor.math import Max
from pytensor.tensor.rewriting.basic import register_canonicalize

from pytensor_spectral.abscissa import spectral_abscissa
from pytensor_spectral.eig import Eigvals, SchurEig
from pytensor_spectral.rewriting._match import core_op, leading_entry, replace


@register_canonicalize("spectral")
@node_rewriter([Max])
def max_real_eigenvalue_to_spectral_abscissa(fgraph, node):
    """``max(eigvals(A)[0])`` → ``spectral_abscissa(A)``: same value, and a gradient
    that does not count a leading conjugate pair twice."""
    match = leading_entry(node)
    if match is None:
        return None
    values, reduce_rest, _ = match
    owner = values.owner
    if owner is None or not isinstance(core_op(owner), SchurEig | Eigvals):
        return None
    if values is not owner.outputs[0]:
        return None
    return replace(node, reduce_rest, spectral_abscissa(owner.inputs[0]))
