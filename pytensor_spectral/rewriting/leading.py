r"""Leading values of dense symmetric decompositions and SVDs → Lanczos subgraphs.

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
Being in ``canonicalize``, the rewrites run in ``pytensor.graph.rewrite_graph(out,
include=("canonicalize",))`` (and so in PyMC's pre-gradient rewrite) and in every
compiled mode; ``mode.excluding("spectral")`` turns them off.
"""

import pytensor.tensor as pt
from pytensor.assumptions import POSITIVE_DEFINITE, check_assumption
from pytensor.graph.rewriting.basic import node_rewriter
from pytensor.tensor.linalg.decomposition.eigen import Eigh, Eigvalsh
from pytensor.tensor.linalg.decomposition.svd import SVD
from pytensor.tensor.math import Max
from pytensor.tensor.rewriting.basic import register_canonicalize
from pytensor.tensor.subtensor import Subtensor

from pytensor_spectral.numerical_abscissa import symmetric_part
from pytensor_spectral.rewriting._match import (
    absolute_input,
    core_op,
    leading_entry,
    negated_input,
    replace,
    sole_client,
)
from pytensor_spectral.svd import spectral_norm
from pytensor_spectral.symmetric import CROSSOVER, leading_eigvalsh


def statically_small(A) -> bool:
    """Whether ``A``'s static core shape is known to be below the crossover size, where
    the dense op is faster: those graphs are left as they are."""
    m, n = A.type.shape[-2:]
    known = [d for d in (m, n) if d is not None]
    return bool(known) and min(known) < CROSSOVER


def _positive_semidefinite(fgraph, A) -> bool:
    """PyTensor's ``POSITIVE_DEFINITE`` fact (which it also derives for Gram matrices
    ``X Xᵀ``, only semi-definite: enough here, where ``λ ≥ 0`` is what matters)."""
    return check_assumption(fgraph, A, POSITIVE_DEFINITE)


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
        for kind, inner in (
            ("max|λ|", absolute_input(values)),
            ("max(-λ)", negated_input(values)),
        ):
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
    if (
        owner is None
        or not isinstance(core_op(owner), Eigh | Eigvalsh)
        or len(owner.inputs) != 1
    ):
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
        value = pt.maximum(
            leading_eigvalsh(S, lower=lower), leading_eigvalsh(-S, lower=lower)
        )
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
    if (
        op.compute_uv
        and (  # merged with a gradient's svd whose vectors are no longer used
            values is not owner.outputs[1]
            or fgraph.clients[owner.outputs[0]]
            or fgraph.clients[owner.outputs[2]]
        )
    ):
        return None
    [A] = owner.inputs
    if statically_small(A):
        return None
    if _positive_semidefinite(fgraph, A):
        return replace(node, reduce_rest, leading_eigvalsh(symmetric_part(A)))
    return replace(node, reduce_rest, spectral_norm(A))
