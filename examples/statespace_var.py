r"""
A stationary Bayesian VAR(2) of US output, consumption and investment (pymc-extras)
===================================================================================

The data are the quarterly US macro series that ship with statsmodels
(``statsmodels.datasets.macrodata``, 1959–2009): real GDP, real consumption and real
investment, as 100 × log differences (quarterly growth in percent), demeaned. The model is
pymc-extras' `BayesianVARMAX` of order ``(2, 0)`` with stationary initialization: the
initial state covariance solves the discrete Lyapunov equation of the transition matrix
``T`` (the :math:`6 \times 6` companion matrix of the two lag matrices), which exists only
if ``T`` is stationary, :math:`\rho(T) = \max_i |\lambda_i(T)| < 1`. pymc-extras warns that
the probability of drawing a stationary ``T`` from independent priors on the lag
coefficients goes to zero as the order grows, and at a non-stationary draw the
likelihood fails.

The stationarity prior is the potential :math:`\log(1 - \rho(T))` on :math:`\rho(T) < 1`
(:math:`-\infty` outside; `pytensor_spectral.demo.stability_potential`): it multiplies the prior
density by :math:`1 - \rho(T)`, is differentiable through `spectral_radius`, and makes
every posterior draw stationary. The model records the eigenvalue moduli of ``T`` as a
Deterministic from `eigvals` (``T`` is not symmetric, so ``pt.linalg.eigvalsh(T)``,
which reads one triangle only, answers a different matrix: `eigvalsh_misreading`).

`main` samples the model with and without the potential and reports, for the model
without it, how many prior draws are non-stationary. Measured (this machine, 2 chains ×
200 draws after 200 tuning steps, seed 1): with and without the potential all 400 draws
are stationary (max ρ(T) ≈ 0.8) with no divergences — these data lie well inside the
stationary set and the stationary-initialization likelihood is itself a wall (NaN
outside), so without the potential NUTS rejects what crosses it. The potential turns
that wall into a smooth barrier (for a VAR(4): 9 against 33 divergent warm-up
transitions) and makes the prior itself stationary, where independent ``N(0, 0.5²)`` lag
coefficients are non-stationary in 30 % (VAR(1)), 79 % (VAR(2)) and 99.8 % (VAR(4)) of
2000 prior draws. The ``eigvalsh`` reading of the posterior ``T`` reports a "spectral
radius" of about 3.

Run: ``python examples/statespace_var.py [plot.png]`` (needs the ``pymc`` and
``statespace`` extras, ``plot`` for the figure).
"""

import sys
import warnings

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt

from pytensor_spectral import eigvals, spectral_radius
from pytensor_spectral.demo import stability_potential


SERIES = ["realgdp", "realcons", "realinv"]


def load_data():
    """Quarterly growth (100 × log difference, demeaned) of `SERIES`, 202 × 3."""
    from statsmodels.datasets import macrodata

    levels = macrodata.load_pandas().data
    levels.index = pd.period_range("1959Q1", periods=len(levels), freq="Q")
    levels.index = levels.index.to_timestamp()
    growth = (100 * np.log(levels[SERIES])).diff().dropna()
    return growth - growth.mean()


def build_model(data, order=2, stationarity=True, ar_scale=0.5):
    """The VAR of the module docstring; ``stationarity=False`` drops the potential.

    Lag coefficients ``N(0, ar_scale²)``, shock covariance with an LKJ(2) prior and
    exponential(1) scales. Deterministics: ``spectral_radius`` and
    ``eigenvalue_modulus`` (all moduli of the eigenvalues of ``T``).
    """
    from pymc_extras.statespace import BayesianVARMAX

    k = data.shape[1]
    with pm.Model() as model:
        var = BayesianVARMAX(
            order=(order, 0),
            endog_names=list(data.columns),
            stationary_initialization=True,
            measurement_error=False,
            verbose=False,
        )
        model.add_coords(var.coords)
        pm.Normal("ar_params", 0.0, ar_scale, dims=var.param_dims["ar_params"])
        scales = pm.Exponential.dist(1.0, shape=k)
        chol, _, _ = pm.LKJCholeskyCov(
            "state_chol", n=k, eta=2.0, sd_dist=scales, compute_corr=True
        )
        pm.Deterministic("state_cov", chol @ chol.T, dims=var.param_dims["state_cov"])
        var.build_statespace_graph(data)
        T = var.unpack_statespace()[4]
        w_re, w_im = eigvals(T)
        pm.Deterministic("eigenvalue_modulus", pt.sqrt(w_re**2 + w_im**2))
        rho = pm.Deterministic("spectral_radius", spectral_radius(T))
        if stationarity:
            pm.Potential("stationarity", stability_potential(rho))
    return model


def sample(model, draws=200, tune=200, chains=2, seed=1, init="adapt_diag"):
    """NUTS draws. ``init="adapt_diag"`` starts every chain at zero lag coefficients
    (stationary); PyMC's default jitter can start outside the stationary set."""
    with model:
        return pm.sample(
            draws=draws,
            tune=tune,
            chains=chains,
            cores=1,
            init=init,
            random_seed=seed,
            progressbar=False,
            compute_convergence_checks=False,
        )


def nonstationary_prior_fraction(model, draws=2000, seed=0):
    """Fraction of prior draws (the potential is not part of the prior predictive) with
    :math:`\\rho(T) \\ge 1`."""
    with model, warnings.catch_warnings():
        warnings.filterwarnings("ignore", "The effect of Potentials", UserWarning)
        prior = pm.sample_prior_predictive(
            draws, var_names=["spectral_radius"], random_seed=seed
        ).prior
    return float((prior["spectral_radius"].values >= 1.0).mean())


def companion(ar_params):
    """Transition matrices ``[[A_1, …, A_p], [I, 0]]`` (NumPy) from ``ar_params`` draws
    ``(..., k, p, k)`` with ``ar_params[..., i, l, j] = (A_{l+1})_{ij}``."""
    *batch, k, p, _ = ar_params.shape
    T = np.zeros((*batch, k * p, k * p))
    T[..., :k, :] = ar_params.reshape(*batch, k, p * k)
    T[..., k:, :-k] = np.eye(k * (p - 1))
    return T


def eigvalsh_misreading(T):
    """``max |eigvalsh(T)|`` (what reading one triangle of ``T`` gives) and the true
    spectral radius of the non-symmetric ``T``."""
    wrong = np.abs(np.linalg.eigvalsh(T)).max(axis=-1)
    return wrong, np.abs(np.linalg.eigvals(T)).max(axis=-1)


def main(plot_path=None, draws=200, tune=200, seed=1, orders=(1, 2, 4)):
    """Fit the VAR(2) with and without the stationarity potential, report draws,
    divergences and the ``eigvalsh`` misreading, and the non-stationary fraction of prior
    draws for each of ``orders``."""
    data = load_data()
    results = {}
    for stationarity in (True, False):
        label = "with" if stationarity else "without"
        model = build_model(data, stationarity=stationarity)
        idata = sample(model, draws=draws, tune=tune, seed=seed)
        results[label] = idata
        rho = idata.posterior["spectral_radius"].values
        wrong, _ = eigvalsh_misreading(companion(idata.posterior["ar_params"].values))
        print(
            f"{label} the stationarity potential: {rho.size} draws, "
            f"{int((rho >= 1).sum())} non-stationary, max ρ(T) {rho.max():.3f}, "
            f"{int(idata.sample_stats['diverging'].sum())} divergences; "
            f"max |eigvalsh(T)| would say {wrong.max():.3f}"
        )
    prior = {}
    for order in orders:
        model = build_model(data, order=order, stationarity=False)
        prior[order] = nonstationary_prior_fraction(model)
        print(f"VAR({order}): {prior[order]:.1%} of prior draws are non-stationary")
    if plot_path is not None:
        plot(results["with"], plot_path)
    return results, prior


def plot(idata, path):
    """Eigenvalues of the posterior transition matrices and the unit circle."""
    from pytensor_spectral.demo import pyplot, save_figure

    plt = pyplot()
    if plt is None:
        return
    w = np.linalg.eigvals(companion(idata.posterior["ar_params"].values)).ravel()
    angle = np.linspace(0, 2 * np.pi, 400)
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 4))
    left.plot(np.cos(angle), np.sin(angle), color="grey", lw=0.8)
    left.plot(w.real, w.imag, ".", ms=2, alpha=0.3)
    left.set(xlabel="Re λ(T)", ylabel="Im λ(T)", aspect="equal")
    left.set_title("posterior eigenvalues of T")
    right.hist(idata.posterior["spectral_radius"].values.ravel(), bins=40)
    right.axvline(1.0, color="grey", lw=0.8)
    right.set(xlabel="ρ(T)", title="posterior spectral radius")
    fig.tight_layout()
    save_figure(fig, path)


if __name__ == "__main__":
    main(*sys.argv[1:])
