import numpy as np
import pytest

import pytensor
import pytensor.tensor as pt
from pytensor.tensor.linalg import spectral_abscissa, spectral_radius
from tests import unittest_tools as utt


rng = np.random.default_rng(7)

MEASURES = {
    "abscissa": (spectral_abscissa, lambda w: np.max(w.real)),
    "radius": (spectral_radius, lambda w: np.max(np.abs(w))),
}


def complex_leading(n=6):
    """A matrix whose rightmost and largest eigenvalues are a complex pair."""
    Q = np.linalg.qr(rng.normal(size=(n, n)))[0]
    T = np.diag(-np.arange(1.0, n + 1))
    T[:2, :2] = [[0.5, 2.0], [-2.0, 0.5]]
    return Q @ T @ Q.T + 0.1 * np.triu(rng.normal(size=(n, n)), 2)


@pytest.mark.parametrize("name", MEASURES)
def test_values(name):
    op, reference = MEASURES[name]
    A = pt.matrix("A")
    fn = pytensor.function([A], op(A))
    for A_val in (complex_leading(), rng.normal(size=(7, 7)), np.array([[-3.0]])):
        np.testing.assert_allclose(
            fn(A_val), reference(np.linalg.eigvals(A_val)), rtol=1e-12
        )


@pytest.mark.parametrize("name", MEASURES)
def test_grad(name):
    op, _ = MEASURES[name]
    for A_val in (complex_leading(), rng.normal(size=(5, 5))):
        utt.verify_grad(op, [A_val], rng=rng)


def test_grad_at_complex_pair_closed_form():
    # a normal matrix with a leading pair a ± ib: the gradient is the projector
    # onto the pair's real invariant subspace, counted once
    n = 5
    Q = np.linalg.qr(rng.normal(size=(n, n)))[0]
    T = np.diag([0.0, 0.0, -1.0, -2.0, -3.0])
    T[:2, :2] = [[0.3, 1.5], [-1.5, 0.3]]
    A = pt.matrix("A")
    g = pytensor.function([A], pytensor.grad(spectral_abscissa(A), A))(Q @ T @ Q.T)
    np.testing.assert_allclose(g, 0.5 * Q[:, :2] @ Q[:, :2].T, atol=1e-10)


@pytest.mark.parametrize("name", MEASURES)
def test_hessian_matches_differences_of_the_gradient(name):
    op, _ = MEASURES[name]
    utt.verify_grad(lambda A: pytensor.grad(op(A), A), [complex_leading(4)], rng=rng)


def test_batched_and_bad_input():
    A = pt.tensor3("A")
    fn = pytensor.function([A], spectral_radius(A))
    batch = rng.normal(size=(3, 4, 4))
    np.testing.assert_allclose(
        fn(batch), np.abs(np.linalg.eigvals(batch)).max(-1), rtol=1e-12
    )
    with pytest.raises(ValueError, match="NaN or Inf"):
        fn(np.full((1, 2, 2), np.inf))
