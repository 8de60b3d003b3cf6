"""Pseudospectral abscissa and distance to instability: value+gradient time as a ratio to
``numpy.linalg.eigvals`` of the same matrix, with the certificate rounds.

Run: ``OPENBLAS_NUM_THREADS=1 python benchmarks/bench_pseudospectra.py [n ...]`` (default
50 100 200). For each ``n``: Gaussian ``A / √n`` (``α_ε`` at ``ε = 0.1``), the same shifted
to ``α = −0.3`` (``β``), the Grcar matrix (``ε = 1e-4``); median of interleaved runs of the
compiled value+gradient (default Numba mode) and of ``eigvals``. ``rounds``: certificate
rounds that found more of the level set (each one restarts the local iteration).
"""

import sys

import numpy as np
import pytensor
import pytensor.tensor as pt
from timing import median_interleaved

from pytensor_spectral import (
    _pseudospectra,
    distance_to_instability,
    pseudospectral_abscissa,
)


def compiled(function):
    A = pt.matrix("A")
    out = function(A)
    return pytensor.function([A], [out, pytensor.grad(out, A)])


def grcar(n):
    return -np.eye(n, k=-1) + sum(np.eye(n, k=j) for j in range(4))


def main(sizes=(50, 100, 200), repeats=7):
    abscissa = compiled(lambda A: pseudospectral_abscissa(A, 0.1))
    abscissa_grcar = compiled(lambda A: pseudospectral_abscissa(A, 1e-4))
    distance = compiled(distance_to_instability)
    rng = np.random.default_rng(0)
    print("| n | matrix | measure | value+grad / eigvals | rounds |")
    print("|---|---|---|---|---|")
    for n in sizes:
        A = rng.normal(size=(n, n)) / np.sqrt(n)
        S = A - (np.linalg.eigvals(A).real.max() + 0.3) * np.eye(n)
        cases = [
            ("Gaussian", "α_ε (ε = 0.1)", abscissa, A),
            ("Gaussian, α = −0.3", "β", distance, S),
            ("Grcar", "α_ε (ε = 1e-4)", abscissa_grcar, grcar(n)),
        ]
        for matrix, measure, fn, M in cases:
            t_op, t_eig = median_interleaved(
                [lambda: fn(M), lambda: np.linalg.eigvals(M)], repeats
            )
            if measure == "β":
                rounds = _pseudospectra.distance_to_instability(M)[2]
            else:
                eps = 0.1 if matrix == "Gaussian" else 1e-4
                rounds = _pseudospectra.pseudospectral_abscissa(M, eps)[3]
            print(f"| {n} | {matrix} | {measure} | {t_op / t_eig:.1f}× | {rounds} |")


if __name__ == "__main__":
    main(tuple(int(n) for n in sys.argv[1:]) or (50, 100, 200))
