r"""Symbolic iterative eigensolvers: PyTensor subgraphs that run on every backend.

`max_eigenpair` finds :math:`\lambda_{\max}` of a symmetric operator given only as a
matrix-vector product closure, by explicitly restarted Lanczos: each restart runs
``krylov_dim`` Lanczos steps with full reorthogonalization from the current vector,
takes the Ritz pair of the largest Ritz value of the tridiagonal projection as the next
start vector, and stops when the residual estimate :math:`|\beta_k s_k|` falls below
``tol`` times the largest Ritz value in modulus, or after ``max_restarts`` restarts.
Lanczos, unlike plain power iteration, converges to the *largest* eigenvalue even when
a negative eigenvalue has larger modulus, and at a rate set by the square root of the
relative gap.

`max_singular_vectors` applies it to :math:`A^\top A` for the leading singular pair.
Counts of products are returned, and the iteration reports whether it converged; the
dense-matrix functions built on it (`pytensor_spectral.symmetric`,
`pytensor_spectral.svd`) fall back to LAPACK when it did not.

The returned vector is cut from the gradient (`disconnected_grad`): callers form the
Rayleigh quotient :math:`v^\top S v` with it, whose gradient with :math:`v` held constant
is the exact derivative of :math:`\lambda_{\max}` at convergence (:math:`v v^\top`), so the
iterations are never differentiated.
"""

from collections.abc import Callable

import numpy as np
import pytensor
import pytensor.tensor as pt
from pytensor.gradient import disconnected_grad
from pytensor.graph.basic import Variable
from pytensor.scan.utils import until
from pytensor.tensor import TensorLike

from pytensor_spectral._graph import CheckFinite


NOT_FINITE_MESSAGE = (
    "Lanczos: the operator returned NaN or Inf entries (its matrix or function has NaN or "
    "Inf entries)"
)


def default_start_vector(n: TensorLike, dtype: str) -> Variable:
    """A fixed, dense unit vector (deterministic, unlikely to be orthogonal to any
    eigenvector): ``cos(2.4 i + 0.5)`` normalized."""
    x = pt.cos(2.4 * pt.arange(n, dtype=dtype) + 0.5)
    return x / pt.sqrt(pt.sum(x * x))


def default_tol(dtype: str) -> float:
    """Default relative residual tolerance: ``1e-10`` in float64, ``1e-5`` in float32."""
    return 1e-10 if np.dtype(dtype).itemsize >= 8 else 1e-5


def lanczos_controls(
    dtype: str,
    size: TensorLike,
    krylov_dim: int,
    max_restarts: int | None,
    tol: float | None,
) -> dict:
    """Keyword arguments of `max_eigenpair` with the defaults filled in: ``tol=None`` →
    `default_tol`; ``max_restarts=None`` → a product budget of about ``size / 2``
    (``max(2, size // (2 krylov_dim))`` restarts), past which a dense O(size³)
    decomposition is cheaper than continuing. With a Python ``int`` size (a backend that
    knows the shape) the result holds Python numbers only."""
    if max_restarts is None:
        budget = size // (2 * krylov_dim)
        max_restarts = (
            max(2, budget) if isinstance(budget, int) else pt.maximum(2, budget)
        )
    return dict(
        dtype=dtype,
        krylov_dim=krylov_dim,
        max_restarts=max_restarts,
        tol=default_tol(dtype) if tol is None else tol,
    )


def norm(x: Variable) -> Variable:
    """2-norm of a vector without underflow or overflow of the squares: ``m ‖x/m‖``,
    ``m = max |x_i|`` (0 for a zero vector). Lanczos vectors of an operator with entries of
    ``1e-200`` in float64, or ``1e-30`` in float32, have squares below the normal range."""
    m = pt.max(pt.abs(x))
    safe = pt.switch(m > 0, m, 1)
    return m * pt.sqrt(pt.sum((x / safe) ** 2))


def orthogonalize(V, w):
    """``w`` minus its projection on the rows of ``V`` (orthonormal or zero), twice. Only
    ``@``, ``-`` and ``.T``: used on PyTensor variables and on JAX arrays alike."""
    w = w - V.T @ (V @ w)
    return w - V.T @ (V @ w)


def _lanczos_pass(
    matvec: Callable[[Variable], Variable], v: Variable, krylov_dim: Variable
) -> tuple[Variable, Variable, Variable]:
    """``krylov_dim`` Lanczos steps from unit ``v``: basis rows ``V``, diagonal ``a`` and
    off-diagonal ``b`` of the tridiagonal projection (``b[-1]`` the residual norm).

    On breakdown (an invariant subspace found, ``b ≈ 0``) the next vector is a fresh
    direction orthogonal to the basis, and the coupling is recorded as zero, so every
    Ritz value remains an eigenvalue estimate of the operator. The basis buffer starts
    uninitialized (``empty``: never constant-folded into the compiled function) and step
    ``j`` only reads its first ``j + 1`` rows.
    """
    n = v.shape[0]
    dtype = v.dtype
    tiny = np.finfo(dtype).eps

    def step(j, V, a, b, q):
        w = matvec(q)
        alpha = pt.dot(q, w)
        V = pt.set_subtensor(V[j], q)
        basis = V[: j + 1]
        w = orthogonalize(basis, w)
        beta = norm(w)
        scale = pt.maximum(pt.abs(alpha), pt.max(pt.abs(b)))
        fresh = pt.cos((1.7 + j) * pt.arange(n) + j).astype(dtype)
        fresh = orthogonalize(basis, fresh)
        broke_down = beta <= 16 * tiny * scale
        beta = pt.switch(broke_down, 0.0, beta)
        w = pt.switch(broke_down, fresh, w)
        q_next = w / pt.maximum(norm(w), np.finfo(dtype).tiny)
        return V, pt.set_subtensor(a[j], alpha), pt.set_subtensor(b[j], beta), q_next

    V0 = pt.empty((krylov_dim, n), dtype=dtype)
    zeros = pt.zeros((krylov_dim,), dtype=dtype)
    V, a, b, _ = pytensor.scan(
        step,
        sequences=[pt.arange(krylov_dim)],
        outputs_info=[V0, zeros, zeros, v],
        return_list=True,
        return_updates=False,
    )
    return V[-1], a[-1], b[-1]


def max_eigenpair(
    matvec: Callable[[Variable], Variable],
    n: TensorLike,
    v0: TensorLike | None = None,
    *,
    dtype: str = "float64",
    krylov_dim: int = 30,
    max_restarts: TensorLike = 100,
    tol: float = 1e-8,
) -> tuple[Variable, Variable, Variable, Variable]:
    r"""Largest eigenvalue and unit eigenvector of a symmetric linear operator.

    Parameters
    ----------
    matvec : callable
        Symbolic ``q -> S q`` for a symmetric ``S`` of size ``n``.
    n : TensorLike
        Size of the operator.
    v0 : TensorLike, optional
        Start vector (warm start), e.g. the vector returned by a previous call; need not
        be normalized. Default: `default_start_vector`.
    dtype : str
        Float dtype of the iteration (when ``v0`` is given, its dtype).
    krylov_dim : int
        Lanczos steps per restart (capped at ``n``).
    max_restarts : int or scalar TensorLike
        Bound on the number of restarts: at most ``max_restarts * krylov_dim`` products.
    tol : float
        Relative residual tolerance, :math:`\|S v - \theta v\| \le` ``tol`` ·
        :math:`\max|\theta_i|`. Since :math:`S` is symmetric, an eigenvalue lies within
        the residual norm of :math:`\theta` (and within its square over the gap to the
        rest of the spectrum).

    Returns
    -------
    theta : TensorVariable
        The Ritz value (not differentiable; form the Rayleigh quotient with ``v`` instead).
    v : TensorVariable
        Unit Ritz vector, cut from the gradient.
    converged : TensorVariable
        Boolean: whether the residual reached ``tol`` within ``max_restarts``.
    products : TensorVariable
        Number of products with ``S`` used.
    """
    if v0 is None:
        v = default_start_vector(n, dtype)
    else:
        v = pt.as_tensor_variable(v0)
        v = v / norm(v)
    k = pt.minimum(krylov_dim, n)

    def restart(v):
        V, a, b = _lanczos_pass(matvec, v, k)
        T = pt.diag(a) + pt.diag(b[:-1], 1) + pt.diag(b[:-1], -1)
        ritz_values, ritz_vectors = pt.linalg.eigh(CheckFinite(NOT_FINITE_MESSAGE)(T))
        s = ritz_vectors[:, -1]
        y = V.T @ s
        residual = pt.abs(b[-1] * s[-1])
        threshold = tol * pt.max(pt.abs(ritz_values))
        done = residual <= threshold
        return (ritz_values[-1], y / norm(y), done), until(done)

    theta, vectors, done = pytensor.scan(
        lambda v, *_: restart(v),
        outputs_info=[None, v, None],
        n_steps=max_restarts,
        return_list=True,
        return_updates=False,
    )
    products = theta.shape[0] * k
    return (
        disconnected_grad(theta[-1]),
        disconnected_grad(vectors[-1]),
        done[-1],
        products,
    )


def max_singular_vectors(
    matvec: Callable[[Variable], Variable],
    rmatvec: Callable[[Variable], Variable],
    n: TensorLike,
    v0: TensorLike | None = None,
    **controls,
) -> tuple[Variable, Variable, Variable, Variable]:
    r"""Leading singular vectors :math:`(u, v)` of a linear operator :math:`A` with ``n``
    columns, from products with :math:`A` and :math:`A^\top` only.

    Lanczos (`max_eigenpair`) on :math:`A^\top A` gives :math:`v`; then
    :math:`u = A v / \|A v\|`. Callers form :math:`\sigma_1 = u^\top A v`, whose gradient
    with the vectors held constant is :math:`u v^\top`.

    Parameters
    ----------
    matvec, rmatvec : callable
        Symbolic ``q -> A q`` and ``p -> Aᵀ p``.
    n : TensorLike
        Number of columns of :math:`A`.
    v0 : TensorLike, optional
        Warm start for :math:`v`.
    **controls
        ``dtype``, ``krylov_dim``, ``max_restarts``, ``tol`` of `max_eigenpair`; the
        tolerance applies to :math:`A^\top A`, i.e. relative to :math:`\sigma_1^2`.

    Returns
    -------
    u, v : TensorVariable
        Unit singular vectors, cut from the gradient.
    converged, products : TensorVariable
        As in `max_eigenpair` (one product counts one ``matvec`` and one ``rmatvec``).
    """
    _, v, converged, products = max_eigenpair(
        lambda q: rmatvec(matvec(q)), n, v0, **controls
    )
    Av = matvec(v)
    u = Av / pt.maximum(norm(Av), np.finfo(Av.dtype).tiny)
    return disconnected_grad(u), v, converged, products
