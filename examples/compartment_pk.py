r"""
Oral-dosing pharmacokinetics: a three-compartment linear ODE solved with eig
============================================================================

Compartments: the gut (depot) :math:`g`, the central (plasma) compartment :math:`c` and
a peripheral tissue :math:`p`. The amounts :math:`x = (g, c, p)` follow
:math:`\dot x = K x` with

.. math::

    K = \begin{pmatrix} -k_a & 0 & 0 \\ k_a & -(k_{10} + k_{12}) & k_{21} \\
        0 & k_{12} & -k_{21} \end{pmatrix},

absorption :math:`k_a`, elimination :math:`k_{10}` and the exchange rates
:math:`k_{12}, k_{21}`. Each oral dose :math:`D` at time :math:`t_d` adds
:math:`D e_g` to the state, so by superposition

.. math::

    x(t) = \sum_{t_d \le t} e^{K (t - t_d)} D e_g
         = \sum_{t_d \le t} V \operatorname{diag}\big(e^{\lambda (t - t_d)}\big)
           V^{-1} D e_g,

with the eigendecomposition :math:`K = V \operatorname{diag}(\lambda) V^{-1}` from
`eig` (its eigenvector gradients are what NUTS differentiates) and one linear solve
for :math:`V^{-1} D e_g`. The spectrum of :math:`K` is real: :math:`-k_a` and the two
eigenvalues of the central/peripheral block, whose off-diagonal entries are positive.
The plasma concentration :math:`x_c / V_c` is observed with log-normal noise.

The same model written with :func:`pytensor.tensor.linalg.expm` of every
:math:`K (t - t_d)` is the reference: `concentrations` agree to 1e-10 and
`gradient_evaluations_per_second` compares the two routes. The eigen route needs
distinct eigenvalues: as :math:`k_a` approaches one of the two disposition eigenvalues,
:math:`V` becomes ill-conditioned, and the gradient at an exactly repeated eigenvalue
raises. The matrix exponential has no such restriction.

Run: ``python examples/compartment_pk.py [plot.png]`` (needs the ``pymc`` extra; the
``plot`` extra for the figure of the fit).
"""

import sys
import timeit

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from pytensor_spectral import eig


TRUE_RATES = {"ka": 1.2, "k10": 0.25, "k12": 0.4, "k21": 0.15}
TRUE_VOLUME = 20.0  # litres
DOSE_TIMES = np.array([0.0, 12.0])  # hours
DOSE = 100.0  # mg
OBSERVATION_TIMES = np.array(
    [0.5, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 11.5, 12.5, 13.0, 14.0, 16.0, 20.0, 24.0, 36.0]
)


def rate_matrix(ka, k10, k12, k21):
    """The matrix ``K`` of the module docstring, a PyTensor expression of the rates."""
    zero = ka * 0
    return pt.stack(
        [
            pt.stack([-ka, zero, zero]),
            pt.stack([ka, -(k10 + k12), k21]),
            pt.stack([zero, k12, -k21]),
        ]
    )


def _elapsed(times=OBSERVATION_TIMES, dose_times=DOSE_TIMES):
    """``(len(times), len(dose_times))`` times since each dose, and which doses count."""
    elapsed = times[:, None] - dose_times[None, :]
    return np.maximum(elapsed, 0.0), elapsed >= 0


def central_amount_eig(K, times=OBSERVATION_TIMES, dose_times=DOSE_TIMES, dose=DOSE):
    r"""Amount in the central compartment at ``times`` through `eig` of ``K``."""
    w_re, _, v_re, _ = eig(K)  # real spectrum: the imaginary parts are zero
    coefficients = pt.linalg.solve(v_re, pt.as_tensor([dose, 0.0, 0.0]))
    elapsed, given = _elapsed(times, dose_times)
    modes = pt.exp(w_re * elapsed[..., None]) * coefficients  # (times, doses, 3)
    central = pt.sum(modes * v_re[1], axis=-1)
    return pt.sum(pt.where(given, central, 0.0), axis=-1)


def central_amount_expm(K, times=OBSERVATION_TIMES, dose_times=DOSE_TIMES, dose=DOSE):
    """The same amounts through :func:`pytensor.tensor.linalg.expm` of each ``K Δt``."""
    elapsed, given = _elapsed(times, dose_times)
    propagators = pt.linalg.expm(K * elapsed[..., None, None])  # (times, doses, 3, 3)
    central = dose * propagators[..., 1, 0]
    return pt.sum(pt.where(given, central, 0.0), axis=-1)


def simulate(sigma=0.1, seed=0):
    """Observed concentrations (mg/L) from the true rates, with log-normal noise."""
    K = rate_matrix(*(pt.as_tensor(v) for v in TRUE_RATES.values()))
    amounts = central_amount_expm(K).eval()
    rng = np.random.default_rng(seed)
    return amounts / TRUE_VOLUME * np.exp(sigma * rng.normal(size=amounts.shape))


def build_model(concentrations, route="eig"):
    """Log-normal likelihood of ``concentrations``; ``route`` ``"eig"`` or ``"expm"``.

    The four log-rates and the log-volume have normal priors centred a factor
    ``e^{0.5}`` away from the truth, and the noise scale a half-normal prior.
    """
    solve = {"eig": central_amount_eig, "expm": central_amount_expm}[route]
    with pm.Model() as model:
        log_rates = {
            name: pm.Normal(f"log_{name}", np.log(value) + 0.5, 1.0)
            for name, value in TRUE_RATES.items()
        }
        log_volume = pm.Normal("log_V", np.log(TRUE_VOLUME) - 0.5, 1.0)
        sigma = pm.HalfNormal("sigma", 0.5)
        rates = {
            name: pm.Deterministic(name, pt.exp(v)) for name, v in log_rates.items()
        }
        K = rate_matrix(**rates)
        mean = solve(K) / pt.exp(log_volume)
        pm.LogNormal("c", mu=pt.log(mean), sigma=sigma, observed=concentrations)
    return model


def gradient_evaluations_per_second(model, repeats=7, number=200):
    """Median rate of the model's compiled log-density gradient at its initial point."""
    dlogp = model.compile_dlogp()
    point = model.initial_point()
    dlogp(point)  # compile and warm up
    times = timeit.repeat(lambda: dlogp(point), repeat=repeats, number=number)
    return number / float(np.median(times))


def sample(model, draws=300, tune=300, chains=2, seed=1):
    """NUTS draws with PyMC's sampler."""
    with model:
        return pm.sample(
            draws=draws,
            tune=tune,
            chains=chains,
            cores=1,
            random_seed=seed,
            progressbar=False,
            compute_convergence_checks=False,
        )


def main(plot_path=None, draws=300, tune=300, seed=1):
    """Fit the eig-route model, print the posterior rates and the speed of both routes."""
    observed = simulate()
    model = build_model(observed)
    idata = sample(model, draws=draws, tune=tune, seed=seed)
    post = idata.posterior
    for name, value in TRUE_RATES.items():
        lo, hi = np.quantile(post[name].values, [0.05, 0.95])
        print(f"{name}: true {value:.3f}, 90% interval [{lo:.3f}, {hi:.3f}]")
    rates = {
        "eig": gradient_evaluations_per_second(model),
        "expm": gradient_evaluations_per_second(build_model(observed, "expm")),
    }
    print(
        f"gradient evaluations per second: eig {rates['eig']:.0f}, "
        f"expm {rates['expm']:.0f} ({rates['eig'] / rates['expm']:.1f}x)"
    )
    if plot_path is not None:
        _plot(observed, post, plot_path)
    return idata, rates


def _plot(observed, post, path):
    """Observed concentrations and posterior-median curve (needs matplotlib)."""
    from pytensor_spectral.demo import pyplot, save_figure

    plt = pyplot()
    if plt is None:
        return
    times = np.linspace(0.0, 36.0, 200)
    medians = {name: float(np.median(post[name].values)) for name in TRUE_RATES}
    K = rate_matrix(*(pt.as_tensor(medians[name]) for name in TRUE_RATES))
    volume = float(np.exp(np.median(post["log_V"].values)))
    curve = central_amount_eig(K, times=times).eval() / volume
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(OBSERVATION_TIMES, observed, "o", label="observed")
    ax.plot(times, curve, label="posterior median (eig route)")
    ax.set(xlabel="time (h)", ylabel="plasma concentration (mg/L)")
    ax.legend()
    fig.tight_layout()
    save_figure(fig, path)


if __name__ == "__main__":
    main(*sys.argv[1:])
