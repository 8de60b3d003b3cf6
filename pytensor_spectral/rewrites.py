r"""Graph rewrites of this package, registered under the ``"spectral"`` tag.

* ``max(eigvals(A)[0])`` → `spectral_abscissa` (canonicalize, on by default): exact, and
  it fixes PyTensor's ``max`` gradient, which hands the full cotangent to every tied
  entry and so counts a leading conjugate pair twice.
* Leading values of dense decompositions → Lanczos subgraphs with implicit gradients
  (canonicalize, on by default): ``max(eigvalsh(A))``, ``eigvalsh(A)[..., -1]``,
  ``eigh(A)[0][..., -1]`` → `leading_eigvalsh`; ``max(svd(A, compute_uv=False))``,
  ``svd(A, compute_uv=False)[..., 0]``, ``norm(A, 2)`` → `spectral_norm`. They apply only
  when nothing else uses the decomposition and the static size is not known to be below
  `~pytensor_spectral.symmetric.CROSSOVER`; the subgraph itself takes the dense path for
  small matrices of unknown static size and when Lanczos does not converge, so values
  match the dense ops to ``1e-10 ‖A‖₂`` in float64.
* ``eigvals_without_schur_vectors`` (specialize): a cheaper forward op when no gradient
  needs the Schur vectors.

Being in ``canonicalize``, the rewrites run in ``pytensor.graph.rewrite_graph(out,
include=("canonicalize",))`` (and so in PyMC's pre-gradient rewrite) and in every
compiled mode; ``mode.excluding("spectral")`` turns them off.
"""

from pytensor.graph.basic import Constant
from pytensor.graph.rewriting.basic import copy_stack_trace, node_rewriter
from pytensor.tensor.blockwise import Blockwise
from pytensor.tensor.linalg.decomposition.eigen import Eigh, Eigvalsh
from pytensor.tensor.linalg.decomposition.svd import SVD
from pytensor.tensor.math import Max
from pytensor.tensor.math import max as pt_max
from pytensor.tensor.rewriting.basic import register_canonicalize, register_specialize
from pytensor.tensor.rewriting.blockwise import blockwise_of
from pytensor.tensor.subtensor import Subtensor, indices_from_subtensor

from pytensor_spectral._graph import _apply
from pytensor_spectral.abscissa import spectral_abscissa
from pytensor_spectral.eig import Eigvals, SchurEig
from pytensor_spectral.svd import spectral_norm
from pytensor_spectral.symmetric import CROSSOVER, leading_eigvalsh


def _core_op(node):
    return node.op.core_op if isinstance(node.op, Blockwise) else node.op


def _leading_entry(node):
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


def _replace(node, reduce_rest, value) -> list:
    """The replacement of ``node``'s output: ``value`` (per matrix) reduced over the other
    axes ``node`` reduced, with ``node``'s stack trace and dtype."""
    new = reduce_rest(value)
    copy_stack_trace(node.outputs[0], new)
    return [new.astype(node.outputs[0].dtype)]


def _sole_client(fgraph, node, var) -> bool:
    return [client for client, _ in fgraph.clients[var]] == [node]


def _statically_small(A) -> bool:
    """Whether ``A``'s static core shape is known to be below the crossover size, where
    the dense op is faster: those graphs are left as they are."""
    m, n = A.type.shape[-2:]
    known = [d for d in (m, n) if d is not None]
    return bool(known) and min(known) < CROSSOVER


@register_canonicalize("spectral")
@node_rewriter([Max])
def max_real_eigenvalue_to_spectral_abscissa(fgraph, node):
    """``max(eigvals(A)[0])`` → ``spectral_abscissa(A)``: same value, and a gradient
    that does not count a leading conjugate pair twice."""
    match = _leading_entry(node)
    if match is None:
        return None
    values, reduce_rest, _ = match
    owner = values.owner
    if owner is None or not isinstance(_core_op(owner), SchurEig | Eigvals):
        return None
    if values is not owner.outputs[0]:
        return None
    return _replace(node, reduce_rest, spectral_abscissa(owner.inputs[0]))


@register_canonicalize("spectral")
@node_rewriter([Max, Subtensor])
def leading_eigenvalue_of_eigh(fgraph, node):
    """``max(eigvalsh(A))``, ``eigvalsh(A)[..., -1]``, ``eigh(A)[0][..., -1]`` →
    `leading_eigvalsh` (Lanczos, implicit gradient ``v vᵀ``), when nothing else uses
    the decomposition."""
    match = _leading_entry(node)
    if match is None:
        return None
    values, reduce_rest, index = match
    owner = values.owner
    size = values.type.shape[-1]
    if owner is None or index not in (None, -1 if size is None else size - 1):
        return None
    op = _core_op(owner)
    if not isinstance(op, Eigh | Eigvalsh) or len(owner.inputs) != 1:
        return None
    if not _sole_client(fgraph, node, values) or any(
        fgraph.clients[out] for out in owner.outputs[1:]
    ):
        return None
    if _statically_small(owner.inputs[0]):
        return None
    return _replace(node, reduce_rest, leading_eigvalsh(owner.inputs[0], lower=op.lower))


@register_canonicalize("spectral")
@node_rewriter([Max, Subtensor])
def leading_singular_value(fgraph, node):
    """``max(svd(A, compute_uv=False))``, ``svd(A, compute_uv=False)[..., 0]`` and so
    ``norm(A, 2)`` → `spectral_norm` (Lanczos on ``AᵀA``, implicit gradient ``u vᵀ``)."""
    match = _leading_entry(node)
    if match is None:
        return None
    values, reduce_rest, index = match
    owner = values.owner
    if owner is None or index not in (None, 0):
        return None
    op = _core_op(owner)
    if not isinstance(op, SVD) or op.compute_uv or not _sole_client(fgraph, node, values):
        return None
    if _statically_small(owner.inputs[0]):
        return None
    return _replace(node, reduce_rest, spectral_norm(owner.inputs[0]))


@register_specialize("spectral")
@node_rewriter([SchurEig, blockwise_of(SchurEig)])
def eigvals_without_schur_vectors(fgraph, node):
    """Use `Eigvals` (``gees`` without Schur vectors) when no gradient needs ``T, Q``.

    Same algorithm and eigenvalue order, about 20% cheaper. Registered in
    ``specialize`` (on by default when compiling), i.e. after gradients are built.
    """
    if _core_op(node).compute_v:
        return None
    if any(fgraph.clients[out] for out in node.outputs[-2:]):
        return None
    w_re, w_im = _apply(Eigvals(), node.inputs[0])
    copy_stack_trace(node.outputs[:2], [w_re, w_im])
    return {node.outputs[0]: w_re, node.outputs[1]: w_im}
