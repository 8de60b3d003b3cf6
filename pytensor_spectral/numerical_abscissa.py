r"""Numerical abscissa :math:`\omega(A) = \lambda_{\max}((A + A^\top)/2)` (initial
transient growth of ``dx/dt = A x``), with exact gradients: dense (LAPACK ``syevr``) or
matrix-free for the Jacobian of a PyTensor function (Lanczos on Jacobian-vector products).
"""

import numpy as np
import pytensor.tensor as pt
from pytensor.compile.builders import OpFromGraph
from pytensor.gradient import (
    DisconnectedType,
    disconnected_grad,
    disconnected_type,
    pullback,
    pushforward,
)
from pytensor.graph.basic import Apply, Constant, Variable
from pytensor.graph.op import Op
from pytensor.graph.traversal import graph_inputs
from pytensor.raise_op import Assert, CheckAndRaise
from pytensor.tensor import TensorLike

from pytensor_spectral._graph import (
    LazyModule,
    _apply,
    _scalar,
    _static_size,
    _vector,
    as_square_float_matrix,
)
from pytensor_spectral.implicit import (
    bordered_shift_solve,
    cg_shift_solve,
    eigenpair_pullback,
)
from pytensor_spectral.iterative import KRYLOV_DIM, default_tol, max_eigenpair


_symmetric = LazyModule("pytensor_spectral._symmetric")


def symmetric_part(A: Variable) -> Variable:
    """:math:`(A + A^\top)/2` (of the last two axes)."""
    return 0.5 * (A + A.mT)


class NumericalAbscissa(Op):
    r"""Numerical abscissa :math:`\omega(A) = \lambda_{\max}((A + A^\top)/2)` and its unit
    eigenvector :math:`v` (largest-modulus component positive), by LAPACK ``syevr``
    restricted to the largest eigenvalue.

    Both outputs are differentiable: :math:`\bar A = \operatorname{sym}(\bar\omega\, v v^\top
    + w v^\top)` with :math:`w = (\omega I - S)^{+}(I - v v^\top)\bar v` for the symmetric
    part :math:`S` (`pytensor_spectral.implicit`), so the gradient :math:`v v^\top` has exact
    second derivatives. They do not exist at a repeated largest eigenvalue (``ValueError``).
    """

    __props__ = ()
    gufunc_signature = "(m,m)->(),(m)"

    def make_node(self, A):
        A = as_square_float_matrix(A, "NumericalAbscissa")
        return Apply(
            self, [A], [_scalar(A.dtype)(), _vector(A.dtype, _static_size(A))()]
        )

    def perform(self, node, inputs, outputs):
        (A,) = inputs
        value, v = _symmetric.numerical_abscissa(A)
        outputs[0][0] = np.asarray(value, dtype=A.dtype)
        outputs[1][0] = v

    def infer_shape(self, node, shapes):
        (n, _) = shapes[0]
        return [(), (n,)]

    def pullback(self, inputs, outputs, cotangents):
        S = symmetric_part(inputs[0])
        omega, v = outputs
        S_bar = eigenpair_pullback(
            omega, v, *cotangents, lambda b: bordered_shift_solve(S, omega, v, b)
        )
        return [symmetric_part(S_bar)]

    def pushforward(self, inputs, outputs, tangents):
        (dA,) = tangents
        if isinstance(dA.type, DisconnectedType):
            return [disconnected_type(), disconnected_type()]
        omega, v = outputs
        dS_v = symmetric_part(dA) @ v
        S = symmetric_part(inputs[0])
        return [pt.dot(v, dS_v), bordered_shift_solve(S, omega, v, dS_v)]


def numerical_abscissa(A: TensorLike) -> Variable:
    r"""Numerical abscissa :math:`\omega(A) = \lambda_{\max}((A + A^\top)/2)`.

    The growth rate of :math:`\|e^{tA}\|` at :math:`t = 0`; :math:`\omega(A) \ge \alpha(A)`.

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
    Gradient :math:`v v^\top` for the unit leading eigenvector :math:`v` of the symmetric
    part. At a repeated largest eigenvalue any unit :math:`v` of its eigenspace gives a
    subgradient (``ω`` is convex); LAPACK's is returned.
    """
    return _apply(NumericalAbscissa(), A)[0]


def _jacobian_products(f: Variable, z: Variable):
    """``q -> J q`` and ``q -> Jᵀ q`` for ``J = ∂f/∂z``, as PyTensor graphs."""

    def jvp(q):
        try:
            return pushforward(f, z, q, use_op_pushforward=True)
        except NotImplementedError:  # an op of f lacks a pushforward: use two pullbacks
            return pushforward(f, z, q)

    def vjp(q):
        return pullback(f, z, q)

    return jvp, vjp


def jacobian_numerical_abscissa(
    f: TensorLike,
    z: Variable,
    v0: TensorLike | None = None,
    *,
    krylov_dim: int = KRYLOV_DIM,
    max_restarts: int = 100,
    tol: float | None = None,
) -> tuple[Variable, Variable]:
    r"""Numerical abscissa of the Jacobian :math:`J = \partial f/\partial z`, matrix-free.

    :math:`\omega(J) = \lambda_{\max}((J + J^\top)/2)` from Jacobian-vector and
    vector-Jacobian products only (``pushforward``/``pullback``, i.e. ``Rop``/``Lop``):
    the dense Jacobian is never formed. The symmetric operator is handed to restarted
    Lanczos (`pytensor_spectral.iterative.max_eigenpair`), which finds the largest
    eigenvalue even when a negative one has larger modulus.

    Parameters
    ----------
    f : TensorLike
        Symbolic vector, a function of ``z`` with ``len(f) == len(z)``.
    z : Variable
        Symbolic vector the Jacobian is taken with respect to.
    v0 : TensorLike, optional
        Warm-start vector, e.g. the ``v`` of the previous optimization step carried with
        ``updates``.
    krylov_dim, max_restarts, tol
        Iteration controls of `~pytensor_spectral.iterative.max_eigenpair`
        (thick-restart Lanczos): a basis of at most ``krylov_dim`` vectors, at most
        ``max_restarts`` restarts, relative residual ``tol`` (default 1e-10 in float64,
        1e-5 in float32, as the other leading-value functions), tested at every step.

    Returns
    -------
    lam : TensorVariable
        :math:`v^\top J v`, differentiable with respect to everything ``f`` depends on,
        with ``v`` held constant: exact (:math:`\nabla = v v^\top` in ``J``) at convergence.
        Twice differentiable: a zero-valued term (`_curvature_term`) adds the
        eigenvector's share of the Hessian through a matrix-free CG solve.
    v : TensorVariable
        Unit leading eigenvector of the symmetric part (not differentiable).

    Raises
    ------
    AssertionError
        At run time, if the iteration did not reach ``tol`` within its bound.
    ValueError
        At run time, for an empty ``z``, Jacobian-vector products with NaN/Inf entries, or
        (in a second derivative) if the curvature solve did not converge within ``2 n``
        steps — at a repeated leading eigenvalue, where there is no second derivative.
    """
    f = pt.as_tensor_variable(f)
    z = pt.as_tensor_variable(z)
    if f.type.ndim != 1 or z.type.ndim != 1:
        raise ValueError(
            f"f and z must be vectors, got ndim {f.type.ndim} and {z.type.ndim}"
        )
    if f.type.numpy_dtype.kind != "f":
        raise TypeError(f"f must be a float vector, got dtype {f.dtype}")
    n = Assert("jacobian_numerical_abscissa: f and z must have the same length")(
        z.shape[0], pt.eq(f.shape[0], z.shape[0])
    )
    n = CheckAndRaise(ValueError, "jacobian_numerical_abscissa: z is empty")(
        n, pt.gt(n, 0)
    )
    jvp, vjp = _jacobian_products(f, z)
    _, v, converged, _ = max_eigenpair(
        lambda q: 0.5 * (jvp(q) + vjp(q)),
        n,
        v0,
        dtype=f.dtype,
        krylov_dim=krylov_dim,
        max_restarts=max_restarts,
        tol=default_tol(f.dtype) if tol is None else tol,
    )
    lam = Assert(
        "jacobian_numerical_abscissa: Lanczos did not converge within its bound "
        "(raise max_restarts or tol)"
    )(pt.dot(v, jvp(v)) + _curvature_term(jvp, vjp, v, 2 * n), converged)
    return lam, v


def _curvature_term(jvp, vjp, v: Variable, max_iter: Variable) -> Variable:
    r"""A term that is zero with zero gradient at the current point and carries the
    eigenvector's share of the second derivative of :math:`\lambda = v^\top S v`.

    With :math:`S_0` the symmetric part held constant (``disconnected_grad``) and
    :math:`q = (I - v v^\top)(S - S_0) v` (zero in value), the term is
    :math:`q^\top (\lambda I - S_0)^{+} q`: its Hessian is
    :math:`2\, dq^\top (\lambda I - S)^{+} dq`, the second-order eigenvalue perturbation
    that :math:`v^\top S v` with :math:`v` held constant misses. The pseudo-inverse is a
    matrix-free CG solve (`pytensor_spectral.implicit.cg_shift_solve`) wrapped in an
    `OpFromGraph` whose pullback is itself (the solve is linear and self-adjoint), so the
    iterations are never differentiated.
    """

    def symmetric(q):
        return 0.5 * (jvp(q) + vjp(q))

    v = disconnected_grad(v)
    lam = disconnected_grad(pt.dot(v, symmetric(v)))
    Sv = symmetric(v)
    q = Sv - disconnected_grad(Sv)
    b = q.type()
    # float32 CG stalls near 1e-5 relative residual: 1e-3 there (the Hessian to ~1e-3)
    tol = default_tol(v.dtype) if v.dtype == "float64" else 1e-3
    w, converged = cg_shift_solve(
        lambda x: disconnected_grad(symmetric(x)), lam, v, b, max_iter, tol
    )
    w = CheckAndRaise(
        ValueError,
        "jacobian_numerical_abscissa: the curvature solve did not converge (no second "
        "derivative where the leading eigenvalue of the symmetric part is repeated)",
    )(w, converged)
    # Every non-constant root, shared variables included (OpFromGraph wants them explicit).
    free = [x for x in graph_inputs([w]) if x is not b and not isinstance(x, Constant)]

    def self_adjoint(inputs, outputs, cotangents):
        g = pt.cast(cotangents[0], b.dtype)  # Lop builds float64 cotangents (floatX)
        return [solve(g, *inputs[1:]), *(disconnected_type() for _ in inputs[1:])]

    solve = OpFromGraph([b, *free], [w], pullback=self_adjoint, inline=True)
    return pt.dot(q, solve(q, *free))
