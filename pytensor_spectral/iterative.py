r"""Symbolic thick-restart Lanczos: a PyTensor subgraph for the largest eigenpair of a
symmetric operator given only as a matrix-vector product closure (the matrix-free
numerical abscissa of a Jacobian uses it).

`max_eigenpair` runs the Krylov-Schur iteration of `pytensor_spectral._lanczos` (the
kernel of the dense-matrix ops): Lanczos steps extend an orthonormal basis up to
``krylov_dim`` vectors, with full reorthogonalization; every step tests the largest Ritz
pair of the projected matrix (residual :math:`\beta_j |s_j|` at most ``tol`` times the
largest Ritz value in modulus) and stops there; a full basis is compressed to the Ritz
vectors of its ``krylov_dim // 3`` largest Ritz values plus the residual direction.
Lanczos, unlike plain power iteration, converges to the *largest* eigenvalue even when
a negative eigenvalue has larger modulus, and at a rate set by the square root of the
relative gap. The number of products is returned, and whether the iteration converged
within its bound.

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


KRYLOV_DIM = 40
"""Default largest Lanczos basis (a third of it is kept at a restart): measured to need
as few products as an unrestarted basis on random symmetric and covariance matrices."""

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


def norm(x: Variable) -> Variable:
    """2-norm of a vector without underflow or overflow of the squares: ``m ‖x/m‖``,
    ``m = max |x_i|`` (0 for a zero vector). Lanczos vectors of an operator with entries of
    ``1e-200`` in float64, or ``1e-30`` in float32, have squares below the normal range."""
    m = pt.max(pt.abs(x))
    safe = pt.switch(m > 0, m, 1)
    return m * pt.sqrt(pt.sum((x / safe) ** 2))


def keep_count(krylov_dim: TensorLike) -> TensorLike:
    """Ritz vectors kept at a restart: a third of the basis (at least one; as
    `pytensor_spectral._lanczos.keep_count`)."""
    return pt.maximum(1, krylov_dim // 3)


def orthogonalize(V, w):
    """``w`` minus its projection on the rows of ``V`` (orthonormal or zero), twice. Only
    ``@``, ``-`` and ``.T``: used on PyTensor variables and on JAX arrays alike."""
    w = w - V.T @ (V @ w)
    return w - V.T @ (V @ w)


def _lanczos_steps(matvec, V, H, start, waiting, scale, m, n, tol):
    """Lanczos steps ``start, …, m - 1`` extending the basis (rows of ``V``, ``m + 1`` of
    them) and the projected matrix ``H`` (``m x m``), stopping at convergence.

    Each step orthogonalizes twice against the whole basis and tests the largest Ritz
    pair ``(theta, s)`` of ``H[:j+1, :j+1]`` (after a breakdown, ``waiting``, only once
    the basis is full; the breakdown direction is replaced by a fresh one). Returns the
    state after the last step: ``V, H, waiting, scale`` (a lower bound of the largest
    Ritz value in modulus, as in `pytensor_spectral._lanczos`), ``theta``, the unit Ritz
    vector, whether it converged, and the number of steps (products).
    """
    dtype = V.dtype
    eps = np.finfo(dtype).eps

    def step(j, V, H, waiting, scale, theta, y, done):
        w = matvec(V[j])
        before = norm(w)
        basis = V[: j + 1]
        h = basis @ w
        w = w - basis.T @ h
        h2 = basis @ w
        w = w - basis.T @ h2
        h = h + h2
        H = pt.set_subtensor(H[: j + 1, j], h)
        H = pt.set_subtensor(H[j, : j + 1], h)
        beta = norm(w)
        broke_down = (beta <= 16 * eps * pt.maximum(before, scale)) | pt.eq(j + 1, n)
        beta = pt.switch(broke_down, 0.0, beta)
        block = CheckFinite(NOT_FINITE_MESSAGE)(H[: j + 1, : j + 1])
        values, Z = pt.linalg.eigh(block)
        s = Z[:, -1]
        theta = values[-1]
        scale = pt.maximum(pt.abs(theta), -pt.min(pt.diagonal(block)))
        tested = pt.eq(j + 1, m) | ~waiting
        done = tested & (beta * pt.abs(s[-1]) <= tol * scale)
        fresh = orthogonalize(basis, pt.cos((1.7 + j) * pt.arange(n) + j).astype(dtype))
        w = pt.switch(broke_down, fresh, w)
        V = pt.set_subtensor(V[j + 1], w / pt.maximum(norm(w), np.finfo(dtype).tiny))
        state = (V, H, waiting | broke_down, scale, theta, basis.T @ s, done)
        return state, until(done)

    states = pytensor.scan(
        step,
        sequences=[pt.arange(start, m)],
        outputs_info=[
            V,
            H,
            waiting,
            scale,
            pt.zeros((), dtype=dtype),
            pt.zeros((n,), dtype=dtype),
            pt.zeros((), dtype="bool"),
        ],
        return_list=True,
        return_updates=False,
    )
    return [x[-1] for x in states] + [states[0].shape[0]]


def _compress(V, H, m, keep):
    """Restart of a full basis: the Ritz vectors of the ``keep`` largest Ritz values of
    ``H`` and the residual direction ``V[m]`` as the new first rows of ``V``, their Ritz
    values as the diagonal of ``H``."""
    values, Z = pt.linalg.eigh(H)
    top = Z[:, m - keep :]
    V = pt.set_subtensor(V[:keep], top.T @ V[:m])
    V = pt.set_subtensor(V[keep], V[m])
    i = pt.arange(keep)
    return V, pt.zeros_like(H)[i, i].set(values[m - keep :])


def max_eigenpair(
    matvec: Callable[[Variable], Variable],
    n: TensorLike,
    v0: TensorLike | None = None,
    *,
    dtype: str = "float64",
    krylov_dim: int = KRYLOV_DIM,
    max_restarts: TensorLike = 100,
    tol: float = 1e-8,
) -> tuple[Variable, Variable, Variable, Variable]:
    r"""Largest eigenvalue and unit eigenvector of a symmetric linear operator, by
    thick-restart Lanczos.

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
        Largest basis (capped at ``n``); a third of it (`keep_count`) is kept at a
        restart.
    max_restarts : int or scalar TensorLike
        Bound on the number of restarts: at most ``krylov_dim + max_restarts ·
        (krylov_dim - keep_count(krylov_dim))`` products.
    tol : float
        Relative residual tolerance, :math:`\|S v - \theta v\| \le` ``tol`` ·
        :math:`\max|\theta_i|`, tested at every step. Since :math:`S` is symmetric, an
        eigenvalue lies within the residual norm of :math:`\theta` (and within its
        square over the gap to the rest of the spectrum).

    Returns
    -------
    theta : TensorVariable
        The Ritz value (not differentiable; form the Rayleigh quotient with ``v`` instead).
    v : TensorVariable
        Unit Ritz vector, cut from the gradient.
    converged : TensorVariable
        Boolean: whether the residual reached ``tol`` within the bound.
    products : TensorVariable
        Number of products with ``S`` used.
    """
    if v0 is None:
        v = default_start_vector(n, dtype)
    else:
        v = pt.as_tensor_variable(v0)
        v = v / norm(v)
    dtype = v.dtype
    m = pt.cast(pt.minimum(krylov_dim, n), "int64")
    keep = pt.minimum(keep_count(m), m - 1)

    def cycle(V, H, start, waiting, scale, theta, y, done, products):
        V, H, waiting, scale, theta, y, done, steps = _lanczos_steps(
            matvec, V, H, start, waiting, scale, m, n, tol
        )
        V_restart, H_restart = _compress(V, H, m, keep)
        state = (
            pt.switch(done, V, V_restart),
            pt.switch(done, H, H_restart),
            keep,
            pt.zeros((), dtype="bool"),
            scale,
            theta,
            y,
            done,
            products + steps,
        )
        return state, until(done)

    V = pt.set_subtensor(pt.zeros((m + 1, n), dtype=dtype)[0], v)
    zero = pt.zeros((), dtype=dtype)
    states = pytensor.scan(
        cycle,
        outputs_info=[
            V,
            pt.zeros((m, m), dtype=dtype),
            pt.zeros((), dtype="int64"),
            pt.zeros((), dtype="bool"),
            zero,
            zero,
            pt.zeros((n,), dtype=dtype),
            pt.zeros((), dtype="bool"),
            pt.zeros((), dtype="int64"),
        ],
        n_steps=max_restarts + 1,
        return_list=True,
        return_updates=False,
    )
    theta, y, done, products = (x[-1] for x in states[-4:])
    return (
        disconnected_grad(theta),
        disconnected_grad(y / norm(y)),
        done,
        products,
    )
