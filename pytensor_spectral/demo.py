"""Demo: stabilize a feedback system by minimizing its smoothed spectral abscissa.

A linear system ``dx/dt = A(K) x`` with static output feedback ``A(K) = A0 + B K C``
(4 states, 1 input, 2 outputs) is unstable for ``K = 0``. The spectral abscissa
``alpha(A) = max Re λ`` is not smooth (it jumps between eigenvalues), so the demo minimizes
the smoothed spectral abscissa ``ssa(A(K))`` (an upper bound of ``alpha`` that is smooth in
``K``) plus a small gain penalty ``μ‖K‖²`` (without it the optimum pushes one eigenvalue
to ``-∞`` with an enormous gain) with SciPy's BFGS, fed by the exact gradient from
``pytensor.grad``. It prints the
spectrum before and after, the optimizer's iterations, and saves a plot of the
eigenvalues if matplotlib is installed.

Run: ``python -m pytensor_spectral.demo [plot.png]``.
"""

import sys

import numpy as np
import pytensor
import pytensor.tensor as pt
from scipy.optimize import minimize

from pytensor_spectral import eigvals, spectral_abscissa, ssa


A0 = np.array(
    [
        [0.2, 1.0, 0.0, 0.0],
        [-1.0, 0.2, 0.5, 0.0],
        [0.0, 0.0, -0.3, 2.0],
        [0.0, 0.3, -2.0, -0.3],
    ]
)
B = np.array([[0.0], [1.0], [0.0], [1.0]])
C = np.array([[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 1.0, 0.0]])
GAIN_SHAPE = (B.shape[1], C.shape[0])
GAIN_PENALTY = 1e-2


def build():
    """Compile ``k -> (objective, gradient)`` and ``k -> (alpha, w_re, w_im)`` for the flat
    gain ``k``; the objective is ``ssa(A(K)) + μ‖K‖²``."""
    k = pt.vector("k")
    A = A0 + B @ k.reshape(GAIN_SHAPE) @ C
    objective = ssa(A) + GAIN_PENALTY * pt.sum(k**2)
    value_and_grad = pytensor.function([k], [objective, pytensor.grad(objective, k)])
    spectrum = pytensor.function([k], [spectral_abscissa(A), *eigvals(A)])
    return value_and_grad, spectrum


def finite_difference(f, k, h=1e-6):
    return np.array(
        [(f(k + h * e)[0] - f(k - h * e)[0]) / (2 * h) for e in np.eye(k.size)]
    )


def stability_potential(rho):
    r""":math:`\log(1 - \rho)` for :math:`\rho < 1`, else :math:`-\infty`: as a PyMC
    ``Potential`` of a spectral radius, it multiplies the prior density by
    :math:`1 - \rho` on the stable set and is zero outside (used by the examples)."""
    return pt.switch(pt.lt(rho, 1.0), pt.log1p(-rho), -np.inf)


def save_figure(fig, path):
    """Save ``fig`` to ``path`` (120 dpi) and say so; the figure stays open (the
    documentation's gallery collects open figures)."""
    fig.savefig(path, dpi=120, bbox_inches="tight")
    print(f"plot saved to {path}")


def pyplot():
    """``matplotlib.pyplot`` on the file-only Agg backend, or ``None`` (with a message)
    when the optional extra is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(
            "matplotlib not installed: no plot (pip install 'pytensor-spectral[plot]')"
        )
        return None
    return plt


def plot(path, before, after):
    plt = pyplot()
    if plt is None:
        return
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.axvline(0.0, color="grey", lw=0.8)
    ax.scatter(before.real, before.imag, marker="x", label="K = 0")
    ax.scatter(after.real, after.imag, marker="o", label="optimized K")
    ax.set(xlabel="Re λ", ylabel="Im λ", title="Eigenvalues of A0 + B K C")
    ax.legend()
    save_figure(fig, path)


def main(plot_path="demo_eigenvalues.png"):
    value_and_grad, spectrum = build()
    k0 = np.zeros(np.prod(GAIN_SHAPE))
    alpha0, w_re, w_im = spectrum(k0)
    before = w_re + 1j * w_im
    print("A(K=0) eigenvalues:", np.round(before, 4))
    print(f"spectral abscissa before: {alpha0:+.4f} (unstable)")
    s0, g0 = value_and_grad(k0)
    print(f"objective at K = 0: {s0:.4f}")
    print("d objective / dK, exact gradient    :", g0)
    print(
        "d objective / dK, finite differences:", finite_difference(value_and_grad, k0)
    )

    def report(intermediate_result):
        alpha = spectrum(intermediate_result.x)[0]
        print(
            f"  iter {report.n:2d}: objective {intermediate_result.fun:+.5f}  alpha = {alpha:+.5f}"
        )
        report.n += 1

    report.n = 1
    result = minimize(value_and_grad, k0, jac=True, method="BFGS", callback=report)
    alpha, w_re, w_im = spectrum(result.x)
    after = w_re + 1j * w_im
    print(
        f"BFGS: {result.nit} iterations, {result.nfev} evaluations ({result.message})"
    )
    print("K =", np.round(result.x.reshape(GAIN_SHAPE), 4))
    print("A(K) eigenvalues:", np.round(after, 4))
    print(
        f"spectral abscissa after: {alpha:+.4f}",
        "(stable)" if alpha < 0 else "(NOT stable)",
    )
    plot(plot_path, before, after)
    return alpha0, alpha


if __name__ == "__main__":
    main(*sys.argv[1:])
