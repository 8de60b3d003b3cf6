r"""Eigengap :math:`\lambda_k - \lambda_{k+1}` of a symmetric matrix that stays finite
when other eigenvalues repeat: LAPACK ``syevr`` restricted to the two eigenpairs, with the
gradient :math:`v_k v_k^\top - v_{k+1} v_{k+1}^\top`.

Like ``pytensor.tensor.linalg.eigvalsh``, it reads the lower triangle of the input and
returns the exact gradient of that reading (`pytensor_spectral.symmetric`). A complex
Hermitian matrix is given by its real and imaginary parts (``im``).
"""

import numpy as np
import pytensor.tensor as pt
from pytensor.gradient import DisconnectedType, disconnected_type
from pytensor.graph.basic import Apply, Variable
from pytensor.graph.op import Op
from pytensor.tensor import TensorLike

from pytensor_spectral._graph import (
    LazyModule,
    _apply,
    _scalar,
    _static_size,
    as_square_float_matrix,
)
from pytensor_spectral.implicit import bordered_shift_solve, eigenpair_pullback
from pytensor_spectral.symmetric import SymmetrizeTriangle, hermitian_embedding


_eigengap = LazyModule("pytensor_spectral._eigengap")


class Eigengap(Op):
    r"""Eigengap :math:`\lambda_k - \lambda_{k+1}` (descending, 1-based ``k``) of the
    symmetric matrix in the lower triangle of ``A``, and the eigenvectors
    :math:`[v_k, v_{k+1}]` (LAPACK ``syevr`` for those two eigenpairs only).

    Gradient :math:`\bar g (v_k v_k^\top - v_{k+1} v_{k+1}^\top)`, folded onto the lower
    triangle: no eigenvalue differences appear, so it stays finite when other
    eigenvalues are repeated. It is the derivative only where :math:`\lambda_k` and
    :math:`\lambda_{k+1}` are simple. The eigenvectors are differentiable too
    (`pytensor_spectral.implicit`, one bordered solve each), which gives the gradient
    exact second derivatives; those have terms in :math:`1/(\lambda_k - \lambda_j)` for
    :math:`j \ne k` only, so they stay finite where other eigenvalues repeat.

    With ``hermitian=True`` the input is the real embedding of a Hermitian matrix
    (`hermitian_embedding`) and ``k`` an even index: each eigenvalue is double, with
    eigenvectors :math:`v` and :math:`J v` (:math:`J = [[0, -I], [I, 0]]`), and the
    eigenvector derivatives project out both, which gives the Hermitian gap exact second
    derivatives too.
    """

    __props__ = ("hermitian",)
    gufunc_signature = "(m,m),()->(),(m,2)"

    def __init__(self, hermitian: bool = False):
        self.hermitian = bool(hermitian)

    def _solver(self, S, lam, v):
        """``b -> (λI - S)⁺ (I - P) b`` on the complement of ``v`` (and ``J v``)."""
        partner = None
        if self.hermitian:  # J v = [-y; x] for v = [x; y]
            partner = (v.reshape((2, -1))[::-1] * pt.as_tensor([[-1.0], [1.0]])).ravel()
            partner = partner.astype(v.dtype)
        return lambda b: bordered_shift_solve(S, lam, v, b, partner)

    def make_node(self, A, k):
        A = as_square_float_matrix(A, "Eigengap")
        k = pt.as_tensor_variable(k)
        if k.type.ndim != 0 or k.type.numpy_dtype.kind not in "iu":
            raise TypeError(f"k must be an integer scalar, got {k.type}")
        k = pt.cast(k, "int64")
        n = _static_size(A)
        vectors = pt.TensorType(A.dtype, shape=(n, 2))
        return Apply(self, [A, k], [_scalar(A.dtype)(), vectors()])

    def perform(self, node, inputs, outputs):
        A, k = inputs
        gap, V = _eigengap.eigengap(A, int(k))
        outputs[0][0] = np.asarray(gap, dtype=A.dtype)
        outputs[1][0] = V

    def infer_shape(self, node, shapes):
        return [(), (shapes[0][0], 2)]

    def pullback(self, inputs, outputs, cotangents):
        S = SymmetrizeTriangle(lower=True)(inputs[0])
        V = outputs[1]
        g_gap, g_V = cotangents
        S_bar = pt.zeros_like(S)
        for j, sign in enumerate((1.0, -1.0)):
            v = V[:, j]
            lam = pt.dot(v, S @ v)
            g_lam = g_gap if isinstance(g_gap.type, DisconnectedType) else sign * g_gap
            g_v = g_V if isinstance(g_V.type, DisconnectedType) else g_V[:, j]
            S_bar = S_bar + eigenpair_pullback(
                lam, v, g_lam, g_v, self._solver(S, lam, v)
            )
        return [
            SymmetrizeTriangle(lower=True, adjoint=True)(S_bar),
            disconnected_type(),
        ]

    def pushforward(self, inputs, outputs, tangents):
        dA = tangents[0]
        if isinstance(dA.type, DisconnectedType):
            return [disconnected_type(), disconnected_type()]
        S = SymmetrizeTriangle(lower=True)(inputs[0])
        dS = SymmetrizeTriangle(lower=True)(dA)
        V = outputs[1]
        d_gap, d_V = pt.zeros((), dtype=S.dtype), []
        for j, sign in enumerate((1.0, -1.0)):
            v = V[:, j]
            dS_v = dS @ v
            d_gap = d_gap + sign * pt.dot(v, dS_v)
            d_V.append(self._solver(S, pt.dot(v, S @ v), v)(dS_v))
        return [d_gap, pt.stack(d_V, axis=1)]

    def connection_pattern(self, node):
        return [[True, True], [False, False]]


def eigengap(A: TensorLike, k: TensorLike, im: TensorLike | None = None) -> Variable:
    r"""Eigengap :math:`\lambda_k - \lambda_{k+1}` of a symmetric or Hermitian matrix.

    Parameters
    ----------
    A : TensorLike
        ``(..., m, m)``; its lower triangle is read (as ``eigvalsh`` does).
    k : TensorLike
        Integer ``1 <= k < m``: eigenvalues are in descending order, 1-based.
    im : TensorLike, optional
        ``(..., m, m)`` imaginary part: the matrix is then the complex Hermitian
        ``A + i im``, read from the lower triangles (the imaginary diagonal is ignored,
        as in LAPACK ``heevr``).

    Returns
    -------
    TensorVariable
        ``(...)``.

    Notes
    -----
    The gradient :math:`v_k v_k^\top - v_{k+1} v_{k+1}^\top` comes from two eigenpairs
    only and never divides by eigenvalue differences, so it is finite and exact when
    other eigenvalues are repeated (``eigh``'s pullback has :math:`1/(\lambda_i -
    \lambda_j)` terms and gives NaN there, e.g. at ``A = I``-like blocks). It is the
    derivative only where :math:`\lambda_k` and :math:`\lambda_{k+1}` are both simple.
    Computing the gap from an SVD instead does not help: its pullback has the same
    :math:`1/(\sigma_i^2 - \sigma_j^2)` terms.

    A Hermitian gap is the gap :math:`\lambda_{2k} - \lambda_{2k+1}` of the real
    embedding (`pytensor_spectral.symmetric.hermitian_embedding`), in which every
    eigenvalue is doubled. Its gradients with respect to ``A`` and ``im`` are exact: the
    real and imaginary parts of :math:`u_k u_k^H - u_{k+1} u_{k+1}^H` (``u`` the unit
    eigenvectors of ``A + i im``), folded onto the triangles read. Second derivatives
    raise ``ValueError``.
    """
    if im is None:
        return _apply(Eigengap(), A, k)[0]
    k = pt.as_tensor_variable(k)
    if k.type.numpy_dtype.kind in "iu":  # else `Eigengap.make_node` raises
        k = 2 * pt.cast(k, "int64")
    return _apply(Eigengap(hermitian=True), hermitian_embedding(A, im), k)[0]
