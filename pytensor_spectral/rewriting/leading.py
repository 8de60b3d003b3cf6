r"""Leading values of dense decompositions → this package's ops.

* ``max(eigvals(A)[0])`` → `spectral_abscissa` (canonicalize, on by default): exact, and
  it fixes PyTensor's ``max`` gradient, which hands the full cotangent to every tied
  entry and so counts a leading conjugate pair twice.
* Extreme eigenvalues of symmetric matrices → Lanczos subgraphs with implicit gradients
  (canonicalize, on by default): ``max(eigvalsh(S))``, ``eigvalsh(S)[..., -1]``,
  ``eigh(S)[0][..., -1]`` → ``leading_eigvalsh(S)``; ``min(eigvalsh(S))``,
  ``eigvalsh(S)[..., 0]``, ``eigh(S)[0][..., 0]`` → ``-leading_eigvalsh(-S)``;
  ``max(abs(eigvalsh(S)))`` (also ``eigh``; PyTensor's own rewrite of ``norm(S, 2)`` for
  a symmetric ``S``) → ``maximum(leading_eigvalsh(S), leading_eigvalsh(-S))``, or
  ``leading_eigvalsh(S)`` where PyTensor's assumptions know ``S`` to be positive
  (semi-)definite.
* Leading singular values: ``max(svd(A, compute_uv=False))``,
  ``svd(A, compute_uv=False)[..., 0]``, ``norm(A, 2)`` → `spectral_norm` (Lanczos on
  ``AᵀA``), or → ``leading_eigvalsh((A + Aᵀ)/2)`` (one product per step instead of two,
  the same gradient ``v vᵀ``) where ``A`` is known to be positive (semi-)definite.
* The Lanczos rewrites apply only when nothing else uses the decomposition and the static
  size is not known to be below `~pytensor_spectral.symmetric.CROSSOVER`; the subgraph
  itself takes the dense path for small matrices of unknown static size and when Lanczos
  does not converge, so values match the dense ops to ``1e-10 ‖A‖₂`` in float64.
* ``eigvals_without_schur_vectors`` (specialize): a cheaper forward op when no gradient
  needs the Schur vectors.

Being in ``canonicalize``, the rewrites run in ``pytensor.graph.rewrite_graph(out,
include=("canonicalize",))`` (and so in PyMC's pre-gradient rewrite) and in every
compiled mode; ``mode.excluding("spectral")`` turns them off.
"""

import pytensor.tensor as pt
from pytensor.assumptions import POSITIVE_DEFINITE, check_assumption
from pytensor.graph.rewriting.basic import copy_stack_trace, node_rewriter
from pytensor.tensor.linalg.decomposition.eigen import Eigh, Eigvalsh
from pytensor.tensor.linalg.decomposition.svd import SVD
from pytensor.tensor.math import Max
from pytensor.tensor.rewriting.basic import register_canonicalize, register_specialize
from pytensor.tensor.rewriting.blockwise import blockwise_of
from pytensor.tensor.subtensor import Subtensor

from pytensor_spectral._graph import _apply
from pytensor_spectral.abscissa import spectral_abscissa, symmetric_part
from pytensor_spectral.eig import Eigvals, SchurEig
from pytensor_spectral.rewriting._match import (
    absolute_input,
    core_op,
    leading_entry,
    negated_input,
    replace,
    sole_client,
    statically_small,
)
from pytensor_spectral.svd import spectral_norm
from pytensor_spectral.symmetric import leading_eigvalsh


def _positive_semidefinite(fgraph, A) -> bool:
    """PyTensor's ``POSITIVE_DEFINITE`` fact (which it also derives for Gram matrices
    ``X Xᵀ``, only semi-definite: enough here, where ``λ ≥ 0`` is what matters)."""
    return check_assumption(fgraph, A, POSITIVE_DEFINITE)


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


def _extreme_eigenvalue_pattern(fgraph, node):
    """``(eigenvalues, kind, reduce_rest)`` if ``node`` takes an extreme eigenvalue of a
    symmetric decomposition: ``kind`` is ``"max"`` (``max(λ)``, ``λ[..., -1]``),
    ``"min"`` (``λ[..., 0]``), ``"max(-λ)"`` (what ``min(λ)`` is in PyTensor) or
    ``"max|λ|"``; ``None`` otherwise."""
    match = leading_entry(node)
    if match is None:
        return None
    values, reduce_rest, index = match
    size = values.type.shape[-1]
    if index is None:
        for kind, inner in (("max|λ|", absolute_input(values)), ("max(-λ)", negated_input(values))):
            if inner is not None and sole_client(fgraph, values.owner, inner):
                return inner, kind, reduce_rest
        return values, "max", reduce_rest
    if index == (-1 if size is None else size - 1):
        return values, "max", reduce_rest
    if index == 0:
        return values, "min", reduce_rest
    return None


@register_canonicalize("spectral")
@node_rewriter([Max, Subtensor])
def extreme_eigenvalue_of_eigh(fgraph, node):
    """Extreme eigenvalues of ``eigvalsh(S)`` / ``eigh(S)[0]`` (largest, smallest,
    largest in magnitude) → `leading_eigvalsh` of ``S`` or ``-S`` (Lanczos, implicit
    gradient ``v vᵀ``), when nothing else uses the decomposition."""
    match = _extreme_eigenvalue_pattern(fgraph, node)
    if match is None:
        return None
    eigenvalues, kind, reduce_rest = match
    owner = eigenvalues.owner
    if owner is None or not isinstance(core_op(owner), Eigh | Eigvalsh) or len(owner.inputs) != 1:
        return None
    consumer = node if kind in ("max", "min") else node.inputs[0].owner
    if not sole_client(fgraph, consumer, eigenvalues) or any(
        fgraph.clients[out] for out in owner.outputs[1:]
    ):
        return None
    if kind != "max" and not sole_client(fgraph, node, node.inputs[0]):
        return None
    [S] = owner.inputs
    if statically_small(S):
        return None
    lower = core_op(owner).lower
    if kind == "max|λ|" and _positive_semidefinite(fgraph, S):
        kind = "max"
    if kind == "max":
        value = leading_eigvalsh(S, lower=lower)
    elif kind == "max|λ|":
        value = pt.maximum(leading_eigvalsh(S, lower=lower), leading_eigvalsh(-S, lower=lower))
    else:  # max(-λ) = -λmin = λmax(-S)
        value = leading_eigvalsh(-S, lower=lower)
        value = -value if kind == "min" else value
    return replace(node, reduce_rest, value)


@register_canonicalize("spectral")
@node_rewriter([Max, Subtensor])
def leading_singular_value(fgraph, node):
    """``max(svd(A, compute_uv=False))``, ``svd(A, compute_uv=False)[..., 0]`` and so
    ``norm(A, 2)`` → `spectral_norm` (Lanczos on ``AᵀA``, implicit gradient ``u vᵀ``),
    or Lanczos on ``(A + Aᵀ)/2`` itself for a known positive semi-definite ``A``."""
    match = leading_entry(node)
    if match is None:
        return None
    values, reduce_rest, index = match
    owner = values.owner
    if owner is None or index not in (None, 0):
        return None
    op = core_op(owner)
    if not isinstance(op, SVD) or not sole_client(fgraph, node, values):
        return None
    if op.compute_uv and (  # merged with a gradient's svd whose vectors are no longer used
        values is not owner.outputs[1]
        or fgraph.clients[owner.outputs[0]]
        or fgraph.clients[owner.outputs[2]]
    ):
        return None
    [A] = owner.inputs
    if statically_small(A):
        return None
    if _positive_semidefinite(fgraph, A):
        return replace(node, reduce_rest, leading_eigvalsh(symmetric_part(A)))
    return replace(node, reduce_rest, spectral_norm(A))


@register_specialize("spectral")
@node_rewriter([SchurEig, blockwise_of(SchurEig)])
def eigvals_without_schur_vectors(fgraph, node):
    """Use `Eigvals` (``gees`` without Schur vectors) when no gradient needs ``T, Q``.

    Same algorithm and eigenvalue order, about 20% cheaper. Registered in
    ``specialize`` (on by default when compiling), i.e. after gradients are built.
    """
    if core_op(node).compute_v:
        return None
    if any(fgraph.clients[out] for out in node.outputs[-2:]):
        return None
    w_re, w_im = _apply(Eigvals(), node.inputs[0])
    copy_stack_trace(node.outputs[:2], [w_re, w_im])
    return {node.outputs[0]: w_re, node.outputs[1]: w_im}
