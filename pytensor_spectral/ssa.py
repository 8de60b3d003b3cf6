r"""Smoothed spectral abscissa (Vanbiervliet, Vandereycken, Michiels, Vandewalle and
Diehl, *The smoothed spectral abscissa for robust stability optimization*, SIAM J. Optim.
20(1), 2009).

For :math:`\varepsilon > 0`, :math:`\tilde\alpha_\varepsilon(A)` is the unique
:math:`s > \alpha(A)` with

.. math::
    f(A, s) = \operatorname{tr} P(s) = \frac{1}{\varepsilon}, \qquad
    (A - sI)P + P(A - sI)^\top + I = 0,

i.e. :math:`\int_0^\infty \|e^{(A - sI)t}\|_F^2\,dt = 1/\varepsilon`. It is smooth in ``A``,
bounded by :math:`\alpha + \varepsilon/2 \le \tilde\alpha_\varepsilon \le \omega +
n\varepsilon/2`, and tends to the spectral abscissa as :math:`\varepsilon \to 0`. With
:math:`R` the adjoint solution, :math:`(A - sI)^\top R + R(A - sI) + I = 0`,

.. math::
    \nabla_A \tilde\alpha_\varepsilon = \frac{R P}{\operatorname{tr}(R P)}, \qquad
    \frac{\partial \tilde\alpha_\varepsilon}{\partial\varepsilon}
    = \frac{1}{2\varepsilon^2 \operatorname{tr}(R P)}.
"""

import numpy as np
import pytensor.tensor as pt
from pytensor.gradient import DisconnectedType, disconnected_type, pushforward
from pytensor.graph.basic import Apply, Variable
from pytensor.graph.op import Op
from pytensor.tensor import TensorLike
from pytensor.tensor.linalg.solvers.linear_control import solve_continuous_lyapunov

from pytensor_spectral._graph import (
    LazyModule,
    _apply,
    _require_ndim,
    _scalar,
    add_terms,
    as_eps,
    as_square_float_matrix,
    check_constant_eps,
    partial_derivatives,
)


_lyapunov = LazyModule("pytensor_spectral._lyapunov")


DEFAULT_EPS_NUMERATOR = 1.5


class SmoothedSpectralAbscissa(Op):
    r"""Smoothed spectral abscissa :math:`\tilde\alpha_\varepsilon(A)` and its derivatives.

    Inputs ``A, eps``; outputs the value, :math:`\nabla_A` and :math:`\partial/\partial
    \varepsilon` (the last two feed the pullback). One real Schur form
    :math:`A = Q T Q^\top` per evaluation; every Lyapunov solve of the root finder and the
    adjoint is a quasi-triangular Sylvester solve with ``T`` (LAPACK ``trsyl``), and the
    root is found by safeguarded Newton steps (see ``_lyapunov.ssa``).
    """

    __props__ = ()
    gufunc_signature = "(m,m),()->(),(m,m),()"

    def make_node(self, A, eps):
        A = as_square_float_matrix(A, "SmoothedSpectralAbscissa")
        eps = as_eps(eps, A.dtype)
        return Apply(self, [A, eps], [_scalar(A.dtype)(), A.type(), _scalar(A.dtype)()])

    def perform(self, node, inputs, outputs):
        A, eps = inputs
        value, G, d_eps, _ = _lyapunov.ssa(A, A.dtype.type(eps))
        outputs[0][0] = np.asarray(value, dtype=A.dtype)
        outputs[1][0] = G.astype(A.dtype)
        outputs[2][0] = np.asarray(d_eps, dtype=A.dtype)

    def infer_shape(self, node, shapes):
        return [(), shapes[0], ()]

    def pullback(self, inputs, outputs, cotangents):
        A, eps = inputs
        _, G, d_eps = outputs
        g_value, g_G, g_d_eps = (
            None if isinstance(g.type, DisconnectedType) else g for g in cotangents
        )
        grads = [pt.zeros_like(A), pt.zeros_like(eps)]
        if g_value is not None:
            grads = [g_value * G, g_value * d_eps]
        if g_G is not None or g_d_eps is not None:

            def cost(A, eps):
                G_graph, d_eps_graph = _derivative_graph(A, eps, self(A, eps)[0])
                terms = [pt.sum(g_G * G_graph)] if g_G is not None else []
                if g_d_eps is not None:
                    terms.append(g_d_eps * d_eps_graph)
                return add_terms(terms)

            second = partial_derivatives(cost, [A, eps])
            grads = [g + h for g, h in zip(grads, second, strict=True)]
        return grads

    def pushforward(self, inputs, outputs, tangents):
        _, G, d_eps = outputs
        dA, d_eps_in = tangents
        terms = []
        if not isinstance(dA.type, DisconnectedType):
            terms.append(pt.sum(G * dA))
        if not isinstance(d_eps_in.type, DisconnectedType):
            terms.append(d_eps * d_eps_in)
        if not terms:
            return [disconnected_type() for _ in outputs]
        A, eps = inputs
        connected = [
            (x, t)
            for x, t in zip(inputs, tangents, strict=True)
            if not isinstance(t.type, DisconnectedType)
        ]
        derivatives = pushforward(
            list(_derivative_graph(A, eps, outputs[0])),
            [x for x, _ in connected],
            [t for _, t in connected],
        )
        return [add_terms(terms), *derivatives]


def _derivative_graph(
    A: Variable, eps: Variable, s: Variable
) -> tuple[Variable, Variable]:
    r""":math:`\nabla_A \tilde\alpha_\varepsilon = R P / \operatorname{tr}(R P)` and
    :math:`\partial\tilde\alpha_\varepsilon/\partial\varepsilon` as a differentiable graph
    of PyTensor's Lyapunov solves at the root ``s`` (the op's own output).

    Its derivatives are the second derivatives of the SSA: through ``A`` and ``eps``
    directly and through the root ``s``, whose derivative is the op's gradient (implicit
    differentiation of :math:`\operatorname{tr} P(A, s) = 1/\varepsilon`).
    """
    M = A - s * pt.eye(A.shape[0], dtype=A.dtype)
    minus_identity = -pt.eye(A.shape[0], dtype=A.dtype)
    P = solve_continuous_lyapunov(M, minus_identity)
    R = solve_continuous_lyapunov(M.T, minus_identity)
    RP = R @ P
    trace = pt.trace(RP)
    return RP / trace, 1 / (2 * eps**2 * trace)


def ssa(A: TensorLike, eps: TensorLike | None = None) -> Variable:
    r"""Smoothed spectral abscissa :math:`\tilde\alpha_\varepsilon(A)`.

    Parameters
    ----------
    A : TensorLike
        Real square matrix ``(..., m, m)``, ``m ≥ 1``.
    eps : TensorLike, optional
        Smoothing parameter, positive and finite (``(...)``, broadcast with the batch).
        ``None`` uses ``1.5 / m``, the default rule of SmoothedSpectralAbscissa.jl
        (``0.01 · 150 / m``). Differentiable.

    Returns
    -------
    TensorVariable
        ``(...)``: the root :math:`s > \alpha(A)` of :math:`\operatorname{tr} P(s) =
        1/\varepsilon`, with :math:`\alpha + \varepsilon/2 \le s \le \omega + m\varepsilon/2`.

    Raises
    ------
    ValueError
        At construction for a non-positive or non-finite constant ``eps``; at run time
        for such an ``eps``, non-finite or empty ``A``, or if the root finder does not
        converge within its iteration bound (100 Newton/bisection steps).

    Notes
    -----
    Gradient :math:`R P / \operatorname{tr}(R P)` (trace 1: ``ssa(A + cI) = ssa(A) + c``).
    See the module docstring.
    """
    check_constant_eps(eps, "ssa")
    A = _require_ndim(A, "ssa")
    if eps is None:
        eps = DEFAULT_EPS_NUMERATOR / A.shape[-1]
    return _apply(SmoothedSpectralAbscissa(), A, eps)[0]
