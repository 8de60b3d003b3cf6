r"""Leading singular triplet and spectral norm, by Lanczos on :math:`A^\top A`.

The forward pass is thick-restart Lanczos (`pytensor_spectral._lanczos`) with a dense
LAPACK fallback (small matrices, non-convergence). Gradients are
implicit, never through the iterations: :math:`\partial\sigma_1/\partial A = u v^\top`,
and for cotangents :math:`(\bar u, \bar\sigma, \bar v)` the bordered system

.. math::
    \begin{pmatrix} \sigma I & -A & u \\ -A^\top & \sigma I & v \\ u^\top & v^\top & 0
    \end{pmatrix} \begin{pmatrix} a \\ b \\ \mu \end{pmatrix}
    = \begin{pmatrix} \bar u \\ \bar v \\ 0 \end{pmatrix}, \qquad
    \bar A = \bar\sigma\, u v^\top + a v^\top + u b^\top,

obtained by differentiating :math:`A v = \sigma u`, :math:`A^\top u = \sigma v`,
:math:`\|u\| = \|v\| = 1` (nonsingular exactly when :math:`\sigma_1 > 0` is simple).
"""

import numpy as np
import pytensor.tensor as pt
from pytensor.gradient import DisconnectedType, disconnected_type
from pytensor.graph.basic import Apply, Variable
from pytensor.graph.op import Op
from pytensor.tensor import TensorLike

from pytensor_spectral._graph import (
    LazyModule,
    _require_ndim,
    _scalar,
    _vector,
    apply_core,
    as_real_float,
    entry_scale,
)
from pytensor_spectral.implicit import CheckedSymmetricSolve, scaled_identity
from pytensor_spectral.symmetric import (
    CROSSOVER,
    KRYLOV_DIM,
    LanczosControls,
    start_vectors,
)


_leading = LazyModule("pytensor_spectral._leading")


class LeadingSingularTriplet(LanczosControls, Op):
    r"""Leading singular triplet :math:`(u, \sigma_1, v)` of ``A``: inputs ``(A, v0)``,
    outputs ``(u, sigma, v, products)``.

    Thick-restart Lanczos on :math:`A^\top A` from ``v0`` (zero: a fixed dense start;
    `pytensor_spectral._lanczos`, each product one pass over ``A``); the dense path
    (LAPACK ``syevr`` for the top eigenvector of :math:`A^\top A`) is taken when
    ``min(m, n) < crossover`` or when Lanczos did not converge; an empty ``A`` or NaN/Inf
    entries raise ``ValueError``. ``A`` is divided by a power of two near its largest
    entry so that :math:`A^\top A` neither overflows nor underflows. Sign: the
    largest-modulus entry of ``u`` is positive. ``sigma`` is :math:`\|A v\|`.
    """

    __props__ = ("krylov_dim", "max_restarts", "tol", "crossover")
    gufunc_signature = "(m,n),(n)->(m),(),(n),()"

    def make_node(self, A, v0):
        A = pt.as_tensor_variable(A)
        if A.type.ndim != 2:
            raise ValueError(
                f"LeadingSingularTriplet expects a matrix, got ndim={A.type.ndim}"
            )
        A = as_real_float(A, "LeadingSingularTriplet")
        v0 = pt.cast(pt.as_tensor_variable(v0), A.dtype)
        if v0.type.ndim != 1:
            raise ValueError(f"v0 must be a vector, got ndim={v0.type.ndim}")
        m, n = A.type.shape
        outputs = [
            _vector(A.dtype, m)(),
            _scalar(A.dtype)(),
            _vector(A.dtype, n)(),
            _scalar("int64")(),
        ]
        return Apply(self, [A, v0], outputs)

    def perform(self, node, inputs, outputs):
        A, v0 = inputs
        u, sigma, v, products = _leading.leading_singular_triplet(
            A, v0, *self.kernel_controls(A.dtype)
        )
        outputs[0][0] = u
        outputs[1][0] = np.asarray(sigma, dtype=A.dtype)
        outputs[2][0] = v
        outputs[3][0] = np.asarray(products, dtype="int64")

    def infer_shape(self, node, shapes):
        (m, n), _ = shapes
        return [(m,), (), (n,), ()]

    def connection_pattern(self, node):
        return [[True, True, True, False], [False, False, False, False]]

    def pullback(self, inputs, outputs, cotangents):
        A, _ = inputs
        u, sigma, v, _ = outputs
        g_u, g_sigma, g_v, _ = (
            None if isinstance(g.type, DisconnectedType) else g for g in cotangents
        )
        A_bar = pt.zeros_like(A)
        if g_sigma is not None:
            A_bar = A_bar + g_sigma * pt.outer(u, v)
        if g_u is not None or g_v is not None:
            a, b = _bordered_solve(
                A,
                u,
                sigma,
                v,
                u.zeros_like() if g_u is None else g_u,
                v.zeros_like() if g_v is None else g_v,
            )
            A_bar = A_bar + pt.outer(a, v) + pt.outer(u, b)
        return [A_bar, disconnected_type()]

    def pushforward(self, inputs, outputs, tangents):
        A, dA = inputs[0], tangents[0]
        if isinstance(dA.type, DisconnectedType):
            return [disconnected_type() for _ in outputs]
        u, sigma, v, _ = outputs
        d_sigma = pt.dot(u, dA @ v)
        du, dv = _bordered_solve(
            A, u, sigma, v, dA @ v - d_sigma * u, dA.T @ u - d_sigma * v
        )
        return [du, d_sigma, dv, disconnected_type()]


DEGENERATE_MESSAGE = (
    "The singular vectors are not differentiable here: the leading singular value is "
    "repeated or zero (the bordered system is singular)"
)


def _bordered_solve(A, u, sigma, v, g_u, g_v) -> tuple[Variable, Variable]:
    """``(a, b)`` of the bordered system in the module docstring (symmetric, so it also
    gives the tangents ``(du, dv)`` for the right-hand side ``(dA v - dsigma u, dAᵀu - dsigma v)``);
    ``ValueError`` where it is singular to working precision (`CheckedSymmetricSolve`:
    ``σ₁`` repeated or zero). Solved for ``A / c``, ``sigma / c`` (``c`` = `entry_scale`),
    which scales ``(a, b)`` by ``c``."""
    m, n = A.shape
    dtype = A.dtype
    c = entry_scale(A)
    A, sigma = A / c, sigma / c
    M = pt.concatenate(
        [
            pt.concatenate([scaled_identity(sigma, m), -A, u[:, None]], axis=1),
            pt.concatenate([-A.T, scaled_identity(sigma, n), v[:, None]], axis=1),
            pt.concatenate([u, v, pt.zeros((1,), dtype=dtype)])[None, :],
        ],
        axis=0,
    )
    rhs = pt.concatenate([g_u, g_v, pt.zeros((1,), dtype=dtype)])
    x = CheckedSymmetricSolve(message=DEGENERATE_MESSAGE)(M, rhs, pt.linalg.norm(A)) / c
    return x[:m], x[m : m + n]


def leading_singular_triplet(
    A: TensorLike,
    v0: TensorLike | None = None,
    *,
    krylov_dim: int = KRYLOV_DIM,
    max_restarts: int | None = None,
    tol: float | None = None,
    crossover: int = CROSSOVER,
) -> tuple[Variable, Variable, Variable]:
    r"""Leading singular triplet :math:`(u, \sigma_1, v)`, :math:`A v = \sigma_1 u`.

    Parameters
    ----------
    A : TensorLike
        ``(..., m, n)`` real matrix, ``m, n ≥ 1``.
    v0 : TensorLike, optional
        ``(..., n)`` start vector for :math:`v` (warm start, e.g. the previous ``v``).
    krylov_dim, max_restarts, tol
        Lanczos controls on :math:`A^\top A`, as in
        `~pytensor_spectral.symmetric.leading_eigenpair`; ``tol`` is relative to
        :math:`\sigma_1^2`.
    crossover : int
        Matrices with ``min(m, n) < crossover`` use the dense LAPACK path.

    Returns
    -------
    u : TensorVariable
        ``(..., m)`` unit left singular vector; its largest-modulus entry is positive
        (ties: lowest index), and ``v`` carries the matching sign.
    sigma : TensorVariable
        ``(...)`` largest singular value :math:`\|A\|_2`.
    v : TensorVariable
        ``(..., n)`` unit right singular vector.

    Notes
    -----
    All three outputs are differentiable (bordered system in the module docstring): the
    derivative exists where :math:`\sigma_1 > 0` is simple. At :math:`A = 0` the vectors
    are zero and the gradient of :math:`\sigma_1` is zero (a subgradient).
    """
    name = "leading_singular_triplet"
    A = as_real_float(_require_ndim(A, name), name)
    op = LeadingSingularTriplet(
        krylov_dim=krylov_dim,
        max_restarts=max_restarts,
        tol=tol,
        crossover=crossover,
    )
    u, sigma, v, _ = apply_core(op, A, start_vectors(A, v0))
    return u, sigma, v


def spectral_norm(A: TensorLike, **kwargs) -> Variable:
    r"""Spectral norm :math:`\sigma_1(A) = \|A\|_2`, gradient :math:`u v^\top`.

    Same value as ``svd(A, compute_uv=False)[0]`` or ``norm(A, 2)``, computed by Lanczos
    on :math:`A^\top A` (O(mn) per step) instead of a dense SVD. Keyword arguments as in
    `leading_singular_triplet`.
    """
    return leading_singular_triplet(A, **kwargs)[1]
