r"""
Bayesian VAR(1) whose transition matrix is kept stable by a spectral-radius prior
=================================================================================

Model for a ``k``-dimensional series:

.. math::

    y_t = A\, y_{t-1} + \varepsilon_t, \quad \varepsilon_t \sim N(0, \sigma^2 I), \qquad
    A_{ij} \sim N(0, 0.5^2), \quad \sigma \sim \text{HalfNormal}(1),

times the stability potential :math:`\log(1 - \rho(A))` on :math:`\rho(A) < 1` and
:math:`-\infty` outside: the prior density is multiplied by :math:`1 - \rho(A)` on the
stable set and is zero outside, so every posterior draw is a stable (mean-reverting)
process. :math:`\rho(A) = \max_i |\lambda_i(A)|` is `spectral_radius`, whose exact
gradient NUTS uses; the data are simulated from a matrix with :math:`\rho \approx 0.95`, close
to the boundary, with a complex pair.

Run: ``python examples/stable_var.py`` (needs the ``pymc`` extra).
"""

import numpy as np
import pymc as pm

from pytensor_spectral import spectral_radius
from pytensor_spectral.demo import stability_potential


TRUE_A = np.array(
    [
        [0.88, -0.42, 0.10],
        [0.42, 0.85, 0.00],
        [0.05, 0.10, 0.50],
    ]
)


def simulate(A=TRUE_A, steps=80, sigma=0.3, seed=0):
    """A series of ``steps`` states of the VAR(1) with transition ``A``, from zero."""
    rng = np.random.default_rng(seed)
    y = np.zeros((steps, A.shape[0]))
    for t in range(1, steps):
        y[t] = A @ y[t - 1] + sigma * rng.normal(size=A.shape[0])
    return y


def build_model(y):
    """The VAR(1) model of the module docstring for the observed series ``y``."""
    k = y.shape[1]
    with pm.Model() as model:
        A = pm.Normal("A", 0.0, 0.5, shape=(k, k))
        sigma = pm.HalfNormal("sigma", 1.0)
        rho = pm.Deterministic("spectral_radius", spectral_radius(A))
        pm.Potential("stability", stability_potential(rho))
        pm.Normal("y", mu=y[:-1] @ A.T, sigma=sigma, observed=y[1:])
    return model


def sample(model, draws=200, tune=200, chains=2, seed=1, nuts_sampler="pymc"):
    """NUTS draws with PyMC's sampler or an external one (``"nutpie"``, ``"numpyro"``).
    PyMC's chains start at ``A = 0`` (stable; ``init="adapt_diag"``, where the default
    jitter could start a chain outside the support); external samplers start their own
    way. nutpie runs the model's Numba functions, numpyro its JAX conversion, whose
    gradient is the ops' own pullback (a JAX custom VJP)."""
    options = {
        "pymc": {"init": "adapt_diag", "cores": 1},
        "numpyro": {
            "nuts": {"chain_method": "vectorized"}
        },  # one CPU device: vmap the chains
    }.get(nuts_sampler, {})
    with model:
        return pm.sample(
            draws=draws,
            tune=tune,
            chains=chains,
            random_seed=seed,
            nuts_sampler=nuts_sampler,
            progressbar=False,
            compute_convergence_checks=False,
            **options,
        )


def main(draws=200, tune=200, seed=1):
    y = simulate()
    idata = sample(build_model(y), draws=draws, tune=tune, seed=seed)
    A = idata.posterior["A"].values.reshape(-1, *TRUE_A.shape)
    rho = np.abs(np.linalg.eigvals(A)).max(axis=-1)
    print(f"true spectral radius {np.abs(np.linalg.eigvals(TRUE_A)).max():.3f}")
    print(f"posterior spectral radius: mean {rho.mean():.3f}, max {rho.max():.3f}")
    print("posterior mean of A:")
    print(np.round(A.mean(axis=0), 2))
    return A


if __name__ == "__main__":
    main()
