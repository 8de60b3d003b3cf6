r"""Robust stability measures: the pseudospectral abscissa and the distance to instability.

For a real square :math:`A` and :math:`s(z) = \sigma_{\min}(zI - A)`:

* the pseudospectral abscissa
  :math:`\alpha_\varepsilon(A) = \max\{\operatorname{Re} z : s(z) \le \varepsilon\}`,
  the largest real part of an eigenvalue of any :math:`A + E` with
  :math:`\|E\|_2 \le \varepsilon` (complex :math:`E`);
* the distance to instability (complex stability radius)
  :math:`\beta(A) = \min_{\omega \in \mathbb{R}} s(i\omega)`, the norm of the smallest
  complex perturbation that makes a stable :math:`A` unstable.

**Gradients.** At a rightmost point :math:`z^* = x^* + iy^*` with unit singular vectors
:math:`(z^* I - A) v = \varepsilon u`, the maximality of :math:`x^*` on the curve
:math:`s = \varepsilon` makes :math:`\partial s/\partial y = -\operatorname{Im} u^H v`
vanish, and differentiating :math:`s(x^*(A, \varepsilon) + iy^*, A) = \varepsilon`
(:math:`ds = \operatorname{Re} u^H (dz\, I - dA) v`) gives

.. math::
    \nabla_A \alpha_\varepsilon = \frac{\operatorname{Re}(\bar u v^\top)}
    {\operatorname{Re} u^H v}, \qquad
    \frac{\partial \alpha_\varepsilon}{\partial \varepsilon} =
    \frac{1}{\operatorname{Re} u^H v}.

At a minimizing frequency :math:`\omega^*` with :math:`(A - i\omega^* I) v = \beta u`,
stationarity in :math:`\omega` removes the frequency's own variation (envelope theorem)
and :math:`\nabla_A \beta = \operatorname{Re}(\bar u v^\top)`. For a normal matrix
:math:`u = v` (resp. :math:`u = -v`) is the rightmost eigenvector, so that
:math:`\alpha_\varepsilon = \alpha + \varepsilon` and :math:`\beta = -\alpha` with the
gradients of the spectral abscissa. A conjugate pair of extremal points of a real
:math:`A` gives the same (real) gradient from either member.

**Algorithms** (see `pytensor_spectral._pseudospectra`): local iterations in complex
Schur coordinates at O(n²) per evaluation, certified globally by the level-set test of a
real Hamiltonian matrix of order 2n (Byers 1988; Burke, Lewis & Overton 2003), which
restarts the local iteration where the certificate fails.

Second derivatives are not implemented: ``pytensor.grad`` of the gradient raises
``NullTypeGradError`` naming this op.
"""

import numpy as np
import pytensor.tensor as pt
from pytensor.gradient import (
    DisconnectedType,
    disconnected_type,
    grad_not_implemented,
)
from pytensor.graph.basic import Apply, Variable
from pytensor.graph.op import Op
from pytensor.tensor import TensorLike

from pytensor_spectral._graph import (
    LazyModule,
    _apply,
    _require_ndim,
    _scalar,
    add_terms,
    as_eps,
    as_square_float_matrix,
    check_constant_eps,
)


_pseudospectra = LazyModule("pytensor_spectral._pseudospectra")

SECOND_ORDER = "second derivatives of {} are not implemented"


def _connected(cotangents) -> list[bool]:
    return [not isinstance(g.type, DisconnectedType) for g in cotangents]


class PseudospectralAbscissa(Op):
    r"""Pseudospectral abscissa :math:`\alpha_\varepsilon(A)` with its gradients.

    Outputs the value, :math:`\nabla_A \alpha_\varepsilon` and
    :math:`\partial\alpha_\varepsilon/\partial\varepsilon` (the last two hidden from
    `pseudospectral_abscissa`, used by the pullback). Computed in double precision.
    """

    __props__ = ()
    gufunc_signature = "(m,m),()->(),(m,m),()"

    def make_node(self, A, eps):
        A = as_square_float_matrix(A, "PseudospectralAbscissa")
        eps = as_eps(eps, A.dtype)
        return Apply(self, [A, eps], [_scalar(A.dtype)(), A.type(), _scalar(A.dtype)()])

    def perform(self, node, inputs, outputs):
        A, eps = inputs
        value, G, d_eps, _ = _pseudospectra.pseudospectral_abscissa(
            np.ascontiguousarray(A, dtype=np.float64), float(eps)
        )
        outputs[0][0] = np.asarray(value, dtype=A.dtype)
        outputs[1][0] = G.astype(A.dtype)
        outputs[2][0] = np.asarray(d_eps, dtype=A.dtype)

    def infer_shape(self, node, shapes):
        return [(), shapes[0], ()]

    def pullback(self, inputs, outputs, cotangents):
        A, eps = inputs
        if any(_connected(cotangents[1:])):
            message = SECOND_ORDER.format("the pseudospectral abscissa")
            return [
                grad_not_implemented(self, 0, A, message),
                grad_not_implemented(self, 1, eps, message),
            ]
        g_value = cotangents[0]
        return [g_value * outputs[1], g_value * outputs[2]]

    def pushforward(self, inputs, outputs, tangents):
        (dA, d_eps_in), (_, G, d_eps) = tangents, outputs
        connected = _connected(tangents)
        if not any(connected):
            return [disconnected_type() for _ in outputs]
        terms = [pt.sum(G * dA)] if connected[0] else []
        if connected[1]:
            terms.append(d_eps * d_eps_in)
        message = SECOND_ORDER.format("the pseudospectral abscissa")
        not_implemented = grad_not_implemented(self, 0, inputs[0], message)
        return [add_terms(terms), not_implemented, not_implemented]


class DistanceToInstability(Op):
    r"""Distance to instability :math:`\beta(A)` with its gradient (a hidden output of
    `distance_to_instability`, used by the pullback). Computed in double precision."""

    __props__ = ()
    gufunc_signature = "(m,m)->(),(m,m)"

    def make_node(self, A):
        A = as_square_float_matrix(A, "DistanceToInstability")
        return Apply(self, [A], [_scalar(A.dtype)(), A.type()])

    def perform(self, node, inputs, outputs):
        (A,) = inputs
        value, G, _ = _pseudospectra.distance_to_instability(
            np.ascontiguousarray(A, dtype=np.float64)
        )
        outputs[0][0] = np.asarray(value, dtype=A.dtype)
        outputs[1][0] = G.astype(A.dtype)

    def infer_shape(self, node, shapes):
        return [(), shapes[0]]

    def pullback(self, inputs, outputs, cotangents):
        if _connected(cotangents)[1]:
            message = SECOND_ORDER.format("the distance to instability")
            return [grad_not_implemented(self, 0, inputs[0], message)]
        return [cotangents[0] * outputs[1]]

    def pushforward(self, inputs, outputs, tangents):
        (dA,) = tangents
        if not _connected(tangents)[0]:
            return [disconnected_type(), disconnected_type()]
        message = SECOND_ORDER.format("the distance to instability")
        return [
            pt.sum(outputs[1] * dA),
            grad_not_implemented(self, 0, inputs[0], message),
        ]


def pseudospectral_abscissa(A: TensorLike, eps: TensorLike) -> Variable:
    r"""Pseudospectral abscissa
    :math:`\alpha_\varepsilon(A) = \max\{\operatorname{Re} z :
    \sigma_{\min}(zI - A) \le \varepsilon\}`.

    Parameters
    ----------
    A : TensorLike
        Real square matrix ``(..., m, m)``, ``m ≥ 1``.
    eps : TensorLike
        Perturbation size, positive and finite (``(...)``, broadcast with the batch).
        Differentiable.

    Returns
    -------
    TensorVariable
        ``(...)``, with :math:`\alpha(A) + \varepsilon \le \alpha_\varepsilon(A)` and
        equality for normal ``A``.

    Raises
    ------
    ValueError
        At construction for a non-positive or non-finite constant ``eps``; at run time
        for such an ``eps``, non-finite or empty ``A``, or if the level-set certificate
        does not pass within its bound (30 rounds, each of which improves the value).

    Notes
    -----
    Gradient :math:`\operatorname{Re}(\bar u v^\top)/\operatorname{Re}(u^H v)` and
    :math:`\partial/\partial\varepsilon = 1/\operatorname{Re}(u^H v)` at the rightmost
    point (module docstring). Certified global to a relative ``1e-8``: no part of the
    pseudospectrum lies further right by more than ``1e-8 (‖A‖_F + ε)``. Where several
    rightmost points tie, the gradient is that of the one found first. Second
    derivatives raise. Double precision inside for every input dtype.
    """
    check_constant_eps(eps, "pseudospectral_abscissa")
    A = _require_ndim(A, "pseudospectral_abscissa")
    return _apply(PseudospectralAbscissa(), A, eps)[0]


def distance_to_instability(A: TensorLike) -> Variable:
    r"""Distance to instability (complex stability radius)
    :math:`\beta(A) = \min_{\omega \in \mathbb{R}} \sigma_{\min}(A - i\omega I)`.

    Parameters
    ----------
    A : TensorLike
        Real square matrix ``(..., m, m)``, ``m ≥ 1``.

    Returns
    -------
    TensorVariable
        ``(...)``: :math:`\beta(A)` for a stable ``A`` (spectral abscissa
        :math:`\alpha(A) < 0`), with :math:`0 < \beta(A) \le -\alpha(A)` and equality
        for normal ``A``; ``0`` (gradient ``0``) for :math:`\alpha(A) \ge 0`, where
        ``A`` is already unstable.

    Raises
    ------
    ValueError
        At run time for non-finite or empty ``A``, or if the level-set certificate does
        not pass within its bound (30 rounds).

    Notes
    -----
    Gradient :math:`\operatorname{Re}(\bar u v^\top)` from the singular vectors at the
    minimizing frequency (module docstring); certified global to a relative ``1e-8``
    (no frequency gives a value below ``(1 - 1e-8) β``). Second derivatives raise.
    Double precision inside for every input dtype.
    """
    return _apply(DistanceToInstability(), A)[0]
