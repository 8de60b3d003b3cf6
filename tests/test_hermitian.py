"""Complex Hermitian input of `eigengap` and `leading_eigvalsh` (``im=``), through the real
embedding `hermitian_embedding`: values against NumPy's complex ``eigvalsh``, gradients
against the closed form ``u uᴴ`` and central differences of NumPy, repeated eigenvalues,
batches, backends and the documented second-order error."""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

from pytensor_spectral import eigengap, leading_eigvalsh
from pytensor_spectral.implicit import REPEATED_MESSAGE
from pytensor_spectral.symmetric import CROSSOVER, hermitian_embedding
from tests.helpers import BACKENDS, compile_fn


def hermitian(rng, w):
    """``U diag(w) Uᴴ`` for a random unitary ``U``."""
    n = len(w)
    U, _ = np.linalg.qr(rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n)))
    return (U * w) @ U.conj().T


def lower_stored(rng, H):
    """``(re, im)`` holding ``H`` in the lower triangle, noise above it and on the
    imaginary diagonal (which LAPACK ``heevr`` does not read either)."""
    noise = np.triu(rng.normal(size=H.shape), 1)
    im = np.tril(H.imag, -1) + noise + np.diag(rng.normal(size=len(H)))
    return np.tril(H.real) + noise, im


def read(re, im):
    """The Hermitian matrix ``heevr`` reads from the lower triangles."""
    L = np.tril(re) + 1j * np.tril(im, -1)
    return L + np.tril(L, -1).conj().T


def gap_gradients(H, k):
    """Closed-form gradients of ``λ_k − λ_{k+1}`` of the lower-triangle reading with
    respect to ``re`` and ``im``: ``G = u_k u_kᴴ − u_{k+1} u_{k+1}ᴴ`` folded."""
    U = np.linalg.eigh(H)[1]
    u, v = U[:, ::-1][:, k - 1], U[:, ::-1][:, k]
    G = np.outer(u, u.conj()) - np.outer(v, v.conj())
    return (
        np.tril(G.real + G.real.T) - np.diag(np.diag(G.real)),
        np.tril(G.imag - G.imag.T, -1),
    )


def test_embedding_is_the_real_form_of_the_reading():
    rng = np.random.default_rng(0)
    H = hermitian(rng, rng.normal(size=5))
    re, im = lower_stored(rng, H)
    M = hermitian_embedding(re, im).eval()
    X, Y = H.real, H.imag
    np.testing.assert_allclose(M, np.block([[X, -Y], [Y, X]]), atol=1e-15)
    w = np.linalg.eigvalsh(M)
    np.testing.assert_allclose(w, np.repeat(np.linalg.eigvalsh(H), 2), atol=1e-12)
    upper = hermitian_embedding(re.T, -im.T, lower=False).eval()
    np.testing.assert_allclose(upper, M, atol=1e-15)


@pytest.mark.parametrize("backend", BACKENDS)
def test_values_and_gradients_against_numpy(backend):
    rng = np.random.default_rng(1)
    m = 6
    H = hermitian(rng, rng.normal(size=m))
    re, im = lower_stored(rng, H)
    w = np.linalg.eigvalsh(H)[::-1]
    A, B, k = pt.matrix("A"), pt.matrix("B"), pt.lscalar("k")
    gap = eigengap(A, k, im=B)
    fn = compile_fn([A, B, k], [gap, *pytensor.grad(gap, [A, B])], backend)
    for kk in range(1, m):
        value, g_re, g_im = fn(re, im, kk)
        np.testing.assert_allclose(value, w[kk - 1] - w[kk], rtol=1e-12)
        ref_re, ref_im = gap_gradients(H, kk)
        np.testing.assert_allclose(g_re, ref_re, atol=1e-12)
        np.testing.assert_allclose(g_im, ref_im, atol=1e-12)


def test_gradients_against_central_differences_of_numpy():
    """Independent of the closed form: directional derivatives of NumPy's complex
    ``eigvalsh`` of the reading, in random directions of both parts."""
    rng = np.random.default_rng(2)
    H = hermitian(rng, [4.0, 2.5, 1.0, 0.0, -1.0])
    re, im = lower_stored(rng, H)
    A, B = pt.matrices("A", "B")
    for k in (1, 2, 4):
        gap = eigengap(A, k, im=B)
        g_re, g_im = compile_fn([A, B], pytensor.grad(gap, [A, B]))(re, im)

        def ref(a, b, k=k):
            w = np.linalg.eigvalsh(read(a, b))[::-1]
            return w[k - 1] - w[k]

        for _ in range(3):
            d_re, d_im = rng.normal(size=(2, *re.shape))
            h = 1e-6
            fd = ref(re + h * d_re, im + h * d_im) - ref(re - h * d_re, im - h * d_im)
            expected = fd / (2 * h)
            actual = np.sum(g_re * d_re) + np.sum(g_im * d_im)
            np.testing.assert_allclose(actual, expected, rtol=1e-6)


def test_gap_gradient_finite_where_other_eigenvalues_repeat():
    """λ1 − λ2 of a spectrum [5, 3, 1, 1, 1, 0]: exact and finite."""
    rng = np.random.default_rng(3)
    H = hermitian(rng, [5.0, 3.0, 1.0, 1.0, 1.0, 0.0])
    A, B = pt.matrices("A", "B")
    gap = eigengap(A, 1, im=B)
    fn = compile_fn([A, B], [gap, *pytensor.grad(gap, [A, B])])
    value, g_re, g_im = fn(H.real, H.imag)
    np.testing.assert_allclose(value, 2.0, rtol=1e-12)
    ref_re, ref_im = gap_gradients(H, 1)
    np.testing.assert_allclose(g_re, ref_re, atol=1e-12)
    np.testing.assert_allclose(g_im, ref_im, atol=1e-12)


@pytest.mark.parametrize("m", [8, CROSSOVER])
def test_leading_eigvalsh_of_hermitian(m):
    """Dense path (2m < crossover) and Lanczos on the embedding (2m ≥ crossover)."""
    rng = np.random.default_rng(4)
    H = hermitian(rng, rng.normal(size=m))
    re, im = lower_stored(rng, H)
    A, B = pt.matrices("A", "B")
    lam = leading_eigvalsh(A, im=B)
    fn = compile_fn([A, B], [lam, *pytensor.grad(lam, [A, B])])
    value, g_re, g_im = fn(re, im)
    w, U = np.linalg.eigh(H)
    np.testing.assert_allclose(value, w[-1], rtol=1e-10)
    G = np.outer(U[:, -1], U[:, -1].conj())
    np.testing.assert_allclose(
        g_re, np.tril(2 * G.real) - np.diag(np.diag(G.real)), atol=1e-8
    )
    np.testing.assert_allclose(g_im, np.tril(G.imag - G.imag.T, -1), atol=1e-8)


def test_batched():
    rng = np.random.default_rng(5)
    Hs = np.stack([hermitian(rng, rng.normal(size=5)) for _ in range(3)])
    A, B = pt.tensor3("A"), pt.tensor3("B")
    fn = compile_fn([A, B], [eigengap(A, 2, im=B), leading_eigvalsh(A, im=B)])
    gap, lam = fn(Hs.real, Hs.imag)
    w = np.linalg.eigvalsh(Hs)[:, ::-1]
    np.testing.assert_allclose(gap, w[:, 1] - w[:, 2], rtol=1e-12)
    np.testing.assert_allclose(lam, w[:, 0], rtol=1e-12)
    # one imaginary part for a batch of real parts, and the other way round
    C = pt.matrix("C")
    for args in ((A, C, Hs.real, Hs[0].imag), (C, B, Hs[0].real, Hs.imag)):
        fn = compile_fn(args[:2], eigengap(args[0], 1, im=args[1]))
        H = args[2] + 1j * args[3]
        w = np.linalg.eigvalsh(H)[:, ::-1]
        np.testing.assert_allclose(fn(*args[2:]), w[:, 0] - w[:, 1], rtol=1e-12)


def hessian_form(H, k, E, F):
    """Closed-form second derivative of ``λ_k(H)`` (descending) in directions ``E, F``:
    ``2 Σ_{j≠k} Re(u_kᴴ E u_j · u_jᴴ F u_k) / (λ_k − λ_j)``."""
    w, U = np.linalg.eigh(H)
    w, U = w[::-1], U[:, ::-1]
    u = U[:, k - 1]
    return sum(
        2
        * np.real((u.conj() @ E @ U[:, j]) * (U[:, j].conj() @ F @ u))
        / (w[k - 1] - w[j])
        for j in range(len(w))
        if j != k - 1
    )


def test_eigengap_hessian_is_exact():
    """Hessian-vector products of the Hermitian gap against the closed form (in the
    directions of the reading) and central differences of the verified gradient; finite
    where other eigenvalues repeat."""
    rng = np.random.default_rng(6)
    A, B, dA, dB, k = (*pt.matrices("A", "B", "dA", "dB"), pt.lscalar("k"))
    gap = eigengap(A, k, im=B)
    g_re, g_im = pytensor.grad(gap, [A, B])
    inner = pt.sum(g_re * dA) + pt.sum(g_im * dB)
    hvp = compile_fn([A, B, dA, dB, k], pytensor.grad(inner, [A, B]))
    grad = compile_fn([A, B, k], [g_re, g_im])
    # λ2 − λ3 of a simple spectrum; λ1 − λ2 with the three eigenvalues below repeated
    for w, kk in (([4.0, 2.5, 1.0, 0.0, -1.0], 2), ([5.0, 3.0, 1.0, 1.0, 1.0, 0.0], 1)):
        H = hermitian(rng, w)
        re, im = lower_stored(rng, H)
        d_re, d_im, e_re, e_im = rng.normal(size=(4, *re.shape))
        h_re, h_im = hvp(re, im, d_re, d_im, kk)
        actual = np.sum(h_re * e_re) + np.sum(h_im * e_im)
        D, E = read(d_re, d_im), read(e_re, e_im)
        expected = hessian_form(H, kk, E, D) - hessian_form(H, kk + 1, E, D)
        np.testing.assert_allclose(actual, expected, rtol=1e-8)
        h = 1e-6
        plus = grad(re + h * d_re, im + h * d_im, kk)
        minus = grad(re - h * d_re, im - h * d_im, kk)
        fd = [(p - m) / (2 * h) for p, m in zip(plus, minus, strict=True)]
        np.testing.assert_allclose(h_re, fd[0], atol=1e-6)
        np.testing.assert_allclose(h_im, fd[1], atol=1e-6)


def test_leading_eigvalsh_second_derivatives_raise_a_clear_error():
    """Documented: on the embedding the Lanczos op's eigenvector derivative projects out
    one vector of the doubled pair only, so it finds the system singular and says so."""
    rng = np.random.default_rng(7)
    H = hermitian(rng, rng.normal(size=5))
    A, B = pt.matrices("A", "B")
    g = pytensor.grad(leading_eigvalsh(A, im=B), A)
    hess_row = compile_fn([A, B], pytensor.grad(g[2, 1], [A, B]))
    with pytest.raises(ValueError, match=REPEATED_MESSAGE.split(":")[0]):
        hess_row(H.real, H.imag)


def test_bad_input():
    A = pt.matrix("A")
    with pytest.raises(TypeError, match="integer"):
        eigengap(A, 1.5, im=pt.matrix("B"))
    with pytest.raises(ValueError, match="square"):
        eigengap(A, 1, im=pt.matrix("B", shape=(3, 4)))
    with pytest.raises(TypeError):
        eigengap(A, 1, im=pt.zmatrix("B"))
    fn = compile_fn([A], eigengap(A, 3, im=pt.zeros_like(A)))
    with pytest.raises(ValueError, match="k must satisfy"):
        fn(np.eye(3))
    with pytest.raises(ValueError, match="NaN or Inf"):
        compile_fn([A], eigengap(A, 1, im=A))(np.full((3, 3), np.nan))
