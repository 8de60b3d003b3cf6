"""The PyMC example: a VAR(1) with a spectral-radius stability potential."""

import importlib.util
import inspect

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
    idata = example.sample(
        model, draws=200, tune=200, chains=2, seed=1, nuts_sampler=nuts_sampler
    )
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


def test_d2logp_matches_central_differences_of_dlogp(model):
    """Second derivatives through `spectral_radius` (PyMC's ``compile_d2logp``, the
    Hessian that Laplace approximations and Newton-type optimizers use)."""
    point = points(model)[1]
    d2logp = model.compile_d2logp(negate_output=False)
    dlogp = model.compile_dlogp()
    H = d2logp(point)
    flat = np.concatenate([np.ravel(point["A"]), np.ravel(point["sigma_log__"])])
    h = 1e-6
    numeric = []
    for i in range(flat.size):
        step = np.zeros_like(flat)
        step[i] = h
        up, down = flat + step, flat - step
        grads = [
            dlogp({**point, "A": x[:9].reshape(3, 3), "sigma_log__": x[9]})
            for x in (up, down)
        ]
        numeric.append((grads[0] - grads[1]) / (2 * h))
    np.testing.assert_allclose(H, np.array(numeric).T, rtol=1e-6, atol=1e-5)
    np.testing.assert_allclose(H, H.T, atol=1e-10 * np.abs(H).max())


def find_map_trust_ncg(model, start):
    """``(A, σ)`` at the MAP by ``find_MAP(method="trust-ncg")``: PyMC's (≥ 6.4) or, on
    PyMC 6.3 (which the pymc-extras of the ``statespace`` extra requires), pymc-extras'
    own, from which PyMC's was taken; both return InferenceData and do not jitter."""
    import pymc as pm

    with model:
        if "initvals" in inspect.signature(pm.find_MAP).parameters:
            idata = pm.find_MAP(
                initvals=start,
                method="trust-ncg",
                progressbar=False,
                return_inferencedata=True,
                jitter=False,
            )
        else:
            from pymc_extras import find_MAP

            idata = find_MAP(
                method="trust-ncg", initvals=start, use_hessp=True, progressbar=False
            )
    post = idata.posterior
    return post["A"].values.reshape(3, 3), float(post["sigma"].values.reshape(()))


def test_find_map_with_trust_ncg(model):
    """``find_MAP(method="trust-ncg")`` uses Hessian-vector products; it starts at a stable
    point (at the default start ``A = 0`` all eigenvalues are 0 and ``ρ`` has no second
    derivative, which raises)."""
    near_mode = points(model)[1]
    start = {"A": near_mode["A"], "sigma": np.exp(near_mode["sigma_log__"])}
    A_hat, sigma_hat = find_map_trust_ncg(model, start)
    gradient = model.compile_dlogp(jacobian=False)(
        {"A": A_hat, "sigma_log__": np.log(sigma_hat)}
    )
    assert np.abs(np.linalg.eigvals(A_hat)).max() < 1.0
    assert np.abs(gradient).max() < 1e-3  # find_MAP maximizes logp without the Jacobian
    assert np.abs(A_hat - example.TRUE_A).max() < 0.3


def test_d2logp_of_a_leading_eigenvalue_potential():
    """The regression that importing the package caused: ``compile_d2logp`` of a model with
    ``max(eigvalsh(S))``, 60 × 60 (the rewrite replaces it by Lanczos) equals the closed
    form ``−I − ∇²λmax``, ``∇²λmax = 2 Σ_j g_j g_jᵀ / (λ₁ − λ_j)``, ``g_j = vec(sym(v₁ v_jᵀ))``
    from NumPy's ``eigh``."""
    import pymc as pm
    import pytensor.tensor as pt

    n = 60
    with pm.Model() as m:
        X = pm.Normal("X", shape=(n, n))
        S = (X + X.T) / 2
        pm.Potential("top", -pt.max(pt.linalg.eigvalsh(S)))
    rewritten = m.compile_d2logp(negate_output=False)
    X0 = np.random.default_rng(0).normal(size=(n, n))
    lam, V = np.linalg.eigh((X0 + X0.T) / 2)
    top = V[:, -1]
    curvature = np.zeros((n * n, n * n))
    for j in range(n - 1):
        g = ((np.outer(top, V[:, j]) + np.outer(V[:, j], top)) / 2).ravel()
        curvature += 2 * np.outer(g, g) / (lam[-1] - lam[j])
    np.testing.assert_allclose(
        rewritten({"X": X0}), -np.eye(n * n) - curvature, rtol=0, atol=1e-9
    )


def plain_pytensor_model(y, rewrite=False):
    """The VAR(1) written with PyTensor's functions only: ``log(1 − max|eig(A)|)``;
    ``rewrite``: the potential passed through ``rewrite_graph`` first."""
    import pymc as pm
    import pytensor.tensor as pt
    from pytensor.graph import rewrite_graph

    with pm.Model() as model:
        A = pm.Normal("A", 0.0, 0.5, shape=(3, 3))
        sigma = pm.HalfNormal("sigma", 1.0)
        potential = pm.math.log(1 - pt.max(pt.abs(pt.linalg.eig(A)[0])))
        if rewrite:
            potential = rewrite_graph(potential, include=("canonicalize",))
        pm.Potential("stationary", potential)
        pm.Normal("y", mu=y[:-1] @ A.T, sigma=sigma, observed=y[1:])
    return model


@pytest.mark.parametrize("how", ["step=NUTS()", "rewritten potential"])
def test_a_model_written_with_pytensor_eig_samples(model, how):
    """PyTensor's ``eig`` has no gradient; with the package imported, PyMC's pre-gradient
    rewrite makes the potential a `spectral_radius`: ``dlogp`` equals the package
    model's, and NUTS samples (every draw stationary). ``pm.sample``'s step assignment
    probes differentiability with ``pytensor.grad`` on the *un-rewritten* logp, which
    PyTensor's ``Eig`` fails (``TypeError``), so either the step is given or the potential
    is rewritten when the model is built (docs/interop.md)."""
    import pymc as pm

    plain = plain_pytensor_model(
        example.simulate(), rewrite=how == "rewritten potential"
    )
    dlogp, reference = plain.compile_dlogp(), model.compile_dlogp()
    for point in points(model):
        np.testing.assert_allclose(
            dlogp(point), reference(point), rtol=1e-10, atol=1e-12
        )
    with plain:
        step = {"step": pm.NUTS()} if how == "step=NUTS()" else {}
        idata = pm.sample(
            draws=100,
            tune=100,
            chains=2,
            random_seed=2,
            init="adapt_diag",
            cores=1,
            progressbar=False,
            compute_convergence_checks=False,
            **step,
        )
    rho = spectral_radii(idata)
    assert rho.shape == (200,)
    assert np.all(rho < 1.0)
    assert np.std(rho) > 1e-3
