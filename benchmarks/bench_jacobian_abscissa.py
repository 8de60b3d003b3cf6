"""Matrix-free vs dense numerical abscissa of an MLP Jacobian: time and memory.

``f(z) = tanh(W z + b)`` with ``n`` inputs/outputs (default 2000). Compares, value and
gradient with respect to ``W`` and ``b``:

- matrix-free: `jacobian_numerical_abscissa` (restarted Lanczos on ``(J + Jᵀ)/2`` using
  Jacobian-vector and vector-Jacobian products only);
- dense: ``numerical_abscissa(pytensor.gradient.jacobian(f, z))`` (the ``n × n`` Jacobian by
  a scan of ``n`` vector-Jacobian products, then LAPACK ``syevr``).

Time: best of 3 after a warm-up call. Memory: peak resident set growth during one call
after the warm-up (Linux: the peak is reset through ``/proc/self/clear_refs``).

Run: ``python benchmarks/bench_jacobian_abscissa.py [n]``.
"""

import sys
import timeit
from pathlib import Path

import numpy as np
import pytensor
import pytensor.tensor as pt

from pytensor_spectral import jacobian_numerical_abscissa, numerical_abscissa


def _status_kib(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1])
    raise KeyError(field)


def peak_growth_mib(fn):
    """Peak RSS growth (MiB) while ``fn`` runs, or None where /proc is not available."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        baseline = _status_kib("VmRSS")
        fn()
        return (_status_kib("VmHWM") - baseline) / 1024
    except OSError:
        return None


def main(n):
    rng = np.random.default_rng(0)
    z, W, b = pt.vector("z"), pt.matrix("W"), pt.vector("b")
    f = pt.tanh(W @ z + b)
    values = [
        rng.normal(size=n),
        rng.normal(size=(n, n)) / np.sqrt(n),
        rng.normal(size=n),
    ]
    lam, _ = jacobian_numerical_abscissa(f, z)
    dense = numerical_abscissa(pytensor.gradient.jacobian(f, z))
    results = {}
    for name, out in (("matrix-free", lam), ("dense Jacobian", dense)):
        fn = pytensor.function([z, W, b], [out, *pytensor.grad(out, [W, b])])
        value = fn(*values)[0]
        seconds = min(timeit.repeat(lambda fn=fn: fn(*values), number=1, repeat=3))
        memory = peak_growth_mib(lambda fn=fn: fn(*values))
        results[name] = (value, seconds)
        memory_text = f"{memory:.0f} MiB" if memory is not None else "n/a"
        print(
            f"n={n} {name:>14}: ω = {value:.12f}  value+grad {seconds * 1e3:8.1f} ms  "
            f"peak memory growth {memory_text}"
        )
    (v1, t1), (v2, t2) = results.values()
    print(
        f"relative difference {abs(v1 - v2) / abs(v2):.1e}; matrix-free {t2 / t1:.1f}x faster"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
