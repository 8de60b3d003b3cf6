r"""PyTensor's complex ``Eig`` of a real matrix → this package's real-valued eigenvalues.

PyTensor's ``pt.linalg.eig`` returns complex outputs, which its autodiff rejects (its
pullback raises), and which have no Numba-native consumers in many cases. Where the
eigenvalues ``w = eig(A)[0]`` are used only through ``real(w)``, ``imag(w)`` and ``abs(w)``,
and everything computed from those ends in a reduction that does not depend on the order
of the eigenvalues, `eig_to_real_eigvals` (canonicalize, on by default, tag
``"spectral"``) puts `~pytensor_spectral.eigvals` in place of ``Eig``:
``real(w) → w_re``, ``imag(w) → w_im``, ``abs(w) → hypot(w_re, w_im)``, and
``max(abs(w))`` → `~pytensor_spectral.spectral_radius` (the leading-value rewrites then
make ``max(real(w))`` a `~pytensor_spectral.spectral_abscissa`). The graph becomes
differentiable, to first and second order.

Order: PyTensor's ``Eig`` (NumPy ``geev``) and this package (``gees``) list the
eigenvalues in different orders, so a use qualifies only if its result does not depend
on the order: elementwise arithmetic on the per-eigenvalue values (with operands that are
constant along the eigenvalue axis), axis moves that keep the eigenvalue axis last, and
then a ``sum``/``prod``/``max``/``min``/``all``/``any`` over that axis, a sort along it,
or a shape. An eigenvector output in use (``eig(A)[1]``), a complex consumer of ``w``, or
any other consumer leaves the graph as it is.
"""

import pytensor.tensor as pt
from pytensor import scalar as ps
from pytensor.graph.rewriting.basic import copy_stack_trace, node_rewriter
from pytensor.tensor.elemwise import CAReduce, DimShuffle, Elemwise
from pytensor.tensor.linalg.decomposition.eigen import Eig
from pytensor.tensor.math import Max
from pytensor.tensor.rewriting.basic import register_canonicalize
from pytensor.tensor.rewriting.blockwise import blockwise_of
from pytensor.tensor.shape import Shape, Shape_i
from pytensor.tensor.sort import SortOp

from pytensor_spectral.abscissa import spectral_radius
from pytensor_spectral.eig import eigvals
from pytensor_spectral.rewriting._match import core_op, leading_entry, replace


ORDER_FREE_REDUCTIONS = (
    ps.Add,
    ps.Mul,
    ps.ScalarMaximum,
    ps.ScalarMinimum,
    ps.AND,
    ps.OR,
)
LEAVES = (ps.Real, ps.Imag, ps.Abs)


def _reduces_eigenvalue_axis(node, ndim: int) -> bool:
    """An order-free reduction over the last (eigenvalue) axis, a sort along it, or a
    shape."""
    op = node.op
    if isinstance(op, CAReduce):
        axes = range(ndim) if op.axis is None else op.axis
        return ndim - 1 in axes and isinstance(op.scalar_op, ORDER_FREE_REDUCTIONS)
    if isinstance(op, SortOp):
        return op.axis in (-1, ndim - 1)
    return isinstance(op, Shape | Shape_i)


def _keeps_eigenvalue_axis_last(node, ndim: int) -> bool:
    op = node.op
    return (
        isinstance(op, DimShuffle)
        and bool(op.new_order)
        and op.new_order[-1] == ndim - 1
    )


def _order_free(fgraph, leaves) -> bool:
    """Whether every use of the per-eigenvalue values ``leaves`` (eigenvalue index on the
    last axis) ends in a result that does not depend on the eigenvalues' order."""
    per_eigenvalue, pending, elementwise = set(leaves), list(leaves), []
    while pending:
        var = pending.pop()
        for client, _ in fgraph.clients[var]:
            ndim = var.type.ndim
            if _reduces_eigenvalue_axis(client, ndim):
                continue
            if isinstance(client.op, Elemwise):
                elementwise.append(client)
            elif not _keeps_eigenvalue_axis_last(client, ndim):
                return False
            new = [out for out in client.outputs if out not in per_eigenvalue]
            per_eigenvalue.update(new)
            pending.extend(new)
    return all(
        inp in per_eigenvalue or inp.type.broadcastable[-1]
        for node in elementwise
        for inp in node.inputs
    )


def _modulus(re, im):
    r""":math:`|re + i\,im|` without overflow (scaled by ``max(|re|, |im|)``; the scale
    cancels exactly, so it does not change the derivative) and with the subgradient 0 at
    0, as PyTensor's ``abs`` of a real number."""
    zero = pt.eq(re, 0) & pt.eq(im, 0)
    scale = pt.switch(zero, 1, pt.maximum(pt.abs(re), pt.abs(im)))
    return pt.switch(zero, 0, scale * pt.sqrt((re / scale) ** 2 + (im / scale) ** 2))


def _spectral_radius_use(fgraph, leaf):
    """``(max node, reduce_rest)`` if ``leaf = abs(w)`` is used only by a ``max`` over
    the eigenvalue axis."""
    clients = fgraph.clients[leaf]
    if len(clients) != 1 or not isinstance(clients[0][0].op, Max):
        return None
    match = leading_entry(clients[0][0])
    return None if match is None else (clients[0][0], match[1])


@register_canonicalize("spectral")
@node_rewriter([blockwise_of(Eig)])
def eig_to_real_eigvals(fgraph, node):
    """``real``/``imag``/``abs`` of ``eig(A)[0]`` under order-free reductions →
    `~pytensor_spectral.eigvals` (and ``max(abs(·))`` → `spectral_radius`)."""
    [A] = node.inputs
    w, v = node.outputs
    if (
        type(core_op(node)) is not Eig
        or A.type.dtype.startswith("complex")
        or fgraph.clients[v]
    ):
        return None
    leaves = [client for client, _ in fgraph.clients[w]]
    if not leaves or not all(
        isinstance(leaf.op, Elemwise) and isinstance(leaf.op.scalar_op, LEAVES)
        for leaf in leaves
    ):
        return None
    if not _order_free(fgraph, [leaf.outputs[0] for leaf in leaves]):
        return None
    w_re, w_im = eigvals(A)
    replacements = {}
    for leaf in leaves:
        [old] = leaf.outputs
        radius_use = isinstance(leaf.op.scalar_op, ps.Abs) and _spectral_radius_use(
            fgraph, old
        )
        if radius_use:
            max_node, reduce_rest = radius_use
            [new] = replace(max_node, reduce_rest, spectral_radius(A))
            replacements[max_node.outputs[0]] = new
            continue
        new = {ps.Real: w_re, ps.Imag: w_im, ps.Abs: None}[type(leaf.op.scalar_op)]
        new = _modulus(w_re, w_im) if new is None else new
        copy_stack_trace(old, new)
        replacements[old] = new.astype(old.dtype)
    return replacements
