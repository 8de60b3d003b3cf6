r"""Spectral abscissa and spectral radius, with exact gradients.

* :math:`\alpha(A) = \max_k \operatorname{Re}\lambda_k(A)` (stability of ``dx/dt = A x``),
* :math:`\rho(A) = \max_k |\lambda_k(A)|` (stability of ``x_{t+1} = A x_t``).

The forward op returns the gradient direction as a hidden output, computed at O(n²) extra
cost from the leading eigenvector pair, so that the pullback is a product with the
output cotangent.
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
    CheckFinite,
    LazyModule,
    _apply,
    _scalar,
    add_terms,
    as_square_float_matrix,
)


_hessenberg = LazyModule("pytensor_spectral._hessenberg")
_schur = LazyModule("pytensor_spectral._schur")


class LeadingEigenvalue(Op):
    r"""Spectral abscissa (``measure="real"``) or radius (``measure="modulus"``).

    Outputs the value and its gradient :math:`G = \partial m / \partial A`. For a simple
    leading eigenvalue :math:`\lambda` with right/left eigenvectors :math:`x, y`,

    .. math::
        G = \operatorname{Re}\frac{\bar g\, y x^H}{\overline{y^H x}}, \qquad
        \bar g = \frac{\partial m}{\partial \operatorname{Re}\lambda}
        + i \frac{\partial m}{\partial \operatorname{Im}\lambda},

    with :math:`x, y` from inverse iteration on the Hessenberg form (LAPACK
    ``gebal, gehrd, hseqr, hsein, ormhr, gebak``): about the cost of the eigenvalues alone.
    """

    __props__ = ("measure",)
    gufunc_signature = "(m,m)->(),(m,m)"
    MEASURES = ("real", "modulus")

    def __init__(self, measure: str):
        if measure not in self.MEASURES:
            raise ValueError(
                f"measure must be one of {sorted(self.MEASURES)}, got {measure!r}"
            )
        self.measure = measure

    def make_node(self, A):
        A = as_square_float_matrix(A, "LeadingEigenvalue")
        return Apply(self, [A], [_scalar(A.dtype)(), A.type()])

    def perform(self, node, inputs, outputs):
        (A,) = inputs
        value, G = _hessenberg.leading_eigenvalue(
            A, _hessenberg.MEASURE_CODES[self.measure]
        )
        outputs[0][0] = np.asarray(value, dtype=A.dtype)
        outputs[1][0] = G

    def infer_shape(self, node, shapes):
        return [(), shapes[0]]

    def pullback(self, inputs, outputs, cotangents):
        G = CheckFinite(
            f"The gradient of the spectral {'abscissa' if self.measure == 'real' else 'radius'} "
            "is not finite: the leading eigenvalue is defective"
        )(outputs[1])
        g_value, g_G = cotangents
        terms = []
        if not isinstance(g_value.type, DisconnectedType):
            terms.append(g_value * G)
        if not isinstance(g_G.type, DisconnectedType):
            terms.append(LeadingEigenvalueHessian(self.measure)(inputs[0], g_G))
        return [add_terms(terms)]

    def pushforward(self, inputs, outputs, tangents):
        (dA,) = tangents
        if isinstance(dA.type, DisconnectedType):
            return [disconnected_type(), disconnected_type()]
        return [
            pt.sum(outputs[1] * dA),
            LeadingEigenvalueHessian(self.measure)(inputs[0], dA),
        ]


class LeadingEigenvalueHessian(Op):
    r"""Hessian of the spectral abscissa or radius applied to a matrix ``C``: the pullback
    of the gradient output of `LeadingEigenvalue` (and, the Hessian being symmetric, its
    pushforward).

    From one real Schur form of ``A`` and the second-order perturbation of the simple
    leading eigenvalue :math:`\lambda_k` (`pytensor_spectral.eig.EigvalsHessian`), plus for
    the radius the curvature of :math:`|\lambda|`. Where the second derivative does not
    exist (distinct eigenvalues tied for the leading value, repeated eigenvalues,
    :math:`\rho = 0`) it raises ``ValueError``.
    """

    __props__ = ("measure",)
    gufunc_signature = "(m,m),(m,m)->(m,m)"

    def __init__(self, measure: str):
        if measure not in LeadingEigenvalue.MEASURES:
            raise ValueError(
                f"measure must be one of {sorted(LeadingEigenvalue.MEASURES)}"
            )
        self.measure = measure

    def make_node(self, A, C):
        A = as_square_float_matrix(A, "LeadingEigenvalueHessian")
        C = pt.as_tensor_variable(C)
        return Apply(self, [A, C], [A.type()])

    def perform(self, node, inputs, outputs):
        A, C = inputs
        outputs[0][0] = _schur.leading_second_order(
            A, C.astype(A.dtype), self.measure == "modulus"
        )

    def infer_shape(self, node, shapes):
        return [shapes[0]]

    def pullback(self, inputs, outputs, cotangents):
        A, _ = inputs
        # Self-adjoint in C (a symmetric Hessian); third order in A.
        not_implemented = grad_not_implemented(
            self, 0, A, "third derivatives of the leading eigenvalue"
        )
        return [not_implemented, self(A, cotangents[0])]


def spectral_abscissa(A: TensorLike) -> Variable:
    r"""Spectral abscissa :math:`\alpha(A) = \max_k \operatorname{Re}\lambda_k(A)`.

    Parameters
    ----------
    A : TensorLike
        Real square matrix ``(..., m, m)``, ``m ≥ 1``.

    Returns
    -------
    TensorVariable
        ``(...)``.

    Notes
    -----
    Gradient :math:`\operatorname{Re}(y x^H)/\overline{y^H x}` for the leading eigenvalue
    (either member of a leading conjugate pair gives the same). Where the maximum is
    attained by distinct eigenvalues, the gradient is that of the first of them in LAPACK's
    order, an element of the Clarke subdifferential; where the leading eigenvalue is
    repeated (to ``100 n ε ‖A‖``), the gradient of the mean of the repeated eigenvalues,
    through their spectral projector. Unlike ``max(eigvals(A)[0])``, a conjugate pair is
    not counted twice.
    """
    return _apply(LeadingEigenvalue("real"), A)[0]


def spectral_radius(A: TensorLike) -> Variable:
    r"""Spectral radius :math:`\rho(A) = \max_k |\lambda_k(A)|`.

    Parameters
    ----------
    A : TensorLike
        Real square matrix ``(..., m, m)``, ``m ≥ 1``.

    Returns
    -------
    TensorVariable
        ``(...)``.

    Notes
    -----
    Gradient :math:`\operatorname{Re}(e^{i\theta} y x^H)/\overline{y^H x}` with
    :math:`\lambda = |\lambda| e^{i\theta}` the leading eigenvalue; ties and repeated
    eigenvalues as in `spectral_abscissa`. At :math:`\rho(A) = 0` (nilpotent ``A``) the
    returned gradient is zero.
    """
    return _apply(LeadingEigenvalue("modulus"), A)[0]
