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
repeated eigenvalue makes the system singular; the result is then not finite and a
``ValueError`` says so.
"""

from collections.abc import Callable

import pytensor
import pytensor.tensor as pt
from pytensor.gradient import DisconnectedType
from pytensor.graph.basic import Variable
from pytensor.scan.utils import until

from pytensor_spectral._graph import CheckFinite


REPEATED_MESSAGE = (
    "The second derivative of the eigenvalue does not exist here: it is repeated "
    "(its eigenvector is not unique)"
)


def _project(v: Variable, x: Variable) -> Variable:
    """``(I − v vᵀ) x``."""
    return x - v * pt.dot(v, x)


def scaled_identity(c: Variable, n: Variable) -> Variable:
    """:math:`c I_n` as ``diag(alloc(c, n))``: unlike ``c * eye(n)``, no ``n × n`` constant
    is folded into a compiled function for a static ``n`` (Numba cannot cache a function
    with a large constant array)."""
    return pt.diag(pt.alloc(c, n))


def bordered_shift_solve(S: Variable, lam: Variable, v: Variable, b: Variable) -> Variable:
    r"""``w ⊥ v`` with :math:`(\lambda I - S) w = (I - v v^\top) b`, by a dense solve of the
    bordered system (its last unknown is zero because :math:`v^\top(\lambda I - S) = 0`);
    ``ValueError`` (`REPEATED_MESSAGE`) where it is singular."""
    n = S.shape[0]
    dtype = S.dtype
    K = pt.concatenate(
        [
            pt.concatenate([scaled_identity(lam, n) - S, v[:, None]], axis=1),
            pt.concatenate([v, pt.zeros((1,), dtype=dtype)])[None, :],
        ],
        axis=0,
    )
    rhs = pt.concatenate([_project(v, b), pt.zeros((1,), dtype=dtype)])
    # Checked before slicing: PyTensor's Solve.perform returns a NaN array shaped like K
    # (not like rhs) when LAPACK reports a singular matrix.
    return CheckFinite(REPEATED_MESSAGE)(pt.linalg.solve(K, rhs, assume_a="sym"))[:-1]


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
    return pt.add(*terms) if terms else pt.zeros((v.shape[0], v.shape[0]), dtype=v.dtype)
