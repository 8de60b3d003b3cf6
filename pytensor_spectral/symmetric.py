r"""Leading eigenvalue of symmetric matrices, with implicit gradients.

`leading_eigvalsh` / `leading_eigenpair`: :math:`\lambda_{\max}` by thick-restart
Lanczos (`pytensor_spectral._lanczos`) on products with the matrix, falling back to a
dense LAPACK solve for small matrices (below `CROSSOVER`) and when the iteration does not
converge.

Like ``pytensor.tensor.linalg.eigvalsh``, they read one triangle of the input (the lower
one by default) and return the exact gradient of that reading: the symmetric gradient
:math:`G` folded onto the triangle, :math:`\operatorname{tril}(G + G^\top) -
\operatorname{diag}(G)`. A complex Hermitian matrix is given as its real and imaginary
parts and read through its real embedding (`hermitian_embedding`).
"""

import numpy as np
import pytensor.tensor as pt
from pytensor.conditional import ifelse
from pytensor.gradient import (
    DisconnectedType,
    disconnected_type,
    grad_not_implemented,
)
from pytensor.graph.basic import Apply, Variable
from pytensor.graph.op import Op
from pytensor.tensor import TensorLike
from pytensor.tensor.symbolic import TensorSymbolicOp

from pytensor_spectral._graph import (
    LazyModule,
    _apply,
    _matrix,
    _scalar,
    _static_size,
    _vector,
    add_terms,
    apply_core,
    as_square_float_matrix,
    entry_scale,
)
from pytensor_spectral.implicit import (
    bordered_shift_solve,
    cg_shift_solve,
)
from pytensor_spectral.iterative import KRYLOV_DIM, default_tol


_leading = LazyModule("pytensor_spectral._leading")
_symmetric = LazyModule("pytensor_spectral._symmetric")


CROSSOVER = 50
"""Matrix size from which the iterative path is used (measured: below it, one dense
LAPACK call is faster than the Lanczos iteration)."""


def positive_gauge(v: Variable, *others: Variable) -> list[Variable]:
    """Flip ``v`` (and ``others`` with it) so that its largest-modulus entry is positive
    (ties: the lowest index)."""
    sign = pt.switch(v[pt.argmax(pt.abs(v))] < 0, -1.0, 1.0).astype(v.dtype)
    return [sign * x for x in (v, *others)]


class SymmetrizeTriangle(Op):
    r"""The symmetric matrix stored in one triangle of ``A``:
    :math:`S = \operatorname{tril}(A) + \operatorname{tril}(A, -1)^\top` (``lower``) or
    the ``triu`` analogue; with ``adjoint=True`` its adjoint (the pullback map)
    :math:`\bar A = \operatorname{tril}(\bar S + \bar S^\top) - \operatorname{diag}(\bar S)`.
    With ``antisymmetric=True``, the antisymmetric matrix of the strict triangle,
    :math:`S = \operatorname{tril}(A, -1) - \operatorname{tril}(A, -1)^\top`, and its
    adjoint :math:`\bar A = \operatorname{tril}(\bar S - \bar S^\top, -1)`. All are
    linear, and each map is adjoint to its ``adjoint`` twin.
    """

    __props__ = ("lower", "adjoint", "antisymmetric")
    gufunc_signature = "(m,m)->(m,m)"

    def __init__(
        self, lower: bool = True, adjoint: bool = False, antisymmetric: bool = False
    ):
        self.lower = bool(lower)
        self.adjoint = bool(adjoint)
        self.antisymmetric = bool(antisymmetric)

    def make_node(self, A):
        A = as_square_float_matrix(A, "SymmetrizeTriangle")
        return Apply(self, [A], [_matrix(A.dtype, _static_size(A))()])

    def perform(self, node, inputs, outputs):
        outputs[0][0] = _symmetric.symmetrize_triangle(
            inputs[0], self.lower, self.adjoint, self.antisymmetric
        )

    def infer_shape(self, node, shapes):
        return [shapes[0]]

    def pullback(self, inputs, outputs, cotangents):
        twin = SymmetrizeTriangle(self.lower, not self.adjoint, self.antisymmetric)
        return [_apply(twin, cotangents[0])]

    def pushforward(self, inputs, outputs, tangents):
        return [_apply(self, tangents[0])]


class FoldedOuter(Op):
    r"""The pullback of `SymmetrizeTriangle` for a rank-one cotangent
    :math:`g\, x y^\top`, in one pass that writes only the triangle read:
    :math:`\operatorname{tril}(g(x y^\top + y x^\top)) - g \operatorname{diag}(x \circ y)`
    (``lower``; the ``triu`` analogue otherwise). The gradients :math:`\bar\lambda\, v
    v^\top` of the one-triangle leading-value ops without the two dense intermediates
    (the outer product and its fold).

    Inputs ``(g, x, y)``; bilinear in ``(x, y)`` and linear in ``g``, so its pullback for
    a cotangent :math:`C` is :math:`(x^\top M y,\ g M y,\ g M x)` with the symmetric
    :math:`M = ` `SymmetrizeTriangle` :math:`(C)`, and its pushforward the sum of its
    values at each tangent.
    """

    __props__ = ("lower",)
    gufunc_signature = "(),(m),(m)->(m,m)"

    def __init__(self, lower: bool = True):
        self.lower = bool(lower)

    def make_node(self, g, x, y):
        x = pt.as_tensor_variable(x)
        dtype = x.dtype
        g, y = pt.cast(g, dtype), pt.cast(y, dtype)
        if (g.type.ndim, x.type.ndim, y.type.ndim) != (0, 1, 1):
            raise ValueError("FoldedOuter expects a scalar and two vectors")
        n = x.type.shape[0] if x.type.shape[0] is not None else y.type.shape[0]
        return Apply(self, [g, x, y], [_matrix(dtype, n)()])

    def perform(self, node, inputs, outputs):
        outputs[0][0] = _symmetric.folded_outer(*inputs, self.lower)

    def infer_shape(self, node, shapes):
        (n,) = shapes[1]
        return [(n, n)]

    def pullback(self, inputs, outputs, cotangents):
        g, x, y = inputs
        M = SymmetrizeTriangle(self.lower)(cotangents[0])
        My = M @ y
        return [pt.dot(x, My), g * My, g * (M @ x)]

    def pushforward(self, inputs, outputs, tangents):
        terms = [
            self(*(t if k == i else x for k, x in enumerate(inputs)))
            for i, t in enumerate(tangents)
            if not isinstance(t.type, DisconnectedType)
        ]
        return [add_terms(terms) if terms else disconnected_type()]


def symmetrize_triangle(
    A: TensorLike, lower: bool = True, antisymmetric: bool = False
) -> Variable:
    """`SymmetrizeTriangle` applied to a (batch of) matrices."""
    return _apply(SymmetrizeTriangle(lower, antisymmetric=antisymmetric), A)


def hermitian_embedding(re: TensorLike, im: TensorLike, lower: bool = True) -> Variable:
    r"""Real symmetric embedding of the Hermitian matrix stored in one triangle of
    ``re + i im``.

    .. math::
        M = \begin{pmatrix} X & -Y \\ Y & X \end{pmatrix}, \quad
        X = \operatorname{tril}(\mathrm{re}) + \operatorname{tril}(\mathrm{re}, -1)^\top,
        \quad
        Y = \operatorname{tril}(\mathrm{im}, -1) - \operatorname{tril}(\mathrm{im}, -1)^\top

    (``lower=False``: the ``triu`` analogues; both by `SymmetrizeTriangle`), so
    ``H = X + iY`` is Hermitian for any input; as in LAPACK ``heevr``, the imaginary part
    of the diagonal is not read. If :math:`H u = \lambda u` with :math:`u = x + iy`, then
    :math:`[x; y]` and :math:`[-y; x]` are orthogonal eigenvectors of :math:`M` for
    :math:`\lambda`: every eigenvalue of ``H`` appears twice in ``M``, so
    :math:`\lambda_k(H) = \lambda_{2k}(M)`. The derivative of :math:`\lambda_k(H)` is
    :math:`w^\top dM\, w = \operatorname{Re}(u^H dH\, u)` for every unit ``w`` in that
    pair's eigenspace, so the first-order gradients of the symmetric ops on ``M`` are
    exact for ``re`` and ``im``. Second derivatives need the derivative of ``w``, whose
    solve must project out both :math:`w` and :math:`Jw` (:math:`J = [[0, -I], [I, 0]]`):
    `eigengap` does (exact Hessians), `leading_eigvalsh` does not and raises
    ``ValueError`` (`REPEATED_MESSAGE`).

    Parameters
    ----------
    re, im : TensorLike
        ``(..., m, m)`` real and imaginary parts; ``im`` must not be complex either.
    lower : bool
        Which triangle holds the matrix.

    Returns
    -------
    TensorVariable
        ``(..., 2m, 2m)``.
    """
    re = as_square_float_matrix(re, "hermitian_embedding", batched=True)
    im = as_square_float_matrix(im, "hermitian_embedding", batched=True)
    X = symmetrize_triangle(re, lower)
    Y = symmetrize_triangle(pt.cast(im, re.dtype), lower, antisymmetric=True)
    # M = I₂ ⊗ X + J ⊗ Y with J = [[0, -1], [1, 0]], by broadcasting (no `join`, whose
    # pullback `split` needs constant split points on JAX)
    blocks = [np.eye(2), np.array([[0.0, -1.0], [1.0, 0.0]])]
    M = sum(
        pt.as_tensor(B.astype(re.dtype))[:, None, :, None] * Z[..., None, :, None, :]
        for B, Z in zip(blocks, (X, Y), strict=True)
    )
    n = 2 * re.shape[-1]
    return M.reshape((*M.shape[:-4], n, n), ndim=M.ndim - 2)


class ShiftedSolve(TensorSymbolicOp):
    r""":math:`w = (\lambda I - S)^{+}(I - v v^\top) b` for the symmetric :math:`S` stored in one
    triangle of ``A`` and its largest eigenpair :math:`(\lambda, v)`, as a symbolic inner
    graph: conjugate gradients (`cg_shift_solve`, at most ``max(20, n/2)`` products) when
    ``n ≥ crossover``, the dense bordered solve below it or when CG did not converge.

    The pullback of the eigenvector of `SymmetricLeadingEigenpair` (the second derivative
    of :math:`\lambda_{\max}`). Linear and self-adjoint in ``b``, so its pullback in ``b``
    is itself (forward-over-reverse through double pullbacks uses that); in ``A``, ``lam``,
    ``v`` it is not implemented (third derivatives).
    """

    __props__ = ("lower", "crossover")
    gufunc_signature = "(m,m),(),(m),(m)->(m)"

    def build_inner_graph(self, A, lam, v, b):
        S = SymmetrizeTriangle(self.lower)(A)
        n = S.shape[0]
        dense = pt.lt(n, self.crossover)
        c = entry_scale(S)  # CG on S/c, λ/c (its norms in range); w scales as 1/c
        w_cg, converged = cg_shift_solve(
            lambda q: (S / c) @ q,
            lam / c,
            v,
            b,
            pt.maximum(20, n // 2),
            default_tol(S.dtype),
        )
        w = ifelse(
            dense | ~converged,
            bordered_shift_solve(S, lam, v, b),  # scales on its own
            w_cg / c,
        )
        return [w]

    def pullback(self, inputs, outputs, cotangents):
        A, lam, v, _ = inputs
        not_implemented = [
            grad_not_implemented(self, i, x, "third derivatives of leading eigenvalues")
            for i, x in enumerate((A, lam, v))
        ]
        return [*not_implemented, self(A, lam, v, cotangents[0])]


class LanczosControls:
    """Props and checks shared by the Lanczos ops (`SymmetricLeadingEigenpair`,
    `pytensor_spectral.svd.LeadingSingularTriplet`): ``krylov_dim`` (basis size, at least
    2), ``max_restarts`` (None: about ``m/2`` products), ``tol`` (None: `default_tol` of
    the dtype) and ``crossover`` (smaller matrices use the dense path)."""

    def __init__(
        self,
        krylov_dim: int = KRYLOV_DIM,
        max_restarts: int | None = None,
        tol: float | None = None,
        crossover: int = CROSSOVER,
    ):
        if int(krylov_dim) < 2:
            raise ValueError(f"krylov_dim must be at least 2, got {krylov_dim}")
        if max_restarts is not None and int(max_restarts) < 0:
            raise ValueError(f"max_restarts must be non-negative, got {max_restarts}")
        if tol is not None and not (np.isfinite(tol) and tol > 0):
            raise ValueError(f"tol must be positive and finite, got {tol}")
        self.krylov_dim = int(krylov_dim)
        self.max_restarts = None if max_restarts is None else int(max_restarts)
        self.tol = None if tol is None else float(tol)
        self.crossover = int(crossover)

    def kernel_controls(self, dtype) -> tuple[int, int, float, int]:
        """``(krylov_dim, max_restarts, tol, crossover)`` as the kernels take them
        (``-1`` for the default restart bound)."""
        return (
            self.krylov_dim,
            -1 if self.max_restarts is None else self.max_restarts,
            default_tol(dtype) if self.tol is None else self.tol,
            self.crossover,
        )


class SymmetricLeadingEigenpair(LanczosControls, Op):
    r"""Largest eigenvalue :math:`\lambda` and unit eigenvector :math:`v` of the symmetric
    matrix :math:`S` stored in one triangle of ``A``.

    Inputs ``(A, v0)`` (``v0`` a start vector; zero: a fixed dense one); outputs
    ``(lam, v, products)``, the last being the number of products with :math:`S` the
    Lanczos iteration used (0 on the dense path). Thick-restart Lanczos
    (`pytensor_spectral._lanczos`, BLAS ``symv`` on the triangle read), with the dense
    path (LAPACK ``syevr`` for the top eigenpair) when ``n < crossover`` or when Lanczos
    did not converge; an empty ``A`` or NaN/Inf entries raise ``ValueError``. The
    sign of :math:`v` makes its largest-modulus entry positive. The pullback is
    :math:`\bar\lambda\, v v^\top` folded onto the triangle, exact at convergence;
    the iteration itself is never differentiated.
    """

    __props__ = ("lower", "krylov_dim", "max_restarts", "tol", "crossover")
    gufunc_signature = "(m,m),(m)->(),(m),()"

    def __init__(self, lower: bool = True, **controls):
        super().__init__(**controls)
        self.lower = bool(lower)

    def make_node(self, A, v0):
        A = as_square_float_matrix(A, "SymmetricLeadingEigenpair")
        v0 = pt.cast(pt.as_tensor_variable(v0), A.dtype)
        if v0.type.ndim != 1:
            raise ValueError(f"v0 must be a vector, got ndim={v0.type.ndim}")
        n = _static_size(A)
        outputs = [_scalar(A.dtype)(), _vector(A.dtype, n)(), _scalar("int64")()]
        return Apply(self, [A, v0], outputs)

    def perform(self, node, inputs, outputs):
        A, v0 = inputs
        lam, v, products = _leading.leading_eigenpair(
            A, v0, self.lower, *self.kernel_controls(A.dtype)
        )
        outputs[0][0] = np.asarray(lam, dtype=A.dtype)
        outputs[1][0] = v
        outputs[2][0] = np.asarray(products, dtype="int64")

    def infer_shape(self, node, shapes):
        (n, _), _ = shapes
        return [(), (n,), ()]

    def connection_pattern(self, node):
        return [[True, True, False], [False, False, False]]

    def pullback(self, inputs, outputs, cotangents):
        A = inputs[0]
        lam, v, _ = outputs
        g_lam, g_v, _ = cotangents
        fold = FoldedOuter(self.lower)
        terms = []
        if not isinstance(g_lam.type, DisconnectedType):
            terms.append(fold(g_lam, v, v))
        if not isinstance(g_v.type, DisconnectedType):
            solve = ShiftedSolve(lower=self.lower, crossover=self.crossover)
            terms.append(fold(1.0, solve(A, lam, v, g_v), v))
        A_bar = add_terms(terms) if terms else pt.zeros_like(A)
        return [A_bar, disconnected_type()]

    def pushforward(self, inputs, outputs, tangents):
        A, dA = inputs[0], tangents[0]
        if isinstance(dA.type, DisconnectedType):
            return [disconnected_type() for _ in outputs]
        lam, v, _ = outputs
        dS_v = SymmetrizeTriangle(self.lower)(dA) @ v
        solve = ShiftedSolve(lower=self.lower, crossover=self.crossover)
        return [pt.dot(v, dS_v), solve(A, lam, v, dS_v), disconnected_type()]


def start_vectors(A: Variable, v0: TensorLike | None) -> Variable:
    """Start vectors ``(..., n)`` for the columns of ``A``: ``v0`` cast to ``A``'s
    dtype, or zeros (the ops' fixed default start) when ``v0`` is None."""
    if v0 is None:
        return pt.zeros((*A.shape[:-2], A.shape[-1]), dtype=A.dtype)
    return pt.cast(pt.as_tensor_variable(v0), A.dtype)


def leading_eigenpair(
    A: TensorLike,
    v0: TensorLike | None = None,
    *,
    lower: bool = True,
    krylov_dim: int = KRYLOV_DIM,
    max_restarts: int | None = None,
    tol: float | None = None,
    crossover: int = CROSSOVER,
) -> tuple[Variable, Variable, Variable]:
    r"""Largest eigenvalue and unit eigenvector of a symmetric matrix, by Lanczos.

    Parameters
    ----------
    A : TensorLike
        ``(..., m, m)``; only its lower (``lower=True``) or upper triangle is read.
    v0 : TensorLike, optional
        ``(..., m)`` start vector, e.g. the ``v`` of a previous optimization step carried
        with ``updates`` (warm start). Default (or a zero vector): a fixed dense vector.
    lower : bool
        Which triangle of ``A`` holds the matrix.
    krylov_dim, max_restarts, tol
        Lanczos controls: a basis of at most ``krylov_dim`` vectors (at least 2), of
        which a third is kept at each of at most ``max_restarts`` restarts (default:
        about ``m/2`` products, the cost of the dense solve); relative residual ``tol``
        (default 1e-10 in float64, 1e-5 in float32), tested at every step, so the value
        is within ``tol · ‖S‖₂`` of the dense one (in practice within
        ``tol² ‖S‖₂²/gap``).
    crossover : int
        Matrices smaller than this use the dense LAPACK path.

    Returns
    -------
    lam : TensorVariable
        ``(...)`` :math:`\lambda_{\max}`, gradient :math:`v v^\top` (folded onto the
        triangle read).
    v : TensorVariable
        ``(..., m)`` unit eigenvector, largest-modulus entry positive; differentiable
        (:math:`dv = (\lambda I - S)^{+} dS\, v`, by CG or a bordered solve), which is what
        makes the gradient :math:`v v^\top` twice differentiable.
    products : TensorVariable
        ``(...)`` int64, products with the matrix used (0 when the dense path ran).

    Notes
    -----
    If the iteration does not converge within its bound (e.g. the two largest
    eigenvalues are nearly equal), the dense result is returned instead, so the value is
    never a half-converged estimate. At a repeated largest eigenvalue the gradient is
    :math:`v v^\top` for one unit vector of its eigenspace, a subgradient
    (:math:`\lambda_{\max}` is convex).
    """
    A = as_square_float_matrix(A, "leading_eigenpair", batched=True)
    op = SymmetricLeadingEigenpair(
        lower,
        krylov_dim=krylov_dim,
        max_restarts=max_restarts,
        tol=tol,
        crossover=crossover,
    )
    return apply_core(op, A, start_vectors(A, v0))


def leading_eigvalsh(A: TensorLike, im: TensorLike | None = None, **kwargs) -> Variable:
    r""":math:`\lambda_{\max}` of a symmetric matrix by an iterative (Lanczos) method.

    Same value as ``max(eigvalsh(A))`` (to ``tol`` relative to :math:`\|A\|_2`), but
    O(m²) per Lanczos step instead of a dense O(m³) decomposition, with the implicit
    gradient :math:`v v^\top`. Keyword arguments as in `leading_eigenpair`.

    With ``im``, the matrix is the complex Hermitian ``A + i im`` (one triangle read,
    the imaginary diagonal ignored) and the value is :math:`\lambda_{\max}` of its real
    embedding (`hermitian_embedding`; a ``v0`` then has length ``2m``); the gradients
    with respect to ``A`` and ``im`` are exact, second derivatives raise ``ValueError``
    (the Lanczos op's eigenvector derivative does not deflate the doubled pair).
    """
    if im is not None:
        A = hermitian_embedding(A, im, kwargs.pop("lower", True))
    return leading_eigenpair(A, **kwargs)[0]
