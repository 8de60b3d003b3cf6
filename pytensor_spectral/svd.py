r"""Leading singular triplet and spectral norm, by Lanczos on :math:`A^\top A`.

The forward pass is a symbolic Lanczos iteration (`pytensor_spectral.iterative`) with a
dense LAPACK fallback (small matrices, NaN/Inf entries, non-convergence). Gradients are
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
from pytensor.gradient import DisconnectedType, disconnected_grad, disconnected_type
from pytensor.graph.basic import Variable
from pytensor.tensor import TensorLike
from pytensor.tensor.symbolic import TensorSymbolicOp

from pytensor_spectral._graph import (
    _require_ndim,
    as_real_float,
    check_nonempty_finite,
    entry_scale,
)
from pytensor_spectral.implicit import CheckedSymmetricSolve, scaled_identity
from pytensor_spectral.iterative import lanczos_controls, max_singular_vectors
from pytensor_spectral.numerical_abscissa import NumericalAbscissa
from pytensor_spectral.symmetric import (
    CROSSOVER,
    apply_symbolic,
    lanczos_inputs,
    lanczos_or_dense,
    positive_gauge,
)


class LeadingSingularTriplet(TensorSymbolicOp):
    r"""Leading singular triplet :math:`(u, \sigma_1, v)` of ``A`` as a symbolic inner
    graph: inputs ``(A, v0)``, outputs ``(u, sigma, v, products)``.

    Lanczos on :math:`A^\top A` from ``v0``; the dense path (LAPACK ``syevr`` for the top
    eigenvector of :math:`A^\top A`) is taken lazily when ``min(m, n) < crossover`` or
    when Lanczos did not converge; an empty ``A`` or NaN/Inf entries raise ``ValueError``
    first. ``A`` is
    divided by a power of two near its largest entry first (`entry_scale`) so that
    :math:`A^\top A` neither overflows nor underflows. Sign: the
    largest-modulus entry of ``u`` is positive. ``sigma`` is :math:`u^\top A v`.
    """

    __props__ = ("krylov_dim", "max_restarts", "tol", "crossover")
    gufunc_signature = "(m,n),(n)->(m),(),(n),()"

    def build_inner_graph(self, A, v0):
        m, n = A.shape
        A = check_nonempty_finite(A, "leading_singular_triplet")
        c = entry_scale(A)
        A = A / c  # Lanczos on AᵀA squares the entries: keep them of order one
        _, v_iter, converged, products = max_singular_vectors(
            lambda q: A @ q,
            lambda p: A.T @ p,
            n,
            v0,
            **lanczos_controls(
                A.dtype, pt.minimum(m, n), self.krylov_dim, self.max_restarts, self.tol
            ),
        )
        v, products = lanczos_or_dense(
            pt.lt(pt.minimum(m, n), self.crossover),
            converged,
            v_iter,
            NumericalAbscissa()(A.T @ A)[1],
            products,
        )
        Av = A @ v
        u = Av / pt.maximum(pt.linalg.norm(Av), np.finfo(A.dtype).tiny)
        u, v = positive_gauge(disconnected_grad(u), disconnected_grad(v))
        return [u, c * pt.dot(u, A @ v), v, products]

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
    krylov_dim: int = 30,
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
        Lanczos controls (`pytensor_spectral.iterative.max_eigenpair`) on
        :math:`A^\top A`, defaults as in `~pytensor_spectral.symmetric.leading_eigenpair`;
        ``tol`` is relative to :math:`\sigma_1^2`.
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
    v0, props = lanczos_inputs(A, v0, krylov_dim, max_restarts, tol, crossover)
    u, sigma, v, _ = apply_symbolic(LeadingSingularTriplet, props, A, v0)
    return u, sigma, v


def spectral_norm(A: TensorLike, **kwargs) -> Variable:
    r"""Spectral norm :math:`\sigma_1(A) = \|A\|_2`, gradient :math:`u v^\top`.

    Same value as ``svd(A, compute_uv=False)[0]`` or ``norm(A, 2)``, computed by Lanczos
    on :math:`A^\top A` (O(mn) per step) instead of a dense SVD. Keyword arguments as in
    `leading_singular_triplet`.
    """
    return leading_singular_triplet(A, **kwargs)[1]
