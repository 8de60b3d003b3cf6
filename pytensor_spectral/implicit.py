r"""Implicit derivative of the eigenvector of a simple eigenvalue of a symmetric matrix.

For :math:`S v = \lambda v`, :math:`\|v\| = 1`, :math:`\lambda` simple,

.. math::
    dv = (\lambda I - S)^{+}\, dS\, v,

with the pseudo-inverse taken on :math:`v^\perp`. A cotangent :math:`\bar v` therefore
pulls back to :math:`\bar S = w v^\top`, :math:`w = (\lambda I - S)^{+}(I - v v^\top)\bar v`,
and the tangent is :math:`dv = (\lambda I - S)^{+} dS\, v` (the pseudo-inverse is
symmetric). This is what makes the gradients :math:`\bar\lambda v v^\top` of the
eigenvalue ops differentiable again: their second derivatives are the derivatives of
:math:`v`, never of an iteration.

Two solvers for :math:`(\lambda I - S) w = (I - v v^\top) b`, :math:`w \perp v`:

* `bordered_shift_solve`: the nonsingular bordered system
  :math:`\begin{pmatrix}\lambda I - S & v\\ v^\top & 0\end{pmatrix}`, dense (LAPACK
  ``sysv`` through ``pt.linalg.solve``), for any simple eigenvalue;
* `cg_shift_solve`: conjugate gradients on :math:`P(\lambda I - S)P`, :math:`P = I - v v^\top`,
  from products with :math:`S` only. For :math:`\lambda = \lambda_{\max}` that operator is
  positive definite on :math:`v^\perp`, with condition number
  :math:`(\lambda_1 - \lambda_n)/(\lambda_1 - \lambda_2)`.

`pytensor_spectral.symmetric.ShiftedSolve` chooses between them for the Lanczos path. A
repeated eigenvalue makes the system singular; `CheckedSymmetricSolve` detects that to
working precision and raises ``ValueError`` (the bordered system of the leading singular
triplet uses it too).
"""

from collections.abc import Callable

import numpy as np
import pytensor
import pytensor.tensor as pt
from pytensor.gradient import DisconnectedType
from pytensor.graph.basic import Variable
from pytensor.scan.utils import until
from pytensor.tensor.symbolic import TensorSymbolicOp

from pytensor_spectral._graph import CheckFinite, add_terms, entry_scale


REPEATED_MESSAGE = (
    "The second derivative of the eigenvalue does not exist here: it is repeated "
    "(its eigenvector is not unique)"
)


class CheckedSymmetricSolve(TensorSymbolicOp):
    r"""``x = K⁻¹ r`` for a symmetric ``K`` with entries of order one, as a symbolic inner
    graph; ``ValueError(message)`` where ``K`` is singular to working precision.

    Inputs ``(K, r, norm)``. A singular ``K`` is not always reported by LAPACK: rounding
    leaves a tiny pivot and a finite, meaningless ``x``. So a fixed probe right-hand side
    ``p`` (zero in the last entry, the border of the bordered systems) is solved with the
    same factorization, and ``K`` counts as singular when
    :math:`\|K^{-1}p\| \cdot 100\, N \varepsilon \cdot \mathrm{norm} > \|p\|` (``N`` the
    size of ``K``): the gap the solve divides by is then below ``100 N ε norm``, the
    package's threshold for eigenvalues equal to working precision (``norm``: the
    Frobenius norm of the matrix inside ``K``).

    The pullback (:math:`\bar r = K^{-1}\bar x`, :math:`\bar K = -\operatorname{sym}(\bar r
    x^\top)`) and the pushforward (:math:`dx = K^{-1}(dr - dK\, x)`) are solves with this
    op, so derivatives of every order raise the same error at a singular ``K``; PyTensor's
    ``Solve`` returns a NaN array shaped like ``K`` there, which breaks the graphs built on
    its output before any check can run.
    """

    __props__ = ("message",)
    gufunc_signature = "(n,n),(n),()->(n)"

    def build_inner_graph(self, K, r, norm):
        N = K.shape[0]
        eps = np.finfo(K.dtype).eps
        probe = pt.sin(pt.arange(1, N + 1, dtype=K.dtype)) * pt.lt(pt.arange(N), N - 1)
        X = pt.linalg.solve(K, pt.stack([r, probe], axis=1), assume_a="sym", b_ndim=2)
        # X[:, 0] is NaN, of length N, also when Solve returns its K-shaped NaN array
        threshold = pt.linalg.norm(probe) / (100 * eps * pt.cast(N, K.dtype) * norm)
        singular = pt.linalg.norm(X[:, 1]) > threshold
        nan = pt.constant(np.nan, dtype=K.dtype)
        return [CheckFinite(self.message)(pt.switch(singular, nan, X[:, 0]))]

    def pullback(self, inputs, outputs, cotangents):
        K, _, norm = inputs
        (x,) = outputs
        w = self(K, cotangents[0], norm)
        # norm only sets the threshold: a zero (not disconnected) cotangent, which Blockwise takes
        return [-0.5 * (pt.outer(w, x) + pt.outer(x, w)), w, pt.zeros_like(norm)]

    def pushforward(self, inputs, outputs, tangents):
        K, _, norm = inputs
        (x,) = outputs
        dK, dr, _ = (
            None if isinstance(t.type, DisconnectedType) else t for t in tangents
        )
        if dK is None and dr is None:
            return [pt.zeros_like(x)]
        rhs = pt.zeros_like(x) if dr is None else dr
        if dK is not None:
            rhs = rhs - dK @ x
        return [self(K, rhs, norm)]


def _project(v: Variable, x: Variable) -> Variable:
    """``(I - v vᵀ) x``."""
    return x - v * pt.dot(v, x)


def scaled_identity(c: Variable, n: Variable) -> Variable:
    """:math:`c I_n` as ``zeros((n, n))[i, i].set(c)``: unlike ``c * eye(n)``, no ``n x n``
    constant is folded into a compiled function for a static ``n`` (Numba cannot cache a
    function with a large constant array), and unlike ``diag(alloc(c, n))`` it vectorizes
    to a native batched ``set_subtensor`` (PyTensor 3.3.8 has no Numba ``Blockwise`` of
    ``AllocDiag``)."""
    i = pt.arange(n)
    return pt.zeros((n, n), dtype=c.dtype)[i, i].set(c)


def bordered_shift_solve(
    S: Variable,
    lam: Variable,
    v: Variable,
    b: Variable,
    partner: Variable | None = None,
) -> Variable:
    r"""``w ⊥ v`` with :math:`(\lambda I - S) w = (I - v v^\top) b`, by a dense solve of the
    bordered system (its last unknown is zero because :math:`v^\top(\lambda I - S) = 0`);
    ``ValueError`` (`REPEATED_MESSAGE`) where it is singular to working precision
    (`CheckedSymmetricSolve`). Solved for ``S / c``, ``λ / c`` (``c`` = `entry_scale`
    of ``S``) and scaled back: ``w = w_c / c``.

    ``partner``: a second unit eigenvector for :math:`\lambda`, orthogonal to ``v``, where
    :math:`\lambda` is double by construction (the real embedding of a Hermitian matrix,
    `pytensor_spectral.symmetric.hermitian_embedding`): both border the system and are
    projected out, so it is nonsingular when no other eigenvalue equals :math:`\lambda`."""
    n = S.shape[0]
    dtype = S.dtype
    c = entry_scale(S)
    S, lam = S / c, lam / c
    vectors = [v] if partner is None else [v, partner]
    r = len(vectors)
    borders = pt.stack(vectors, axis=1)
    K = pt.concatenate(
        [
            pt.concatenate([scaled_identity(lam, n) - S, borders], axis=1),
            pt.concatenate([borders.T, pt.zeros((r, r), dtype=dtype)], axis=1),
        ],
        axis=0,
    )
    rhs = pt.concatenate([b - borders @ (borders.T @ b), pt.zeros((r,), dtype=dtype)])
    w = CheckedSymmetricSolve(message=REPEATED_MESSAGE)(K, rhs, pt.linalg.norm(S))[:-r]
    return w / c


def cg_shift_solve(
    matvec: Callable[[Variable], Variable],
    lam: Variable,
    v: Variable,
    b: Variable,
    max_iter: Variable,
    tol: float,
) -> tuple[Variable, Variable]:
    r"""Conjugate gradients for :math:`P(\lambda I - S)P\, w = P b` from ``matvec``
    (:math:`q \mapsto S q`), at most ``max_iter`` steps, stopping at a relative residual
    ``tol``. Returns ``(w, converged)``, ``converged`` judged on the true residual."""

    def operator(q):
        q = _project(v, q)
        return _project(v, lam * q - matvec(q))

    rhs = _project(v, b)
    threshold = tol * pt.linalg.norm(rhs)

    def step(w, r, p, rr):
        Bp = operator(p)
        curvature = pt.dot(p, Bp)
        alpha = pt.switch(curvature > 0, rr / pt.switch(curvature > 0, curvature, 1), 0)
        w = w + alpha * p
        r = r - alpha * Bp
        rr_next = pt.dot(r, r)
        p = r + pt.switch(rr > 0, rr_next / pt.switch(rr > 0, rr, 1), 0) * p
        return (w, r, p, rr_next), until(pt.sqrt(rr_next) <= threshold)

    w, *_ = pytensor.scan(
        step,
        outputs_info=[pt.zeros_like(rhs), rhs, rhs, pt.dot(rhs, rhs)],
        n_steps=max_iter,
        return_list=True,
        return_updates=False,
    )
    w = _project(v, w[-1])
    converged = pt.linalg.norm(operator(w) - rhs) <= 10 * threshold
    return w, converged


def eigenpair_pullback(
    lam: Variable,
    v: Variable,
    g_lam: Variable,
    g_v: Variable,
    solve: Callable[[Variable], Variable],
) -> Variable:
    r""":math:`\bar S = \bar\lambda\, v v^\top + w v^\top`, ``w = solve(v̄)``
    (:math:`(\lambda I - S)^{+}(I - v v^\top)\bar v`), for the cotangents of a simple
    eigenpair; disconnected cotangents contribute nothing."""
    terms = []
    if not isinstance(g_lam.type, DisconnectedType):
        terms.append(g_lam * pt.outer(v, v))
    if not isinstance(g_v.type, DisconnectedType):
        terms.append(pt.outer(solve(g_v), v))
    if not terms:
        return pt.zeros((v.shape[0], v.shape[0]), dtype=v.dtype)
    return add_terms(terms)
