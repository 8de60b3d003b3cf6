"""
Robust static output feedback: maximize the distance to instability
===================================================================

The README demo (`pytensor_spectral.demo`) finds a gain ``K`` that makes
``A(K) = A0 + B K C`` stable by minimizing its smoothed spectral abscissa. Stable is not
robust: a complex perturbation of norm ``β(A(K))`` (the distance to instability) makes it
unstable again. Starting from the demo's gain, this example maximizes
``β(A(K)) - μ‖K‖²`` with SciPy's BFGS on the exact gradient of `distance_to_instability`,
then prints the spectral abscissa ``α``, the pseudospectral abscissa ``α_ε`` and ``β``
before and after, and plots the ε-pseudospectra before/after if matplotlib is installed.

Run: ``python examples/robust_feedback.py [plot.png]``.
"""

import sys

import numpy as np
import pytensor
import pytensor.tensor as pt
from scipy.optimize import minimize

from pytensor_spectral import (
    distance_to_instability,
    pseudospectral_abscissa,
    spectral_abscissa,
    ssa,
)
from pytensor_spectral.demo import (
    A0,
    GAIN_PENALTY,
    GAIN_SHAPE,
    B,
    C,
    pyplot,
    save_figure,
)


EPS = 0.1  # the perturbation size of the reported pseudospectral abscissa


def closed_loop(k):
    return A0 + B @ k.reshape(GAIN_SHAPE) @ C


def stabilizing_gain():
    """The README demo's optimization: ``ssa(A(K)) + μ‖K‖²`` by BFGS from ``K = 0``."""
    k = pt.vector("k")
    objective = ssa(closed_loop(k)) + GAIN_PENALTY * pt.sum(k**2)
    f = pytensor.function([k], [objective, pytensor.grad(objective, k)])
    return minimize(f, np.zeros(np.prod(GAIN_SHAPE)), jac=True, method="BFGS").x


def build(penalty):
    """``k -> (-β + μ‖K‖², gradient)`` and ``k -> (α, α_ε, β)``."""
    k = pt.vector("k")
    A = closed_loop(k)
    beta = distance_to_instability(A)
    objective = -beta + penalty * pt.sum(k**2)
    value_and_grad = pytensor.function([k], [objective, pytensor.grad(objective, k)])
    measures = pytensor.function(
        [k], [spectral_abscissa(A), pseudospectral_abscissa(A, EPS), beta]
    )
    return value_and_grad, measures


def plot(path, matrices, labels):
    plt = pyplot()
    if plt is None:
        return
    x, y = np.meshgrid(np.linspace(-3, 1.5, 181), np.linspace(-3, 3, 181))
    z = x + 1j * y
    fig, axes = plt.subplots(1, len(matrices), figsize=(9, 4), sharey=True)
    for ax, A, label in zip(axes, matrices, labels, strict=True):
        M = z[..., None, None] * np.eye(len(A)) - A
        s = np.linalg.svd(M, compute_uv=False)[..., -1]
        contours = ax.contour(x, y, np.log10(s), levels=[-2, -1.5, -1, -0.5])
        ax.clabel(contours, fmt=lambda v: f"ε=1e{v:g}")
        w = np.linalg.eigvals(A)
        ax.plot(w.real, w.imag, "k.")
        ax.axvline(0.0, color="grey", lw=0.8)
        ax.set(title=label, xlabel="Re z")
    axes[0].set_ylabel("Im z")
    save_figure(fig, path)


def main(plot_path="robust_pseudospectra.png", penalty=1e-3):
    k_stable = stabilizing_gain()
    value_and_grad, measures = build(penalty)
    before = measures(k_stable)
    result = minimize(value_and_grad, k_stable, jac=True, method="BFGS")
    after = measures(result.x)
    print(f"BFGS: {result.nit} iterations, {result.nfev} evaluations")
    print("K stabilizing:", np.round(k_stable, 4), " K robust:", np.round(result.x, 4))
    for name, values in (("stabilizing", before), ("robust", after)):
        alpha, alpha_eps, beta = (float(v) for v in values)
        print(
            f"{name:>11}: alpha = {alpha:+.4f}  alpha_eps(eps={EPS}) = {alpha_eps:+.4f}"
            f"  beta = {beta:.4f}"
        )
    plot(
        plot_path,
        [closed_loop(k_stable), closed_loop(result.x)],
        ["stabilizing K (ssa)", "robust K (max β)"],
    )
    return before, after


if __name__ == "__main__":
    main(*sys.argv[1:])
