"""Leading values without dense decompositions: speed, accuracy, iterations, crossover.

Run: ``python benchmarks/bench_leading.py [section ...]`` with sections ``methods``
``rewrite`` ``warm`` ``crossover`` (default: all). Default (Numba) mode, best of
``repeat`` runs, ratios in one process.

- ``methods``: products with the matrix needed to reach a relative residual of 1e-10 by
  restarted Lanczos (`max_eigenpair`, as used) and by shifted power iteration on
  ``S + c I`` (``c`` = Gershgorin bound, so the dominant eigenvalue is ``λmax + c``;
  NumPy loop, capped at 20000 products), on spectra with relative gaps 0.5 … 1e-3 and
  on random symmetric (GOE) and covariance (Wishart) matrices, n = 1000.
- ``rewrite``: value+gradient of ``max(eigvalsh(A))`` (n = 2000; random symmetric,
  covariance, one-factor covariance) and ``norm(A, 2)`` (2000 × 1000), rewritten before
  the gradient (as PyMC does), differentiated first and rewritten when compiled
  (grad-then-compile), and dense (``mode.excluding("spectral")``); median of 5
  interleaved runs, with the errors against dense.
- ``warm``: 50 gradient steps on ``λmax(S + diag(d)) + ½‖d‖²`` (n = 1000), the
  Lanczos vector carried with ``updates`` (warm) or not (cold): mean products per step.
- ``psd``: value+gradient of ``norm(X Xᵀ, 2)`` (``X`` 2000 × 1000, OPENBLAS_NUM_THREADS=1
  advised): the positive-semi-definite rewrite (one Lanczos on ``S = X Xᵀ``) vs Lanczos
  on ``SᵀS`` (``spectral_norm(S)``, what the rewrite gave before) vs dense; products and
  median of 7 interleaved runs.
- ``crossover``: value+gradient time of the Lanczos path (``crossover=0``) vs the dense
  ``eigvalsh`` graph for n = 25 … 300.
"""

import sys

import numpy as np
import pytensor
import pytensor.tensor as pt
from pytensor.compile.mode import get_default_mode
from pytensor.graph import rewrite_graph
from timing import best, median_interleaved

from pytensor_spectral._graph import apply_core
from pytensor_spectral.iterative import max_eigenpair
from pytensor_spectral.svd import LeadingSingularTriplet, spectral_norm
from pytensor_spectral.symmetric import leading_eigenpair, start_vectors


DENSE = get_default_mode().excluding("spectral")


def goe(rng, n):
    X = rng.normal(size=(n, n))
    return (X + X.T) / np.sqrt(2 * n)


def wishart(rng, n):
    Y = rng.normal(size=(2 * n, n))
    return Y.T @ Y / (2 * n)


def spiked(rng, n):
    """Covariance of a one-factor model: a leading eigenvalue well above the bulk."""
    x = rng.normal(size=n) / np.sqrt(n)
    return wishart(rng, n) + 4.0 * np.outer(x, x)


def with_gap(rng, n, gap):
    """Eigenvalues 1, 1 - gap, then uniform in [-1, 1 - 2 gap]: relative gap ``gap/2``."""
    w = np.concatenate([[1.0, 1.0 - gap], rng.uniform(-1.0, 1.0 - 2 * gap, size=n - 2)])
    Q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    return (Q * w) @ Q.T


def power_products(S, tol=1e-10, cap=20000):
    c = np.max(np.sum(np.abs(S), axis=1))
    v = np.cos(2.4 * np.arange(S.shape[0]) + 0.5)
    v /= np.linalg.norm(v)
    for k in range(1, cap + 1):
        w = S @ v
        theta = v @ w
        if np.linalg.norm(w - theta * v) <= tol * c:
            return k
        v = (w + c * v) / np.linalg.norm(w + c * v)
    return cap


def methods(rng):
    n = 1000
    S = pt.matrix("S", shape=(n, n))
    _, _, converged, products = max_eigenpair(
        lambda q: S @ q, n, tol=1e-10, max_restarts=700
    )
    lanczos = pytensor.function([S], [products, converged])
    cases = {f"gap {g:g}": with_gap(rng, n, 2 * g) for g in (0.5, 1e-1, 1e-2, 1e-3)}
    cases |= {"GOE": goe(rng, n), "Wishart": wishart(rng, n)}
    print(f"products to relative residual 1e-10, n = {n}")
    for name, Sn in cases.items():
        p, ok = lanczos(Sn)
        print(
            f"  {name:10s} Lanczos {int(p):5d} (converged {bool(ok)})   power {power_products(Sn):6d}"
        )


def value_and_grad(expr, A, mode=None):
    """Value and gradient; unless ``mode`` is given, the graph is rewritten first (as PyMC
    does before building ``dlogp``) so that the gradient is the implicit one."""
    if mode is None:
        expr = rewrite_graph(expr, include=("canonicalize",))
    return pytensor.function([A], [expr, pytensor.grad(expr, A)], mode=mode)


def rewrite(rng):
    n = 2000
    A = pt.matrix("A", shape=(n, n))
    B = pt.matrix("B", shape=(n, n // 2))
    cases = [
        ("max(eigvalsh(A)) GOE", pt.max(pt.linalg.eigvalsh(A)), A, goe(rng, n)),
        ("max(eigvalsh(A)) Wishart", pt.max(pt.linalg.eigvalsh(A)), A, wishart(rng, n)),
        ("max(eigvalsh(A)) spiked", pt.max(pt.linalg.eigvalsh(A)), A, spiked(rng, n)),
        ("norm(B, 2)", pt.linalg.norm(B, 2), B, rng.normal(size=(n, n // 2))),
    ]
    for name, expr, M, Mn in cases:
        fast = value_and_grad(expr, M)
        late = value_and_grad(
            expr, M, get_default_mode()
        )  # grad first, rewritten when compiled
        dense = value_and_grad(expr, M, DENSE)
        t_fast, t_late, t_dense = median_interleaved(
            [lambda: fast(Mn), lambda: late(Mn), lambda: dense(Mn)], repeats=5
        )
        (a, ga), (b, gb), (_, gc) = fast(Mn), dense(Mn), late(Mn)
        print(
            f"{name:26s} rewritten {1e3 * t_fast:8.1f} ms  grad-then-compile {1e3 * t_late:8.1f} ms  "
            f"dense {1e3 * t_dense:8.1f} ms  speed-up {t_dense / t_fast:5.1f}x / "
            f"{t_dense / t_late:5.1f}x  value rel. err {abs(a - b) / abs(b):.1e}  "
            f"grad max err {np.abs(ga - gb).max():.1e} / {np.abs(gc - gb).max():.1e}"
        )


def warm(rng, steps=50, n=1000, learning_rate=0.1):
    S = pytensor.shared(wishart(rng, n), name="S")
    for warm_start in (False, True):
        d = pytensor.shared(np.zeros(n), name="d")
        v = pytensor.shared(np.ones(n) / np.sqrt(n), name="v")
        lam, v_new, products = leading_eigenpair(
            S + pt.diag(d), v if warm_start else None
        )
        loss = lam + 0.5 * pt.sum(d**2)
        updates = {d: d - learning_rate * pytensor.grad(loss, d)}
        if warm_start:
            updates[v] = v_new
        step = pytensor.function([], [loss, products], updates=updates)
        counts = [int(step()[1]) for _ in range(steps)]
        label = "warm" if warm_start else "cold"
        print(
            f"{label}: mean products per step {np.mean(counts):6.1f}  (first {counts[0]}, last {counts[-1]})"
        )


def crossover(rng):
    for n in (25, 30, 40, 50, 75, 100, 200):
        A = pt.matrix("A", shape=(n, n))
        iterative = value_and_grad(
            leading_eigenpair(A, crossover=0)[0], A, get_default_mode()
        )
        dense = value_and_grad(pt.max(pt.linalg.eigvalsh(A)), A, DENSE)
        line = f"n = {n:4d}"
        for name, make in (("Wishart", wishart), ("GOE", goe)):
            An = make(rng, n)
            t_it, t_dense = best(lambda: iterative(An)), best(lambda: dense(An))
            line += f"  {name} Lanczos {1e3 * t_it:6.2f} ms dense {1e3 * t_dense:6.2f} ms ({t_dense / t_it:4.2f}x)"
        print(line)


def psd(rng, n=2000, repeats=7):
    X = pt.matrix("X", shape=(n, n // 2))
    S = X @ X.T
    Xn = rng.normal(size=(n, n // 2)) / np.sqrt(n)
    routes = {
        "PSD rewrite (Lanczos on S)": value_and_grad(pt.linalg.norm(S, 2), X),
        "Lanczos on SᵀS": value_and_grad(spectral_norm(S), X, get_default_mode()),
        "dense": value_and_grad(pt.linalg.norm(S, 2), X, DENSE),
    }
    products = pytensor.function(
        [X],
        [leading_eigenpair(S)[2], leading_singular_triplet_products(S)],
    )(Xn)
    times = median_interleaved([lambda f=f: f(Xn) for f in routes.values()], repeats)
    want = routes["dense"](Xn)
    print(
        f"products: Lanczos on S {int(products[0])}, on SᵀS {int(products[1])} (2 per step)"
    )
    for (name, fn), t in zip(routes.items(), times, strict=True):
        value, grad = fn(Xn)
        print(
            f"{name:28s} {1e3 * t:8.1f} ms  value rel. err {abs(value - want[0]) / want[0]:.1e}  "
            f"grad max err {np.abs(grad - want[1]).max():.1e}"
        )


def leading_singular_triplet_products(A):
    """Products with ``A`` and ``Aᵀ`` (one each per Lanczos step on ``AᵀA``)."""
    return 2 * apply_core(LeadingSingularTriplet(), A, start_vectors(A, None))[3]


SECTIONS = {
    "methods": methods,
    "rewrite": rewrite,
    "warm": warm,
    "psd": psd,
    "crossover": crossover,
}

if __name__ == "__main__":
    rng = np.random.default_rng(0)
    for section in sys.argv[1:] or SECTIONS:
        print(f"== {section}")
        SECTIONS[section](rng)
