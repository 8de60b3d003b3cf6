"""The benchmark report: every speed target as a ratio measured in one process with
single-threaded BLAS, and time against matrix size for the plot in ``docs/benchmarks.md``.

Run: ``python benchmarks/report.py [--repeats R] [--out DIR] [--skip-curves]``. BLAS is
limited to one thread here, before NumPy loads (``OPENBLAS_NUM_THREADS=1``: with two
threads the same ratio was seen to move 4x between runs on these shared machines), for
both sides of every ratio. Each time is the median of ``R`` (default 7) interleaved runs
after a warm-up call (`timing.median_interleaved`).

Targets (value+gradient of the compiled PyTensor function, default Numba mode, against
the anchor's value alone where the anchor has no gradient):

- ``max(eigvalsh(S))`` at n = 2000, rewritten before the gradient as PyMC does
  (``rewrite_graph(..., include=("canonicalize",))``), against the same graph without
  the package's rewrites (``mode.excluding("spectral")``) and against SciPy ARPACK
  ``eigsh(k=1, which="LA", tol=1e-10)``, for a GOE matrix and a Wishart matrix
  ``X Xᵀ/4000`` (``X`` 2000 x 4000); relative error of the value against NumPy;
- ``norm(B, 2)``, ``B`` 2000 x 1000, against ``scipy.sparse.linalg.svds(B, k=1)``;
- ``ssa(A)`` against one ``scipy.linalg.schur(A)``, n = 200 and 500;
- ``eigvals(A)`` with a loss weighting every real and imaginary part (a generic
  cotangent) and ``spectral_abscissa(A)``, against ``numpy.linalg.eigvals``, n = 200
  and 500.

Curves (``--skip-curves`` leaves them out): the leading value for n = 50 … 2000 (GOE)
against dense ``eigvalsh`` (value+gradient, and NumPy's value alone) and ARPACK; the
Schur-based ops for n = 50 … 500 against NumPy ``eigvals``, SciPy ``schur`` and PyTorch
CPU (``eigvals`` value+gradient) where installed. ``--out DIR`` writes
``DIR/results.json``, ``DIR/tables.md`` and ``DIR/times.png`` (``docs/benchmark_results``
is what ``docs/benchmarks.md`` shows).
"""

import os


os.environ["OPENBLAS_NUM_THREADS"] = "1"  # before NumPy loads OpenBLAS
os.environ["OMP_NUM_THREADS"] = "1"

import argparse
import json
import platform
import sys
from pathlib import Path

import numpy as np
import pytensor
import pytensor.tensor as pt
import scipy.linalg
from bench_leading import DENSE, goe, value_and_grad
from scipy.sparse.linalg import eigsh, svds
from timing import median_interleaved

from pytensor_spectral import eigvals, spectral_abscissa, ssa
from pytensor_spectral.symmetric import leading_eigenpair


def wishart(rng, n, samples):
    """``X Xᵀ / samples`` for a Gaussian ``X`` of ``n x samples`` (the issue's X 2000 x
    4000)."""
    X = rng.normal(size=(n, samples))
    return X @ X.T / samples


LEADING_SIZES = (50, 100, 200, 500, 1000, 2000)
SCHUR_SIZES = (50, 100, 200, 300, 500)


def leading_functions(n):
    A = pt.matrix("A", shape=(n, n))
    expr = pt.max(pt.linalg.eigvalsh(A))
    products = pytensor.function([A], leading_eigenpair(A)[2])
    return value_and_grad(expr, A), value_and_grad(expr, A, DENSE), products


def arpack(S):
    return eigsh(S, k=1, which="LA", tol=1e-10, return_eigenvectors=False)


def leading_targets(rng, repeats):
    rows = []
    n = 2000
    ours, dense, products = leading_functions(n)
    for name, S, target_dense in (
        ("GOE", goe(rng, n), 20.0),
        ("Wishart X Xᵀ/4000", wishart(rng, n, 2 * n), 30.0),
    ):
        t_ours, t_dense, t_arpack = median_interleaved(
            [lambda: ours(S), lambda: dense(S), lambda: arpack(S)], repeats
        )
        exact = np.linalg.eigvalsh(S)[-1]
        error = abs(ours(S)[0] - exact) / abs(exact)
        case = f"`max(eigvalsh(S))` value+grad, n = 2000, {name}"
        detail = f"{int(products(S))} products; rel. error {error:.0e}"
        accurate = error <= 1e-10
        rows += [
            speedup_row(
                f"{case} vs dense", t_ours, t_dense, target_dense, detail, accurate
            ),
            ratio_row(f"{case} vs ARPACK `eigsh` value", t_ours, t_arpack, 1.0, detail),
        ]
    B = pt.matrix("B", shape=(n, n // 2))
    spectral = value_and_grad(pt.linalg.norm(B, 2), B)
    Bn = rng.normal(size=(n, n // 2))
    t_ours, t_svds = median_interleaved(
        [lambda: spectral(Bn), lambda: svds(Bn, k=1, return_singular_vectors=False)],
        repeats,
    )
    error = abs(spectral(Bn)[0] - np.linalg.norm(Bn, 2)) / np.linalg.norm(Bn, 2)
    rows.append(
        ratio_row(
            "`norm(B, 2)` value+grad, B 2000 x 1000, vs `svds(B, k=1)` value",
            t_ours,
            t_svds,
            1.0,
            f"rel. error {error:.0e}",
        )
    )
    return rows


def eigvals_loss(A, n, rng):
    """``Σ c_k Re λ_k + d_k Im λ_k`` with fixed random weights: every eigenvalue gets a
    different cotangent, as a general loss gives it."""
    w_re, w_im = eigvals(A)
    c, d = (pt.as_tensor(rng.normal(size=n)) for _ in range(2))
    return pt.sum(c * w_re) + pt.sum(d * w_im)


def schur_functions(n, rng):
    A = pt.matrix("A", shape=(n, n))
    return {
        "eigvals": value_and_grad(eigvals_loss(A, n, rng), A, "NUMBA"),
        "spectral_abscissa": value_and_grad(spectral_abscissa(A), A, "NUMBA"),
        "ssa": value_and_grad(ssa(A), A, "NUMBA"),
    }


def schur_targets(rng, repeats):
    rows = []
    for n in (200, 500):
        fns = schur_functions(n, rng)
        An = rng.normal(size=(n, n))
        calls = [lambda f=f: f(An) for f in fns.values()]
        calls += [lambda: np.linalg.eigvals(An), lambda: scipy.linalg.schur(An)]
        t_eig, t_alpha, t_ssa, t_eigvals, t_schur = median_interleaved(calls, repeats)
        rows += [
            ratio_row(
                f"`ssa` value+grad / `scipy.linalg.schur`, n = {n}", t_ssa, t_schur, 2.0
            ),
            ratio_row(
                f"`eigvals` value+grad / `numpy.linalg.eigvals`, n = {n}",
                t_eig,
                t_eigvals,
                1.4,
            ),
            ratio_row(
                f"`spectral_abscissa` value+grad / `numpy.linalg.eigvals`, n = {n}",
                t_alpha,
                t_eigvals,
                1.1,
            ),
        ]
    return rows


def row(what, ratio, target, met, detail, ours, anchor):
    return dict(
        what=what,
        ratio=ratio,
        target=target,
        met=bool(met),
        detail=detail,
        ours_ms=1e3 * ours,
        anchor_ms=1e3 * anchor,
    )


def ratio_row(what, ours, anchor, bound, detail=""):
    """A target ``ours / anchor ≤ bound`` (times in seconds)."""
    ratio = ours / anchor
    return row(what, ratio, f"≤ {bound:.1f}", ratio <= bound, detail, ours, anchor)


def speedup_row(what, ours, anchor, bound, detail, accurate):
    """A target ``anchor / ours ≥ bound`` that also needs ``accurate`` results."""
    speedup = anchor / ours
    return row(
        what,
        speedup,
        f"≥ {bound:g}x faster",
        speedup >= bound and accurate,
        detail,
        ours,
        anchor,
    )


def torch_eigvals(An):
    """PyTorch CPU ``eigvals`` value+gradient (the same weighted loss), or None."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    At = torch.tensor(An, requires_grad=True)
    weights = torch.tensor(np.random.default_rng(1).normal(size=(2, len(An))))

    def run():
        At.grad = None
        w = torch.linalg.eigvals(At)
        (weights[0] @ w.real + weights[1] @ w.imag).backward()

    return run


def curves(rng, repeats):
    leading = {}
    for n in LEADING_SIZES:
        ours, dense, _ = leading_functions(n)
        S = goe(rng, n)
        times = median_interleaved(
            [
                lambda: ours(S),
                lambda: dense(S),
                lambda: arpack(S),
                lambda: np.linalg.eigvalsh(S),
            ],
            repeats if n < 2000 else 3,
        )
        leading[n] = dict(
            zip(
                (
                    "package value+grad",
                    "dense value+grad",
                    "ARPACK eigsh value",
                    "NumPy eigvalsh value",
                ),
                times,
                strict=True,
            )
        )
        print(
            f"  leading n = {n}: "
            + ", ".join(f"{k} {1e3 * v:.2f} ms" for k, v in leading[n].items()),
            flush=True,
        )
    schur = {}
    for n in SCHUR_SIZES:
        fns = schur_functions(n, rng)
        An = rng.normal(size=(n, n))
        names = [f"{name} value+grad" for name in fns]
        calls = [lambda f=f: f(An) for f in fns.values()]
        names += ["NumPy eigvals value", "SciPy schur"]
        calls += [lambda: np.linalg.eigvals(An), lambda: scipy.linalg.schur(An)]
        torch_run = torch_eigvals(An)
        if torch_run is not None:
            names.append("PyTorch eigvals value+grad")
            calls.append(torch_run)
        schur[n] = dict(zip(names, median_interleaved(calls, repeats), strict=True))
        print(
            f"  Schur n = {n}: "
            + ", ".join(f"{k} {1e3 * v:.2f} ms" for k, v in schur[n].items()),
            flush=True,
        )
    return {"leading": leading, "schur": schur}


def targets_table(rows):
    lines = [
        "| measure | ratio | target | met | package ms | anchor ms | notes |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['what']} | {r['ratio']:.2f} | {r['target']} | "
        f"{'yes' if r['met'] else 'no'} | {r['ours_ms']:.1f} | "
        f"{r['anchor_ms']:.1f} | {r['detail']} |"
        for r in rows
    ]
    return "\n".join(lines)


def curve_table(data):
    lines = []
    for key, title in (
        ("leading", "Leading eigenvalue (GOE)"),
        ("schur", "Schur-based ops (Gaussian A)"),
    ):
        names = list(next(iter(data[key].values())))
        lines += [
            f"**{title}**, ms:",
            "",
            "| n | " + " | ".join(names) + " |",
            "|---" * (len(names) + 1) + "|",
        ]
        for n, times in data[key].items():
            cells = " | ".join(f"{1e3 * times[name]:.2f}" for name in names)
            lines.append(f"| {n} | {cells} |")
        lines.append("")
    return "\n".join(lines)


def plot(data, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, key, title in zip(
        axes,
        ("leading", "schur"),
        ("Leading eigenvalue of a GOE matrix", "Schur-based ops, Gaussian matrix"),
        strict=True,
    ):
        sizes = list(data[key])
        for name in data[key][sizes[0]]:
            style = (
                "-o"
                if "value+grad" in name
                and "dense" not in name
                and ("PyTorch" not in name)
                else "--s"
            )
            ax.loglog(
                sizes,
                [1e3 * data[key][n][name] for n in sizes],
                style,
                label=name,
                markersize=4,
            )
        ax.set_xlabel("n")
        ax.set_ylabel("ms (median, 1 BLAS thread)")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def environment():
    from threadpoolctl import threadpool_info

    blas = sorted(
        {
            f"{p['internal_api']} {p['version']} ({p['num_threads']} thread)"
            for p in threadpool_info()
        }
    )
    return (
        f"{platform.processor() or platform.machine()}, Python "
        f"{platform.python_version()}, NumPy {np.__version__}, SciPy "
        f"{scipy.__version__}, PyTensor {pytensor.__version__}; BLAS: "
        + "; ".join(blas)
    )


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--skip-curves", action="store_true")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    print(environment(), flush=True)
    rows = leading_targets(rng, args.repeats) + schur_targets(rng, args.repeats)
    print(targets_table(rows), flush=True)
    data = {"environment": environment(), "targets": rows}
    if not args.skip_curves:
        data |= curves(rng, args.repeats)
        print(curve_table(data))
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "results.json").write_text(json.dumps(data, indent=1))
        tables = targets_table(rows)
        if not args.skip_curves:
            tables += "\n\n" + curve_table(data)
            plot(data, args.out / "times.png")
        (args.out / "tables.md").write_text(tables + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
