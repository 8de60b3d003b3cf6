"""Stability measures: value+gradient time as ratios to NumPy/SciPy in the same process.

Run: ``python benchmarks/bench_stability.py [n ...]`` (default 200 500). For each ``n``:

- ``spectral_abscissa`` value+gradient (Hessenberg + inverse iteration for the leading
  pair) vs ``numpy.linalg.eigvals``; the alternative Schur-form route (``eigvals`` +
  ``grad(w_re[argmax])``, ``gees`` with Schur vectors + ``trevc``) on the same ratio;
  PyTorch CPU's ``max(eigvals.real)`` value+gradient if torch is installed;
- ``ssa`` value+gradient vs one ``scipy.linalg.schur``, and a root finder that calls
  ``scipy.linalg.solve_continuous_lyapunov`` at every step (Brent on ``tr P(s) = 1/ε``
  over the same bracket, ``xtol`` 1e-12), with the number of Lyapunov solves of each.

Best of ``repeat`` runs, default (Numba) mode, random Gaussian matrices.
"""

import sys

import numpy as np
import pytensor
import pytensor.tensor as pt
import scipy.linalg
from scipy.optimize import brentq
from timing import best

from pytensor_spectral import eigvals, spectral_abscissa, ssa
from pytensor_spectral._lyapunov import ssa as ssa_kernel


def torch_abscissa(An):
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(2)
    At = torch.tensor(An, requires_grad=True)

    def run():
        At.grad = None
        torch.linalg.eigvals(At).real.max().backward()

    return best(run)


def scipy_ssa(An, eps, counter):
    n = An.shape[0]

    def excess(s):
        counter[0] += 1
        P = scipy.linalg.solve_continuous_lyapunov(An - s * np.eye(n), -np.eye(n))
        return 1.0 / np.trace(P) - eps

    alpha = np.linalg.eigvals(An).real.max()
    omega = np.linalg.eigvalsh((An + An.T) / 2).max()
    return brentq(excess, alpha + eps / 2, omega + n * eps / 2, xtol=1e-12)


def main(sizes):
    A = pt.matrix("A")
    alpha = spectral_abscissa(A)
    f_alpha = pytensor.function([A], [alpha, pytensor.grad(alpha, A)])
    w_re, _ = eigvals(A)
    leading = w_re[pt.argmax(w_re)]
    f_schur_route = pytensor.function([A], [leading, pytensor.grad(leading, A)])
    smoothed = ssa(A)
    f_ssa = pytensor.function([A], [smoothed, pytensor.grad(smoothed, A)])
    rng = np.random.default_rng(0)
    for n in sizes:
        An = rng.normal(size=(n, n))
        t_eigvals = best(lambda: np.linalg.eigvals(An))
        t_alpha = best(lambda: f_alpha(An))
        t_schur_route = best(lambda: f_schur_route(An))
        t_torch = torch_abscissa(An)
        torch_ratio = f"{t_torch / t_eigvals:.2f}" if t_torch else "n/a"
        print(
            f"n={n}: numpy eigvals {t_eigvals * 1e3:.1f} ms | spectral_abscissa value+grad "
            f"{t_alpha / t_eigvals:.2f}x | Schur route {t_schur_route / t_eigvals:.2f}x | "
            f"torch {torch_ratio}x"
        )
        eps = 1.5 / n
        t_schur = best(lambda: scipy.linalg.schur(An))
        t_ssa = best(lambda: f_ssa(An))
        counter = [0]
        t_scipy = best(lambda: scipy_ssa(An, eps, counter), number=1, repeat=3)
        evaluations = counter[0] // 4  # best() runs it 1 + 3 times
        solves = ssa_kernel(An, eps)[3]
        print(
            f"n={n}: scipy schur {t_schur * 1e3:.1f} ms | ssa value+grad {t_ssa / t_schur:.2f}x "
            f"schur ({solves} Lyapunov solves) | SciPy Lyapunov root finder "
            f"{t_scipy * 1e3:.0f} ms ({evaluations} evaluations, value only) = "
            f"{t_scipy / t_ssa:.1f}x slower"
        )


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [200, 500])
