"""Second derivatives: Hessian-vector products as a ratio to value+gradient.

Run: ``OPENBLAS_NUM_THREADS=1 python benchmarks/bench_second_order.py [n] [n_leading]``
(defaults 200 and 2000). Default (Numba) mode, one process, median of ``repeats``
interleaved runs (each run times every function once, so load on the machine hits all
of them alike).

- ``spectral_abscissa``, an ``eigvals`` loss (``Σ|λ|² + Σ sin Re λ``), ``ssa``: HVP
  (``hessian_vector_product``, reverse over reverse) / value+gradient, n = 200.
- ``max(eigvalsh(S))`` at n = 2000 (GOE), rewritten before differentiating as PyMC does
  (Lanczos + CG curvature solve) vs dense (``excluding("spectral")``: PyTensor's ``eigh``
  gradient): HVP time of each, and the relative difference of the two HVPs.
"""

import sys

import numpy as np
import pytensor
import pytensor.tensor as pt
from pytensor.compile.mode import get_default_mode
from pytensor.gradient import grad, hessian_vector_product
from pytensor.graph import rewrite_graph
from timing import median_interleaved

from pytensor_spectral import eigvals, spectral_abscissa, ssa


DENSE = get_default_mode().excluding("spectral")


def eigvals_loss(A):
    w_re, w_im = eigvals(A)
    return pt.sum(w_re**2 + w_im**2) + pt.sum(pt.sin(w_re))


def compiled(f, n, mode=None, rewrite=False):
    """``(value+gradient, HVP)`` functions of ``x`` (and ``p``) for ``f(x.reshape(n, n))``."""
    x, p = pt.vector("x", shape=(n * n,)), pt.vector("p", shape=(n * n,))
    y = f(x.reshape((n, n)))
    if rewrite:
        y = rewrite_graph(y, include=("canonicalize",))
    first = pytensor.function([x], [y, grad(y, x)], mode=mode)
    second = pytensor.function([x, p], hessian_vector_product(y, x, p), mode=mode)
    return first, second


def schur_based(n, repeats=7):
    rng = np.random.default_rng(0)
    x, p = rng.normal(size=n * n), rng.normal(size=n * n)
    names = ["spectral_abscissa", "eigvals loss", "ssa"]
    functions = [spectral_abscissa, eigvals_loss, lambda A: ssa(A)]
    calls = []
    for f in functions:
        first, second = compiled(f, n)
        calls += [lambda first=first: first(x), lambda second=second: second(x, p)]
    times = median_interleaved(calls, repeats)
    print(f"n = {n}, median of {repeats} interleaved runs")
    for k, name in enumerate(names):
        vg, hvp = times[2 * k], times[2 * k + 1]
        print(
            f"  {name:18s} value+grad {vg * 1e3:8.1f} ms   HVP {hvp * 1e3:8.1f} ms   ratio {hvp / vg:5.2f}"
        )


def leading(n, repeats=5):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(n, n))
    x = ((X + X.T) / np.sqrt(2 * n)).ravel()
    p = rng.normal(size=n * n)
    f = lambda A: pt.max(pt.linalg.eigvalsh(A))  # noqa: E731
    _, fast = compiled(f, n, rewrite=True)
    _, dense = compiled(f, n, mode=DENSE)
    hp_fast, hp_dense = fast(x, p), dense(x, p)
    t_fast, t_dense = median_interleaved(
        [lambda: fast(x, p), lambda: dense(x, p)], repeats
    )
    error = np.abs(hp_fast - hp_dense).max() / np.abs(hp_dense).max()
    print(f"max(eigvalsh(S)) HVP, n = {n} (GOE), median of {repeats} interleaved runs")
    print(
        f"  Lanczos + CG {t_fast * 1e3:8.1f} ms   dense eigh {t_dense * 1e3:8.1f} ms   "
        f"speed-up {t_dense / t_fast:5.1f}   max rel. difference {error:.1e}"
    )


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    schur_based(args[0] if args else 200)
    leading(args[1] if len(args) > 1 else 2000)
