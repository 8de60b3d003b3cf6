"""The PyMC example: a VAR(1) with a spectral-radius stability potential."""

import importlib.util

import numpy as np
import pytensor
import pytest

from tests.test_examples import load


pytest.importorskip("pymc")
example = load("stable_var")


@pytest.fixture(scope="module")
def model():
    return example.build_model(example.simulate())


def points(model):
    """The initial point (A = 0) and a stable point near the posterior mode."""
    start = model.initial_point()
    near_mode = {**start, "A": example.TRUE_A + 0.01, "sigma_log__": np.log(0.3)}
    return [start, near_mode]


def test_stability_potential_is_log_one_minus_spectral_radius(model):
    potential = pytensor.function([model["A"]], model.potentials[0])
    for point in points(model):
        rho = np.abs(np.linalg.eigvals(point["A"])).max()
        np.testing.assert_allclose(potential(point["A"]), np.log1p(-rho), rtol=1e-13)
    unstable = {**points(model)[0], "A": 1.2 * np.eye(3)}
    assert potential(unstable["A"]) == -np.inf
    assert model.compile_logp()(unstable) == -np.inf


def test_dlogp_matches_central_differences(model):
    logp = model.compile_logp()
    dlogp = model.compile_dlogp()
    h = 1e-6
    for point in points(model):
        numeric = []
        for name in ("A", "sigma_log__"):
            value = np.asarray(point[name], dtype=float)
            for index in np.ndindex(value.shape):
                step = np.zeros_like(value)
                step[index] = h
                up = logp({**point, name: value + step})
                down = logp({**point, name: value - step})
                numeric.append((up - down) / (2 * h))
        np.testing.assert_allclose(dlogp(point), numeric, rtol=1e-6, atol=1e-6)


def spectral_radii(idata):
    A = idata.posterior["A"].values.reshape(-1, *example.TRUE_A.shape)
    return np.abs(np.linalg.eigvals(A)).max(axis=-1)


SAMPLERS = ["pymc"] + [
    pytest.param(
        name,
        marks=pytest.mark.skipif(
            importlib.util.find_spec(name) is None, reason=f"{name} is not installed"
        ),
    )
    for name in ("nutpie", "numpyro")
]


@pytest.mark.parametrize("nuts_sampler", SAMPLERS)
def test_nuts_draws_are_stable(model, nuts_sampler):
    idata = example.sample(model, draws=200, tune=200, chains=2, seed=1, nuts_sampler=nuts_sampler)
    rho = spectral_radii(idata)
    assert rho.shape == (400,)
    assert np.all(rho < 1.0)
    # The sampler moved, and the posterior concentrates near the truth (ρ ≈ 0.954).
    assert np.std(rho) > 1e-3
    assert abs(np.median(rho) - 0.954) < 0.08
    if nuts_sampler == "pymc":
        stored = idata.posterior["spectral_radius"].values.reshape(-1)
        np.testing.assert_allclose(stored, rho, rtol=1e-12)


def test_without_the_potential_the_posterior_leaves_the_stable_set():
    """Control: the data alone put posterior mass on unstable matrices, so the previous
    test's assertion is the potential's doing."""
    import pymc as pm

    y = example.simulate()
    with pm.Model() as unconstrained:
        A = pm.Normal("A", 0.0, 0.5, shape=(3, 3))
        sigma = pm.HalfNormal("sigma", 1.0)
        pm.Normal("y", mu=y[:-1] @ A.T, sigma=sigma, observed=y[1:])
    idata = example.sample(unconstrained, draws=200, tune=200, chains=2, seed=1)
    assert np.mean(spectral_radii(idata) >= 1.0) > 0.01
