import numpy as np
import pytest
import scipy.linalg

import pytensor
import pytensor.tensor as pt
from pytensor.gradient import NullTypeGradError
from pytensor.tensor.linalg import (
    distance_to_instability,
    pseudospectral_abscissa,
    spectral_abscissa,
)
from tests import unittest_tools as utt


rng = np.random.default_rng(2003)


def sigma_min(A, z):
    M = np.asarray(z)[..., None, None] * np.eye(len(A)) - A
    return np.linalg.svd(M, compute_uv=False)[..., -1]


def orthogonal(n):
    return np.linalg.qr(rng.normal(size=(n, n)))[0]


@pytest.fixture(scope="module")
def abscissa_fn():
    A, eps = pt.matrix("A"), pt.scalar("eps")
    out = pseudospectral_abscissa(A, eps)
    return pytensor.function([A, eps], [out, *pytensor.grad(out, [A, eps])])


@pytest.fixture(scope="module")
def distance_fn():
    A = pt.matrix("A")
    out = distance_to_instability(A)
    return pytensor.function([A], [out, pytensor.grad(out, A)])


def test_grcar_published_value(abscissa_fn):
    grcar = -np.eye(100, k=-1) + sum(np.eye(100, k=j) for j in range(4))
    assert abs(abscissa_fn(grcar, 1e-4)[0] - 2.41276) < 5e-6


def test_abscissa_against_a_grid(abscissa_fn):
    A, eps = rng.normal(size=(5, 5)), 0.2
    x = np.linspace(-4, np.linalg.eigvalsh((A + A.T) / 2)[-1] + eps, 301)
    y = np.linspace(-4, 4, 301)
    inside = sigma_min(A, x[None, :] + 1j * y[:, None]) <= eps
    on_grid = x[np.nonzero(inside.any(axis=0))[0].max()]
    value = abscissa_fn(A, eps)[0]
    assert value - 2 * (x[1] - x[0]) <= on_grid <= value + 1e-12


def test_closed_forms():
    # normal: alpha_eps = alpha + eps, beta = -alpha, with the gradients of alpha
    Q = orthogonal(5)
    D = scipy.linalg.block_diag([[-0.4, 1.3], [-1.3, -0.4]], np.diag([-1.0, -2, -3]))
    A_val = Q @ D @ Q.T
    A = pt.matrix("A")
    outputs = [pseudospectral_abscissa(A, 0.2), distance_to_instability(A)]
    fn = pytensor.function(
        [A],
        [*outputs, *(pytensor.grad(o, A) for o in [*outputs, spectral_abscissa(A)])],
    )
    alpha_eps, beta, g_alpha_eps, g_beta, g_alpha = fn(A_val)
    np.testing.assert_allclose([alpha_eps, beta], [-0.4 + 0.2, 0.4], rtol=1e-12)
    np.testing.assert_allclose(g_alpha_eps, g_alpha, atol=1e-10)
    np.testing.assert_allclose(g_beta, -g_alpha, atol=1e-10)


def test_the_certificate_leaves_a_local_maximum(abscissa_fn):
    # a normal pair 0.47 +- i (local maximum 0.57) and [[0.3, 1.6], [0, 0.3]], whose
    # 0.1-pseudospectrum is the disk of radius sqrt(0.01 + 0.16) about 0.3
    B = scipy.linalg.block_diag(
        [[0.47, 1.0], [-1.0, 0.47]], [[0.3, 1.6], [0.0, 0.3]], -np.eye(6)
    )
    Q = orthogonal(10)
    value = abscissa_fn(Q @ B @ Q.T, 0.1)[0]
    np.testing.assert_allclose(value, 0.3 + np.sqrt(0.17), rtol=1e-12)


def test_distance_against_a_frequency_grid(distance_fn):
    A = rng.normal(size=(6, 6))
    A -= (np.linalg.eigvals(A).real.max() + 0.3) * np.eye(6)
    omega = np.linspace(-8, 8, 80001)
    beta = distance_fn(A)[0]
    assert 0 <= sigma_min(A, 1j * omega).min() - beta <= 1e-6
    assert distance_fn(-A)[0] == 0  # unstable


def test_grad():
    A_val = rng.normal(size=(4, 4))
    utt.verify_grad(pseudospectral_abscissa, [A_val, np.array(0.3)], rng=rng)
    stable = A_val - (np.linalg.eigvals(A_val).real.max() + 0.5) * np.eye(4)
    utt.verify_grad(distance_to_instability, [stable], rng=rng)


def test_second_derivatives_raise():
    A = pt.matrix("A")
    for out in (pseudospectral_abscissa(A, 0.1), distance_to_instability(A)):
        with pytest.raises(NullTypeGradError, match="second derivatives"):
            pytensor.grad(pt.sum(pytensor.grad(out, A) ** 2), A)


def test_batched_and_bad_input():
    A, eps = pt.tensor3("A"), pt.scalar("eps")
    B = pt.matrix("B")
    fn = pytensor.function([A, eps], pseudospectral_abscissa(A, eps))
    single = pytensor.function([B, eps], pseudospectral_abscissa(B, eps))
    batch = rng.normal(size=(3, 4, 4))
    np.testing.assert_allclose(
        fn(batch, 0.1), [single(b, 0.1) for b in batch], rtol=1e-14
    )
    with pytest.raises(ValueError, match="NaN or Inf"):
        fn(np.full((1, 2, 2), np.inf), 0.1)
    with pytest.raises(ValueError, match="eps must be positive"):
        fn(batch, -1.0)
    with pytest.raises(ValueError, match="eps must be positive"):
        pseudospectral_abscissa(A, 0.0)
