"""End-to-end workflows of the examples: a pymc-extras statespace VAR, a compartment
model solved with `eig`, and MUSIC trained on the Hermitian eigengap."""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

from tests.test_examples import load


@pytest.fixture(scope="module")
def var():
    return load("statespace_var")


@pytest.fixture(scope="module")
def pk():
    return load("compartment_pk")


@pytest.fixture(scope="module")
def music():
    return load("music_eigengap")


def test_macro_data_are_quarterly_growth_rates(var):
    data = var.load_data()
    assert data.shape == (202, 3)
    np.testing.assert_allclose(data.mean().values, 0.0, atol=1e-12)
    assert 0.5 < data["realgdp"].std() < 1.5  # percent per quarter


def test_companion_matches_the_statespace_transition_matrix(var):
    """`companion` (used for the diagnostics) lays the lag matrices out as pymc-extras
    does: the model's ``eigenvalue_modulus`` Deterministic equals NumPy's moduli of it."""
    model = var.build_model(var.load_data())
    moduli = pytensor.function([model["ar_params"]], model["eigenvalue_modulus"])
    ar = np.random.default_rng(0).normal(0.0, 0.3, size=(3, 2, 3))
    np.testing.assert_allclose(
        np.sort(moduli(ar)),
        np.sort(np.abs(np.linalg.eigvals(var.companion(ar)))),
        rtol=1e-12,
    )


def test_eigvalsh_misreads_a_unit_root_companion_matrix(var):
    """The diagnostic pymc-extras' docstring suggests, ``eigvalsh(T)``, reads a symmetric
    matrix that is not ``T``: a VAR(2) with a unit root (ρ = 1) reads as explosive."""
    ar = np.zeros((1, 2, 1))
    ar[0, :, 0] = [1.5, -0.5]  # y_t = 1.5 y_{t-1} - 0.5 y_{t-2}: roots 1 and 0.5
    wrong, right = var.eigvalsh_misreading(var.companion(ar))
    np.testing.assert_allclose(right, 1.0, rtol=1e-12)
    np.testing.assert_allclose(wrong, 2.0, rtol=1e-12)


def test_stationarity_prior_keeps_every_draw_stationary(var):
    data = var.load_data()
    model = var.build_model(data)
    assert [p.name for p in model.potentials] == ["stationarity"]
    idata = var.sample(model, draws=60, tune=60, chains=1, seed=3)
    rho = idata.posterior["spectral_radius"].values
    assert rho.size == 60 and np.all(rho < 1.0)
    T = var.companion(idata.posterior["ar_params"].values)
    np.testing.assert_allclose(
        rho, np.abs(np.linalg.eigvals(T)).max(axis=-1), rtol=1e-10
    )
    moduli = idata.posterior["eigenvalue_modulus"].values
    np.testing.assert_allclose(moduli.max(axis=-1), rho, rtol=1e-10)
    # the same model without the potential: most prior draws are not stationary
    assert (
        var.nonstationary_prior_fraction(
            var.build_model(data, stationarity=False), draws=500
        )
        > 0.5
    )


def test_compartment_eig_route_matches_expm(pk):
    rng = np.random.default_rng(1)
    x = pt.vector("x")
    K = pk.rate_matrix(*(pt.exp(x[i]) for i in range(4)))
    eig_amounts, expm_amounts = pk.central_amount_eig(K), pk.central_amount_expm(K)
    values = pytensor.function([x], [eig_amounts, expm_amounts])
    loss = [pt.sum(pt.log(a)) for a in (eig_amounts, expm_amounts)]
    grads = pytensor.function([x], [pytensor.grad(v, x) for v in loss])
    truth = np.log(list(pk.TRUE_RATES.values()))
    for point in (truth, *(truth + rng.normal(0.0, 0.5, size=(5, 4)))):
        a, b = values(point)
        np.testing.assert_allclose(a, b, rtol=1e-10)
        g_eig, g_expm = grads(point)
        np.testing.assert_allclose(g_eig, g_expm, rtol=1e-9, atol=1e-12)
    # and against central differences of the expm route
    f = pytensor.function([x], loss[1])
    h = 1e-6
    fd = [(f(truth + h * e) - f(truth - h * e)) / (2 * h) for e in np.eye(4)]
    np.testing.assert_allclose(grads(truth)[0], fd, rtol=1e-6)


def test_compartment_model_recovers_the_rates(pk):
    observed = pk.simulate()
    idata = pk.sample(pk.build_model(observed), draws=150, tune=150, chains=1, seed=2)
    assert int(idata.sample_stats["diverging"].sum()) == 0
    for name, value in pk.TRUE_RATES.items():
        lo, hi = np.quantile(idata.posterior[name].values, [0.01, 0.99])
        assert lo < value < hi, name


def test_music_whitening_learns_the_noise_correlation(music, tmp_path):
    history, spectra = music.main(str(tmp_path / "music.png"))
    import matplotlib.pyplot as plt  # the docs extra; the example chose the Agg backend

    plt.close("all")
    assert history[-1][0] < history[0][0]
    assert abs(history[-1][1] - music.NOISE_CORRELATION) < 0.05
    peaks = music.peak_angles(*spectra["learned whitening"])
    np.testing.assert_allclose(peaks, np.rad2deg(music.ANGLES), atol=0.5)
    unwhitened = music.peak_angles(*spectra["unwhitened"])
    assert np.abs(unwhitened - np.rad2deg(music.ANGLES)).max() > 5  # a source is lost
    assert (tmp_path / "music.png").stat().st_size > 0


def test_music_gap_gradient_is_finite_where_eigh_gives_nan(music):
    """At the population covariance whitened with the true ρ the noise eigenvalues are
    exactly repeated: the ``eigh``-based gap's gradient is NaN (FAST_COMPILE, where no
    rewrite drops its zero eigenvector term), the Hermitian `eigengap`'s is finite; for
    the gap λ1 − λ2 (both simple, the repeated ones elsewhere) it is the derivative."""
    R_re, R_im = music.population_covariance()
    z = pt.dscalar("z")
    whitened = music.whiten(pt.as_tensor(R_re), R_im, pt.sigmoid(z))
    at_truth = np.log(music.NOISE_CORRELATION / (1 - music.NOISE_CORRELATION))
    for k in (1, 2):
        grads = [
            pytensor.function([z], pytensor.grad(gap(*whitened, k), z), mode=mode)
            for gap in (music.normalized_gap, music.eigh_gap)
            for mode in ("FAST_COMPILE", None)
        ]
        ours_fast, ours, eigh_fast, _ = (g(at_truth) for g in grads)
        assert np.isfinite(ours) and ours == pytest.approx(ours_fast, rel=1e-10)
        assert np.isnan(eigh_fast)
        if k == 1:
            value = pytensor.function([z], music.normalized_gap(*whitened, k))
            h = 1e-6
            fd = (value(at_truth + h) - value(at_truth - h)) / (2 * h)
            np.testing.assert_allclose(ours, fd, rtol=1e-6)
