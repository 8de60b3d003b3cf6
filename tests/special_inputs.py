"""Special input matrices and, for every public function, its loss, its NumPy/SciPy
reference and what it must do at each special matrix (used by `test_special_inputs`).

A function either returns a finite, right value and gradient at a special matrix, or
raises ``ValueError`` with a message naming the problem (``errors`` / ``hessian_errors``:
case → regular expression). Where the function is not differentiable (ties, repeated
eigenvalues), ``nonsmooth`` names a check of the documented choice (a subgradient, the
gradient of a cluster mean, the gradient of one of the tied eigenvalues) in place of
the finite-difference comparison.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pytensor.tensor as pt
import scipy.linalg

from pytensor_spectral import (
    eig,
    eigengap,
    eigvals,
    jacobian_numerical_abscissa,
    leading_eigvalsh,
    leading_singular_triplet,
    numerical_abscissa,
    spectral_abscissa,
    spectral_norm,
    spectral_radius,
    ssa,
)
from tests.helpers import scipy_ssa


SIZE = 5
SMALL_SQUARE = (
    "zero identity jordan nilpotent permutation rotation big small illcond nan inf "
    "diag_33111 repeated_sym"
).split()


def special_matrices(dtype: str) -> dict[str, np.ndarray]:
    """The special matrices of the reliability sweep, in ``dtype``: ties and repeated
    eigenvalues or singular values, defective and nilpotent blocks, extreme scales
    (``1e±150`` in float64, ``1e±30`` in float32), ill-conditioning, NaN/Inf, 1×1, 0×0, and
    random 60×60 matrices (the Lanczos path) at unit and extreme scales."""
    rng = np.random.default_rng(0)
    n = SIZE
    G = rng.normal(size=(n, n))
    Q = np.linalg.qr(rng.normal(size=(n, n)))[0]
    c, s = np.cos(0.3), np.sin(0.3)
    rotation = np.eye(n)
    rotation[:2, :2] = rotation[2:4, 2:4] = [[c, -s], [s, c]]
    big, small = (1e150, 1e-150) if dtype == "float64" else (1e30, 1e-30)
    decades = 14 if dtype == "float64" else 6
    nan, inf = G.copy(), G.copy()
    nan[1, 2], inf[0, 0] = np.nan, np.inf
    G60 = rng.normal(size=(60, 60))
    cases = {
        "zero": np.zeros((n, n)),
        "identity": np.eye(n),
        "jordan": 2 * np.eye(n) + np.eye(n, k=1),
        "nilpotent": np.eye(n, k=1),
        "permutation": np.roll(np.eye(n), 1, axis=0),
        "rotation": rotation,
        "big": big * G,
        "small": small * G,
        "illcond": Q @ np.diag(np.logspace(0, -decades, n)) @ Q.T
        + 1e-3 * np.triu(G, 1),
        "nan": nan,
        "inf": inf,
        "1x1": np.array([[0.7]]),
        "0x0": np.zeros((0, 0)),
        "diag_33111": np.diag([3.0, 3, 1, 1, 1]),
        "repeated_sym": Q @ np.diag([2.0, 2, 2, -1, -1]) @ Q.T,
        "random60": G60,
        "random60_big": big * G60,
        "random60_small": small * G60,
    }
    return {name: A.astype(dtype) for name, A in cases.items()}


def scale_of(A: np.ndarray) -> float:
    """The loss normalization passed with each matrix: its largest entry (1 if zero)."""
    largest = float(np.max(np.abs(A), initial=0.0)) if np.all(np.isfinite(A)) else 1.0
    return largest if largest > 0 else 1.0


def sym(A: np.ndarray) -> np.ndarray:
    return (A + A.T) / 2


# -------------------------------------------------------------- references


def eig_gauge_free_loss(w, V, s):
    """``Σ_k Re(λ_k)/s · |v_k[0]|² + Σ_k |v_k[0] + 2 v_k[1]|²``: independent of the
    eigenvalue order and of the phases of the unit eigenvectors."""
    V = V / np.linalg.norm(V, axis=0)
    z = V[:2].sum(axis=0) + V[1:2].sum(axis=0)
    return float(
        np.sum(w.real / s * np.abs(V[:1].sum(axis=0)) ** 2) + np.sum(np.abs(z) ** 2)
    )


def triplet_loss(u, sigma, v, s):
    """``Σ u_i⁴ + σ/s + (Σ u_i)(Σ v_i)``: independent of the joint sign of ``(u, v)``."""
    return float(np.sum(u**4) + sigma / s + np.sum(u) * np.sum(v))


def numpy_triplet(A):
    U, S, Vt = np.linalg.svd(A)
    return U[:, 0], S[0], Vt[0]


def eigen_candidates(A, measure, eps):
    """Gradients the spectral abscissa (``measure="real"``) or radius may return at
    ``A``: for each leading eigenvalue (ties within ``100 n eps ‖A‖_F``, the package's
    threshold for the working precision ``eps``), ``Re(c ȳ xᵀ / (yᴴx))`` with ``c`` the
    derivative of the measure; for a repeated leading eigenvalue, the gradient of the mean
    of its cluster, ``Re(Pᵀ)/k`` with ``P`` its spectral projector."""
    A = A.astype(float)
    w, Y, X = scipy.linalg.eig(A, left=True, right=True)
    key = w.real if measure == "real" else np.abs(w)
    tol = 100 * len(A) * eps * np.linalg.norm(A)
    lead = np.nonzero(key >= key.max() - tol)[0]
    candidates = []
    for k in lead:
        c = 1.0 if measure == "real" else np.conj(w[k]) / abs(w[k])
        y, x = Y[:, k], X[:, k]
        candidates.append(np.real(c * np.outer(np.conj(y), x) / (y.conj() @ x)))
        cluster = np.nonzero(np.abs(w - w[k]) <= tol)[0]
        if len(cluster) > 1:
            Xc, Yc = X[:, cluster], Y[:, cluster]
            P = Xc @ np.linalg.solve(Yc.conj().T @ Xc, Yc.conj().T)
            candidates.append(np.real(c * P.T) / len(cluster))
    return candidates


def assert_one_of(G, candidates, tol):
    errors = [np.max(np.abs(G - C)) for C in candidates]
    assert min(errors) <= tol, (
        f"gradient is none of the documented choices (errors {errors})"
    )


def check_eigen_choice(measure):
    def check(A, G, tol):
        assert_one_of(G, eigen_candidates(A, measure, np.finfo(A.dtype).eps), tol)

    return check


def check_zero_gradient(A, G, tol):
    """ρ(A) = 0: zero is the documented (sub)gradient."""
    assert np.max(np.abs(G)) == 0


def check_lambda_max_subgradient(A, G, tol):
    """``Ĝ = (G + Gᵀ)/2`` lies in the subdifferential of ``λmax`` at ``S = sym(A)``:
    symmetric positive semi-definite, trace one, ``⟨Ĝ, S⟩ = λmax(S)``."""
    S = sym(A.astype(float))
    Gs = sym(G.astype(float))
    assert np.linalg.eigvalsh(Gs).min() >= -tol
    assert abs(np.trace(Gs) - 1) <= tol
    assert abs(np.sum(Gs * S) - np.linalg.eigvalsh(S).max()) <= tol * max(
        1.0, np.abs(S).max()
    )


def check_norm_subgradient(A, G, tol):
    """``G`` lies in the subdifferential of ``‖A‖₂``: nuclear norm at most one and
    ``⟨G, A⟩ = σ₁(A)``."""
    A, G = A.astype(float), G.astype(float)
    assert np.linalg.svd(G, compute_uv=False).sum() <= 1 + tol
    assert abs(np.sum(G * A) - np.linalg.norm(A, 2)) <= tol * max(1.0, np.abs(A).max())


def check_gap_choice(A, G, tol):
    """``Ĝ = a aᵀ − b bᵀ`` with unit ``a``, ``b`` eigenvectors of ``S`` for ``λ₁`` and ``λ₂``
    (any orthonormal choice in their eigenspaces: a generalized gradient)."""
    S = sym(A.astype(float))
    lam = np.linalg.eigvalsh(S)[::-1]
    g, E = np.linalg.eigh(sym(G.astype(float)))
    np.testing.assert_allclose(g, [-1, *([0] * (len(g) - 2)), 1], atol=tol)
    for vec, target in ((E[:, -1], lam[0]), (E[:, 0], lam[1])):
        assert np.linalg.norm(S @ vec - target * vec) <= tol * max(1.0, np.abs(S).max())


# -------------------------------------------------------------- specifications

DEFECTIVE = "defective"
NOT_FINITE = "NaN or Inf"
REPEATED_EIG = "repeated eigenvalue"
SINGULAR_TIE = "repeated or zero"
EIGVALS_HESSIAN = "not implemented where any eigenvalues are repeated"
LEADING_TIE = "repeated or tied"
SYMMETRIC_REPEATED = "it is repeated"


@dataclass
class Spec:
    """One public function: ``loss(A, s)`` symbolic (``A`` a matrix or a batch, ``s`` the
    normalization of `scale_of`), ``reference(A, s)`` in NumPy/SciPy (float64), whether
    it is applied to ``sym(A)``, and the expected behaviour at the special matrices.
    Values are compared to within a relative tolerance of their natural size: ``1`` for
    ``normalized`` losses, ``s`` for the measures (positively homogeneous in ``A``)."""

    loss: Callable
    reference: Callable
    symmetric: bool = False
    errors: dict = field(default_factory=dict)
    hessian_errors: dict = field(default_factory=dict)
    nonsmooth: dict = field(default_factory=dict)
    normalized: bool = False  # the loss is of order one (divided by s), else of order s
    float32_hessian_errors: dict = field(
        default_factory=dict
    )  # Hessians beyond float32 range
    batched: bool = True  # accepts a batch of matrices (a Blockwise op)
    jax: bool = True  # runs in PyTensor's JAX mode


def _eigvals_loss(A, s):
    w_re, w_im = eigvals(A)
    s = s[..., None]
    return pt.sum(pt.tanh(w_re / s) + pt.cos(w_im / s), axis=-1)


def eigvals_loss(A, s):
    """``Σ_k tanh(Re λ_k / s) + cos(Im λ_k / s)``: symmetric in the eigenvalues (smooth
    also where they repeat, unless defective), bounded at every scale in float32 too."""
    w = np.linalg.eigvals(A)
    return float(np.sum(np.tanh(w.real / s) + np.cos(w.imag / s)))


def _eig_loss(A, s):
    w_re, _, v_re, v_im = eig(A)
    first = (pt.sum(v_re[..., :1, :], axis=-2), pt.sum(v_im[..., :1, :], axis=-2))
    z = [
        pt.sum(v[..., :2, :], axis=-2) + pt.sum(v[..., 1:2, :], axis=-2)
        for v in (v_re, v_im)
    ]
    return pt.sum(
        w_re / s[..., None] * (first[0] ** 2 + first[1] ** 2), axis=-1
    ) + pt.sum(z[0] ** 2 + z[1] ** 2, axis=-1)


def _jacobian_loss(A, s):
    z = pt.ones(A.shape[-1], dtype=A.dtype)
    return jacobian_numerical_abscissa(A @ z, z)[0]


def _triplet_loss(A, s):
    u, sigma, v = leading_singular_triplet(A)
    return pt.sum(u**4, axis=-1) + sigma / s + pt.sum(u, axis=-1) * pt.sum(v, axis=-1)


COMMON = {"nan": NOT_FINITE, "inf": NOT_FINITE}
EMPTY = {"0x0": "empty"}
REPEATED_SPECTRA = ["zero", "identity", "rotation", "diag_33111", "repeated_sym"]
REPEATED_TOP = [
    "zero",
    "identity",
    "diag_33111",
    "repeated_sym",
]  # λmax / leading repeated
TIED_SINGULAR = [
    *REPEATED_TOP[:2],
    "nilpotent",
    "permutation",
    "rotation",
    *REPEATED_TOP[2:],
]

SPECS = {
    "eigvals": Spec(
        normalized=True,
        loss=_eigvals_loss,
        reference=eigvals_loss,
        errors={**COMMON, "jordan": DEFECTIVE, "nilpotent": DEFECTIVE},
        hessian_errors=dict.fromkeys(REPEATED_SPECTRA, EIGVALS_HESSIAN),
        float32_hessian_errors=dict.fromkeys(["small", "random60_small"], "overflows"),
    ),
    "eig": Spec(
        normalized=True,
        loss=_eig_loss,
        reference=lambda A, s: eig_gauge_free_loss(*np.linalg.eig(A), s),
        errors={
            **COMMON,
            **dict.fromkeys(REPEATED_SPECTRA, REPEATED_EIG),
            **dict.fromkeys(["jordan", "nilpotent"], f"{REPEATED_EIG}|{DEFECTIVE}"),
        },
        hessian_errors={"small": "overflows", "random60_small": "overflows"},
    ),
    "spectral_abscissa": Spec(
        loss=lambda A, s: spectral_abscissa(A),
        reference=lambda A, s: float(np.linalg.eigvals(A).real.max()),
        errors={**COMMON, **EMPTY, "jordan": DEFECTIVE, "nilpotent": DEFECTIVE},
        hessian_errors={
            **dict.fromkeys(REPEATED_TOP, LEADING_TIE),
            "rotation": EIGVALS_HESSIAN,
        },
        nonsmooth=dict.fromkeys(REPEATED_TOP, check_eigen_choice("real")),
    ),
    "spectral_radius": Spec(
        loss=lambda A, s: spectral_radius(A),
        reference=lambda A, s: float(np.abs(np.linalg.eigvals(A)).max()),
        errors={**COMMON, **EMPTY, "jordan": DEFECTIVE},
        hessian_errors=dict.fromkeys(
            [
                "zero",
                "identity",
                "nilpotent",
                "permutation",
                "rotation",
                "diag_33111",
                "repeated_sym",
            ],
            LEADING_TIE,
        ),
        nonsmooth={
            "zero": check_zero_gradient,
            "nilpotent": check_zero_gradient,
            **dict.fromkeys(
                ["identity", "permutation", "rotation", "diag_33111", "repeated_sym"],
                check_eigen_choice("modulus"),
            ),
        },
    ),
    "numerical_abscissa": Spec(
        loss=lambda A, s: numerical_abscissa(A),
        reference=lambda A, s: float(np.linalg.eigvalsh(sym(A)).max()),
        errors={**COMMON, **EMPTY},
        hessian_errors=dict.fromkeys(REPEATED_TOP, SYMMETRIC_REPEATED),
        nonsmooth=dict.fromkeys(REPEATED_TOP, check_lambda_max_subgradient),
    ),
    "jacobian_numerical_abscissa": Spec(
        loss=_jacobian_loss,
        reference=lambda A, s: float(np.linalg.eigvalsh(sym(A)).max()),
        errors={**COMMON, **EMPTY},
        hessian_errors=dict.fromkeys(REPEATED_TOP, "curvature solve did not converge"),
        nonsmooth=dict.fromkeys(REPEATED_TOP, check_lambda_max_subgradient),
        batched=False,
        jax=False,
    ),
    "ssa": Spec(
        loss=lambda A, s: ssa(A),
        reference=lambda A, s: scipy_ssa(A, 1.5 / len(A)),
        errors={
            **COMMON,
            **EMPTY,
            "big": "below the working precision",
            "random60_big": "below the working precision",
        },
    ),
    "leading_eigvalsh": Spec(
        loss=lambda A, s: leading_eigvalsh(A),
        reference=lambda A, s: float(np.linalg.eigvalsh(A).max()),
        symmetric=True,
        errors={**COMMON, **EMPTY},
        hessian_errors=dict.fromkeys(REPEATED_TOP, SYMMETRIC_REPEATED),
        nonsmooth=dict.fromkeys(REPEATED_TOP, check_lambda_max_subgradient),
    ),
    "spectral_norm": Spec(
        loss=lambda A, s: spectral_norm(A),
        reference=lambda A, s: float(np.linalg.norm(A, 2)) if A.size else 0.0,
        errors={**COMMON, **EMPTY},
        hessian_errors=dict.fromkeys(
            [
                "zero",
                "identity",
                "nilpotent",
                "permutation",
                "rotation",
                "diag_33111",
                "repeated_sym",
            ],
            SINGULAR_TIE,
        ),
        nonsmooth=dict.fromkeys(
            [
                "zero",
                "identity",
                "nilpotent",
                "permutation",
                "rotation",
                "diag_33111",
                "repeated_sym",
            ],
            check_norm_subgradient,
        ),
    ),
    "leading_singular_triplet": Spec(
        normalized=True,
        loss=_triplet_loss,
        reference=lambda A, s: triplet_loss(*numpy_triplet(A), s),
        errors={
            **COMMON,
            **EMPTY,
            **dict.fromkeys(
                [
                    "zero",
                    "identity",
                    "nilpotent",
                    "permutation",
                    "rotation",
                    "diag_33111",
                    "repeated_sym",
                ],
                SINGULAR_TIE,
            ),
        },
    ),
    "eigengap": Spec(
        loss=lambda A, s: eigengap(A, 1),
        reference=lambda A, s: float(-np.diff(np.linalg.eigvalsh(A)[::-1][:2])[0]),
        symmetric=True,
        errors={**COMMON, "1x1": "k must satisfy", "0x0": "k must satisfy"},
        hessian_errors=dict.fromkeys(
            [
                "zero",
                "identity",
                "permutation",
                "rotation",
                "diag_33111",
                "repeated_sym",
            ],
            SYMMETRIC_REPEATED,
        ),
        nonsmooth=dict.fromkeys(
            [
                "zero",
                "identity",
                "permutation",
                "rotation",
                "diag_33111",
                "repeated_sym",
            ],
            check_gap_choice,
        ),
    ),
}
