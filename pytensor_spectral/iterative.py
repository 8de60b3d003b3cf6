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


def default_start_vector(n: TensorLike, dtype: str) -> Variable:
    """A fixed, dense unit vector (deterministic, unlikely to be orthogonal to any
    eigenvector): ``cos(2.4 i + 0.5)`` normalized."""
    x = pt.cos(2.4 * pt.arange(n, dtype=dtype) + 0.5)
    return x / pt.linalg.norm(x)


def _orthogonalize(V: Variable, w: Variable) -> Variable:
    """``w`` minus its projection on the rows of ``V`` (orthonormal or zero), twice."""
    w = w - V.T @ (V @ w)
    return w - V.T @ (V @ w)


def _lanczos_pass(
    matvec: Callable[[Variable], Variable], v: Variable, krylov_dim: Variable
) -> tuple[Variable, Variable, Variable]:
    """``krylov_dim`` Lanczos steps from unit ``v``: basis rows ``V``, diagonal ``a`` and
    off-diagonal ``b`` of the tridiagonal projection (``b[-1]`` the residual norm).

    On breakdown (an invariant subspace found, ``b ≈ 0``) the next vector is a fresh
    direction orthogonal to the basis, and the coupling is recorded as zero, so every
    Ritz value remains an eigenvalue estimate of the operator.
    """
    n = v.shape[0]
    dtype = v.dtype
    tiny = np.finfo(dtype).eps

    def step(j, V, a, b, q):
        w = matvec(q)
        alpha = pt.dot(q, w)
        V = pt.set_subtensor(V[j], q)
        w = _orthogonalize(V, w)
        beta = pt.linalg.norm(w)
        scale = pt.maximum(pt.abs(alpha), pt.max(pt.abs(b)))
        fresh = _orthogonalize(V, pt.cos((1.7 + j) * pt.arange(n, dtype=dtype) + j))
        broke_down = beta <= 16 * tiny * scale
        beta = pt.switch(broke_down, 0.0, beta)
        w = pt.switch(broke_down, fresh, w)
        q_next = w / pt.maximum(pt.linalg.norm(w), np.finfo(dtype).tiny)
        return V, pt.set_subtensor(a[j], alpha), pt.set_subtensor(b[j], beta), q_next

    V0 = pt.zeros((krylov_dim, n), dtype=dtype)
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
    max_restarts: int = 100,
    tol: float = 1e-8,
) -> tuple[Variable, Variable, Variable]:
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
    max_restarts : int
        Bound on the number of restarts: at most ``max_restarts * krylov_dim`` products.
    tol : float
        Relative residual tolerance, :math:`\|S v - \theta v\| \le` ``tol`` ·
        :math:`\max|\theta_i|`.

    Returns
    -------
    theta : TensorVariable
        The Ritz value (not differentiable; form the Rayleigh quotient with ``v`` instead).
    v : TensorVariable
        Unit Ritz vector, cut from the gradient.
    converged : TensorVariable
        Boolean: whether the residual reached ``tol`` within ``max_restarts``.
    """
    if v0 is None:
        v = default_start_vector(n, dtype)
    else:
        v = pt.as_tensor_variable(v0)
        v = v / pt.linalg.norm(v)
    k = pt.minimum(krylov_dim, n)

    def restart(v):
        V, a, b = _lanczos_pass(matvec, v, k)
        T = pt.diag(a) + pt.diag(b[:-1], 1) + pt.diag(b[:-1], -1)
        ritz_values, ritz_vectors = pt.linalg.eigh(T)
        s = ritz_vectors[:, -1]
        y = V.T @ s
        residual = pt.abs(b[-1] * s[-1])
        threshold = tol * pt.max(pt.abs(ritz_values))
        done = residual <= threshold
        return (ritz_values[-1], y / pt.linalg.norm(y), done), until(done)

    theta, vectors, done = pytensor.scan(
        lambda v, *_: restart(v),
        outputs_info=[None, v, None],
        n_steps=max_restarts,
        return_list=True,
        return_updates=False,
    )
    return disconnected_grad(theta[-1]), disconnected_grad(vectors[-1]), done[-1]
