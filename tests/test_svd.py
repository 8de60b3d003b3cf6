import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from pytensor.gradient import verify_grad

from pytensor_spectral import leading_singular_triplet, spectral_norm
from pytensor_spectral.symmetric import CROSSOVER
from tests.helpers import MODES, compile_fn


SHAPES = {"tall": (7, 4), "wide": (4, 7), "square": (5, 5)}


def numpy_triplet(An):
    """NumPy's leading triplet in this package's sign convention (largest |u_i| > 0)."""
    U, s, Vt = np.linalg.svd(An)
    u, v = U[:, 0], Vt[0]
    sign = np.sign(u[np.argmax(np.abs(u))])
    return sign * u, s[0], sign * v


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("crossover", [0, CROSSOVER], ids=["lanczos", "dense"])
def test_triplet_values(mode, crossover):
    rng = np.random.default_rng(0)
    A = pt.matrix("A")
    fn = compile_fn([A], leading_singular_triplet(A, crossover=crossover), mode)
    for m, n in [
        *SHAPES.values(),
        (CROSSOVER + 30, CROSSOVER + 5),
        (CROSSOVER + 5, 130),
    ]:
        An = rng.normal(size=(m, n))
        for got, want in zip(fn(An), numpy_triplet(An), strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


def central_differences(f, An, h=1e-6):
    G = np.zeros_like(An)
    for idx in np.ndindex(*An.shape):
        E = np.zeros_like(An)
        E[idx] = h
        G[idx] = (f(An + E) - f(An - E)) / (2 * h)
    return G


@pytest.mark.parametrize("shape", SHAPES)
def test_triplet_gradients_of_losses_on_u_sigma_v(shape):
    """Losses on each of ``u``, ``σ``, ``v`` (Lanczos path): gradients equal central
    differences of NumPy's SVD (an independent reference, with this package's sign
    convention) and pass ``verify_grad``."""
    rng = np.random.default_rng(1)
    m, n = SHAPES[shape]
    wu, wv = rng.normal(size=m), rng.normal(size=n)
    An = rng.normal(size=(m, n))
    reference = {
        "u": lambda M: numpy_triplet(M)[0] @ wu,
        "sigma": lambda M: numpy_triplet(M)[1],
        "v": lambda M: numpy_triplet(M)[2] @ wv,
    }

    def losses(A):
        u, sigma, v = leading_singular_triplet(A, crossover=0)
        return {"u": pt.dot(u, wu), "sigma": sigma, "v": pt.dot(v, wv)}

    A = pt.matrix("A")
    grads = compile_fn([A], [pytensor.grad(loss, A) for loss in losses(A).values()])(An)
    for name, got in zip(reference, grads, strict=True):
        np.testing.assert_allclose(
            got, central_differences(reference[name], An), atol=1e-7
        )
    verify_grad(
        lambda A: sum(
            w * loss for w, loss in zip((0.3, 1.0, -0.7), losses(A).values())
        ),
        [An],
        rng=rng,
        mode=MODES["cvm"],
    )
    u, _, v = numpy_triplet(An)
    np.testing.assert_allclose(grads[1], np.outer(u, v), atol=1e-12)


def test_spectral_norm_batched_and_float32():
    rng = np.random.default_rng(3)
    A = pt.tensor3("A")
    s = spectral_norm(A, crossover=0)
    fn = compile_fn([A], [s, pytensor.grad(s.sum(), A)])
    An = rng.normal(size=(3, 8, 5))
    values, grads = fn(An)
    for b in range(3):
        u, sigma, v = numpy_triplet(An[b])
        np.testing.assert_allclose(values[b], sigma, rtol=1e-10)
        np.testing.assert_allclose(grads[b], np.outer(u, v), atol=1e-8)
    A32 = pt.matrix("A32", dtype="float32")
    out = compile_fn([A32], spectral_norm(A32, crossover=0))(An[0].astype("float32"))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, np.linalg.norm(An[0], 2), rtol=1e-5)


def test_zero_matrix_and_bad_input():
    A = pt.matrix("A")
    fn = compile_fn(
        [A], [*leading_singular_triplet(A), pytensor.grad(spectral_norm(A), A)]
    )
    u, sigma, v, G = fn(np.zeros((4, 3)))
    assert (
        sigma == 0
        and np.all(G == 0)
        and np.all(np.isfinite(u))
        and np.all(np.isfinite(v))
    )
    with pytest.raises(ValueError, match="empty"):
        fn(np.zeros((0, 3)))
    with pytest.raises(ValueError, match="NaN or Inf"):
        fn(np.full((3, 3), np.inf))
    with pytest.raises(TypeError, match="real"):
        spectral_norm(pt.matrix("A", dtype="complex128"))
    with pytest.raises(ValueError, match="ndim"):
        spectral_norm(pt.vector("x"))
