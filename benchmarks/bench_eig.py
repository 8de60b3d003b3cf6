"""Value+gradient of `eigvals`/`eig` as ratios to NumPy in the same process.

Run: ``python benchmarks/bench_eig.py [n ...]``. Prints, for each ``n``:
- eigenvalues: ``sum(w_re)`` value+gradient vs ``numpy.linalg.eigvals``;
- eigenvectors: ``sum(w_re) + Σ_ik i |V_ik|²``, value+gradient vs ``numpy.linalg.eig``;
- the forward-only ``eigvals`` graph vs ``numpy.linalg.eigvals``;
- PyTorch CPU's ``linalg.eigvals``/``linalg.eig`` value+gradient on the same ratios, if torch
  is installed.
Best of ``repeat`` runs (``timeit``), default (Numba) mode.
"""

import sys

import numpy as np
import pytensor
import pytensor.tensor as pt
from timing import best

from pytensor_spectral import eig, eigvals


def torch_times(An):
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(2)
    At = torch.tensor(An, requires_grad=True)
    weights = torch.tensor(np.arange(An.shape[0], dtype=float))[:, None]

    def values():
        At.grad = None
        torch.linalg.eigvals(At).real.sum().backward()

    def vectors():
        At.grad = None
        w, V = torch.linalg.eig(At)
        (w.real.sum() + (weights * V.abs() ** 2).sum()).backward()

    return best(values), best(vectors)


def main(sizes):
    A = pt.matrix("A")
    w_re, w_im = eigvals(A)
    f_vals = pytensor.function([A], [w_re, pytensor.grad(w_re.sum(), A)])
    f_fwd = pytensor.function([A], [w_re, w_im])
    outs = eig(A)
    # gauge-invariant (PyTorch rejects others): sum(w_re) + Σ_ik i |V_ik|²
    weights = pt.arange(A.shape[0], dtype="float64")[:, None]
    loss = outs[0].sum() + (weights * (outs[2] ** 2 + outs[3] ** 2)).sum()
    f_vecs = pytensor.function([A], [*outs, pytensor.grad(loss, A)])
    rng = np.random.default_rng(0)
    print(
        f"{'n':>5} {'eigvals ms':>10} {'vals+grad':>10} {'fwd only':>9} {'eig ms':>8} {'vecs+grad':>10} {'torch vals':>10} {'torch vecs':>10}"
    )
    for n in sizes:
        An = rng.normal(size=(n, n))
        t_np_vals = best(lambda: np.linalg.eigvals(An))
        t_np_eig = best(lambda: np.linalg.eig(An))
        r_vals = best(lambda: f_vals(An)) / t_np_vals
        r_fwd = best(lambda: f_fwd(An)) / t_np_vals
        r_vecs = best(lambda: f_vecs(An)) / t_np_eig
        torch_t = torch_times(An)
        tv, te = (
            (f"{torch_t[0] / t_np_vals:.2f}x", f"{torch_t[1] / t_np_eig:.2f}x")
            if torch_t
            else ("-", "-")
        )
        print(
            f"{n:>5} {t_np_vals * 1e3:>10.2f} {r_vals:>9.2f}x {r_fwd:>8.2f}x "
            f"{t_np_eig * 1e3:>8.2f} {r_vecs:>9.2f}x {tv:>10} {te:>10}"
        )


if __name__ == "__main__":
    main([int(x) for x in sys.argv[1:]] or [50, 200, 500])
