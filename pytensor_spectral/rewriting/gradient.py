r"""Gradients PyTensor built from dense decompositions → leading-vector outer products.

``pytensor.grad`` of ``max(eigvalsh(S))``, ``eigvalsh(S)[-1]``, ``norm(A, 2)`` or
``svd(A, compute_uv=False)[0]`` on the un-rewritten graph runs PyTensor's own pullbacks,
which build a full ``eigh(S)`` (resp. ``svd(A)``) and contract its vectors with the
cotangent of the values: ``V diag(ḡ) Vᵀ`` (``U diag(ḡ) Vᵀ``). Where ``ḡ`` is supported on
the leading index only — ``ḡ = c · [λ == max(λ)]`` from ``max``'s pullback, or
``ḡ = c · e_lead`` from indexing — the product is ``c · v vᵀ`` (``c · u vᵀ``) with the
leading vectors, which `leading_vector_product` (canonicalize, on by default, tag
``"spectral"``) takes from the Lanczos ops. Once the contraction is gone the dense
decomposition has no other consumer, and the leading-value rewrites replace the forward
value too; the two Lanczos subgraphs merge. Same rules as those rewrites: not below the
crossover size, unbatched matrices, and at a repeated leading value the gradient is one
vector's ``v vᵀ`` (a subgradient) where ``max``'s pullback would sum the tied ones.
"""

import numpy as np
import pytensor.tensor as pt
from pytensor import scalar as ps
from pytensor.graph.basic import Constant
from pytensor.graph.rewriting.basic import copy_stack_trace, node_rewriter
from pytensor.tensor.basic import Alloc, AllocDiag, ExtractDiag
from pytensor.tensor.elemwise import DimShuffle, Elemwise
from pytensor.tensor.linalg.decomposition.eigen import Eigh, Eigvalsh
from pytensor.tensor.linalg.decomposition.svd import SVD
from pytensor.tensor.math import Dot, Max
from pytensor.tensor.rewriting.basic import register_canonicalize
from pytensor.tensor.subtensor import IncSubtensor

from pytensor_spectral.rewriting._match import core_op, leading_entry
from pytensor_spectral.rewriting.leading import statically_small
from pytensor_spectral.svd import leading_singular_triplet
from pytensor_spectral.symmetric import leading_eigenpair


def _same_decomposition(values, decomposition) -> bool:
    """Whether ``values`` are the eigen/singular values of the matrix the node
    ``decomposition`` decomposes (``eigvalsh``/``eigh`` with the same triangle, or
    ``svd``)."""
    owner = values.owner
    if owner is None or owner.inputs != decomposition.inputs:
        return False
    op, reference = core_op(owner), core_op(decomposition)
    if isinstance(reference, Eigh):
        return (
            isinstance(op, Eigh | Eigvalsh)
            and op.lower == reference.lower
            and values is owner.outputs[0]
        )
    return isinstance(op, SVD) and values is owner.outputs[1 if op.compute_uv else 0]


def _adds_broadcast_axes(op) -> bool:
    return isinstance(op, DimShuffle) and [d for d in op.new_order if d != "x"] == list(
        range(op.input_ndim)
    )


def _strip(var):
    """``var`` without added broadcast axes, ``diagonal(diag(·))`` and casts of booleans."""
    while var.owner is not None:
        op = var.owner.op
        inner = var.owner.inputs[0]
        cast_of_bool = (
            isinstance(op, Elemwise)
            and isinstance(op.scalar_op, ps.Cast)
            and inner.dtype == "bool"
        )
        if _adds_broadcast_axes(op) or cast_of_bool:
            var = inner
        elif isinstance(op, ExtractDiag) and op.offset == 0 and inner.owner is not None:
            if not isinstance(core_op(inner.owner), AllocDiag):
                return var
            var = inner.owner.inputs[0]
        else:
            return var
    return var


def _is_max_of(var, values) -> bool:
    """``var`` is ``max(values)`` over the only axis of ``values``."""
    owner = var.owner
    if owner is None or not isinstance(owner.op, Max) or values.type.ndim != 1:
        return False
    match = leading_entry(owner)
    return match is not None and match[0] is values


def _is_zeros(var) -> bool:
    """``alloc(0, …)`` or ``fill(x, 0)`` (PyTensor's ``zeros_like``)."""
    owner = var.owner
    if owner is None:
        return False
    if isinstance(owner.op, Alloc):
        fill = owner.inputs[0]
    elif isinstance(owner.op, Elemwise) and isinstance(owner.op.scalar_op, ps.Second):
        fill = owner.inputs[1]
    else:
        return False
    return isinstance(fill, Constant) and bool(np.all(fill.data == 0))


def _leading_weight(g, decomposition, lead: int):
    """``c`` if the cotangent ``g`` of the values (last axis) is ``c`` times the
    indicator of the leading index (``lead``: ``-1`` for ascending eigenvalues, ``0``
    for descending singular values), else ``None``."""
    g = _strip(g)
    owner = g.owner
    if owner is None:
        return None
    op = owner.op
    if isinstance(op, Elemwise) and isinstance(op.scalar_op, ps.Mul):
        spread = [x for x in owner.inputs if not x.type.broadcastable[-1]]
        factors = [x for x in owner.inputs if x.type.broadcastable[-1]]
        if len(spread) != 1 or not all(all(x.type.broadcastable) for x in factors):
            return None
        weight = _leading_weight(spread[0], decomposition, lead)
        for x in factors:
            if weight is not None:
                weight = weight * pt.squeeze(x)
        return weight
    if isinstance(op, Elemwise) and isinstance(op.scalar_op, ps.EQ):
        a, b = (_strip(x) for x in owner.inputs)
        for m, values in ((a, b), (b, a)):
            if _same_decomposition(values, decomposition) and _is_max_of(m, values):
                return pt.constant(1.0)
        return None
    if (
        isinstance(op, IncSubtensor)
        and len(op.idx_list) == 1
        and isinstance(op.idx_list[0], int)
    ):
        zeros, c, index = owner.inputs
        size = g.type.shape[-1]
        leads = {lead} if size is None else {lead, lead % size}
        if not (
            isinstance(index, Constant)
            and int(index.data) in leads
            and _is_zeros(zeros)
            and c.type.ndim == 0
        ):
            return None
        return c
    return None


def _factors(node):
    """``(vectors, cotangent row)`` of ``vectors * row`` (``row`` broadcast over rows)."""
    left = node.inputs[0]
    owner = left.owner
    if owner is None or not isinstance(owner.op, Elemwise):
        return None
    if not isinstance(owner.op.scalar_op, ps.Mul) or len(owner.inputs) != 2:
        return None
    for vectors, row in (owner.inputs, owner.inputs[::-1]):
        if row.type.broadcastable[0] and not vectors.type.broadcastable[0]:
            return vectors, row
    return None


@register_canonicalize("spectral")
@node_rewriter([Dot])
def leading_vector_product(fgraph, node):
    """``(V * ḡ) @ Vᵀ`` of ``eigh(S)`` (``(U * ḡ) @ Vᵀ`` of ``svd(A)``) with ``ḡ``
    supported on the leading index → ``c · v vᵀ`` (``c · u vᵀ``) from Lanczos."""
    factors = _factors(node)
    if factors is None:
        return None
    vectors, row = factors
    decomposition = vectors.owner
    if decomposition is None or vectors.type.ndim != 2:
        return None
    op = core_op(decomposition)
    right = node.inputs[1]
    if isinstance(op, Eigh) and len(decomposition.inputs) == 1:
        transposed = right.owner is not None and isinstance(right.owner.op, DimShuffle)
        if not (vectors is decomposition.outputs[1] and transposed):
            return None
        if right.owner.op.new_order != (1, 0) or right.owner.inputs[0] is not vectors:
            return None
        lead = -1
    elif isinstance(op, SVD) and op.compute_uv and not op.full_matrices:
        if (
            vectors is not decomposition.outputs[0]
            or right is not decomposition.outputs[2]
        ):
            return None
        lead = 0
    else:
        return None
    [M] = decomposition.inputs
    if statically_small(M):
        return None
    weight = _leading_weight(row, decomposition, lead)
    if weight is None:
        return None
    if lead == -1:
        _, v, _ = leading_eigenpair(M, lower=op.lower)
        new = weight * pt.outer(v, v)
    else:
        u, _, v = leading_singular_triplet(M)
        new = weight * pt.outer(u, v)
    new = new.astype(node.outputs[0].dtype)
    copy_stack_trace(node.outputs[0], new)
    return [new]
