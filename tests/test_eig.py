import mpmath
import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from pytensor.gradient import verify_grad

from pytensor_spectral import eig, eigvals
from pytensor_spectral.eig import Eigvals, SchurEig
from tests.helpers import MODES, compile_fn, op_types, random_matrix


def sorted_complex(w):
    return np.sort_complex(np.asarray(w, dtype=complex))


def spectrum_loss(w_re, w_im):
    """A symmetric function of the spectrum whose gradient differs per eigenvalue."""
    return (w_re**3).sum() + (w_im**2 * w_re).sum()


def pair_loss(w_re, w_im, v_re, v_im, weights):
    """Symmetric in the (eigenvalue, eigenvector) pairs, so independent of their order."""
    return (w_re * (weights @ v_re)).sum() + (w_im * (weights @ v_im**2)).sum()


# ---------------------------------------------------------------- forward


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", ["general", "real", "complex"])
def test_eigvals_match_numpy(mode, kind):
    rng = np.random.default_rng(1)
    A = pt.matrix("A")
    fn = compile_fn([A], eigvals(A), mode)
    for n in (1, 2, 6, 9) if kind != "complex" else (2, 6):
        An = random_matrix(rng, n, kind)
        w_re, w_im = fn(An)
        np.testing.assert_allclose(
            sorted_complex(w_re + 1j * w_im),
            sorted_complex(np.linalg.eigvals(An)),
            atol=1e-9,
        )
        if kind == "real":
            assert np.all(w_im == 0)


@pytest.mark.parametrize("mode", MODES)
def test_eig_vectors_satisfy_definition_and_gauge(mode):
    rng = np.random.default_rng(2)
    A = pt.matrix("A")
    fn = compile_fn([A], eig(A), mode)
    for kind, n in [("general", 7), ("real", 5), ("complex", 6)]:
        An = random_matrix(rng, n, kind)
        w_re, w_im, v_re, v_im = fn(An)
        w, V = w_re + 1j * w_im, v_re + 1j * v_im
        np.testing.assert_allclose(An @ V, V * w, atol=1e-10 * np.linalg.norm(An))
        np.testing.assert_allclose(np.linalg.norm(V, axis=0), 1.0, rtol=1e-12)
        p = np.argmax(np.abs(V), axis=0)
        cols = np.arange(n)
        assert np.all(v_im[p, cols] == 0) and np.all(v_re[p, cols] > 0)
        # LAPACK order: a pair is adjacent, positive imaginary part first, conjugate vectors
        for j in np.flatnonzero(w_im > 0):
            assert w_im[j + 1] == -w_im[j] and w_re[j + 1] == w_re[j]
            np.testing.assert_array_equal(V[:, j + 1], V[:, j].conj())


def test_gauge_tie_goes_to_lowest_index():
    # The eigenvector of a + ib of the rotation-scaling block is (1, -i)/√2: a tie in modulus.
    A = pt.matrix("A")
    w_re, w_im, v_re, v_im = compile_fn([A], eig(A))(
        np.array([[1.0, -2.0], [2.0, 1.0]])
    )
    np.testing.assert_allclose(w_re + 1j * w_im, [1 + 2j, 1 - 2j])
    s = np.sqrt(0.5)
    np.testing.assert_allclose(v_re, [[s, s], [0, 0]], atol=1e-15)
    np.testing.assert_allclose(v_im, [[0, 0], [-s, s]], atol=1e-15)


@pytest.mark.parametrize("mode", MODES)
def test_batched_equals_unbatched(mode):
    rng = np.random.default_rng(3)
    A = pt.tensor3("A")
    An = rng.normal(size=(3, 5, 5))
    fn = compile_fn([A], [*eig(A), pytensor.grad(spectrum_loss(*eig(A)[:2]), A)], mode)
    single = pt.matrix("a")
    fn1 = compile_fn(
        [single], [*eig(single), pytensor.grad(spectrum_loss(*eig(single)[:2]), single)]
    )
    batched = fn(An)
    for b in range(3):
        for out_b, out_1 in zip(batched, fn1(An[b]), strict=True):
            np.testing.assert_allclose(out_b[b], out_1, rtol=1e-12, atol=1e-13)


def test_float32():
    rng = np.random.default_rng(4)
    A = pt.matrix("A", dtype="float32")
    outs = eig(A)
    g = pytensor.grad(spectrum_loss(*outs[:2]) + outs[2].sum(), A)
    assert all(o.dtype == "float32" for o in [*outs, g])
    An = rng.normal(size=(5, 5))
    res32 = compile_fn([A], [*outs, g])(An.astype("float32"))
    A64 = pt.matrix("A")
    outs64 = eig(A64)
    g64 = pytensor.grad(spectrum_loss(*outs64[:2]) + outs64[2].sum(), A64)
    res64 = compile_fn([A64], [*outs64, g64])(An)
    for r32, r64 in zip(res32, res64, strict=True):
        assert r32.dtype == np.float32
        np.testing.assert_allclose(r32, r64, rtol=2e-3, atol=2e-3)


def test_forward_only_graph_drops_schur_vectors():
    A = pt.matrix("A")
    fwd = compile_fn([A], eigvals(A))
    assert Eigvals in op_types(fwd) and SchurEig not in op_types(fwd)
    w_re, _ = eigvals(A)
    both = compile_fn([A], [w_re, pytensor.grad(w_re.sum(), A)])
    assert SchurEig in op_types(both) and Eigvals not in op_types(both)
    An = np.random.default_rng(5).normal(size=(6, 6))
    np.testing.assert_array_equal(fwd(An)[0], both(An)[0])


@settings(max_examples=30, deadline=None)
@given(arrays(np.float64, (5, 5), elements=st.floats(-10, 10)))
def test_property_spectrum_and_vectors(An):
    A = pt.matrix("A")
    w_re, w_im, v_re, v_im = compile_fn([A], eig(A))(An)
    w, V = w_re + 1j * w_im, v_re + 1j * v_im
    scale = max(np.linalg.norm(An), 1.0)
    np.testing.assert_allclose(np.sum(w), np.trace(An), atol=1e-9 * scale)
    np.testing.assert_allclose(An @ V, V * w, atol=1e-9 * scale)
    assert np.all(np.isfinite(V))


# ---------------------------------------------------------------- gradients


@pytest.mark.parametrize(
    "mode, kind",
    [("numba", "general"), ("cvm", "general"), ("cvm", "real"), ("cvm", "complex")],
)
def test_verify_grad_eigvals(mode, kind):
    rng = np.random.default_rng(6)
    An = random_matrix(rng, 6, kind)
    c = rng.normal(size=6)
    verify_grad(lambda A: spectrum_loss(*eigvals(A)), [An], rng=rng, mode=MODES[mode])
    # order-dependent losses on single outputs: the order is locally constant
    verify_grad(lambda A: (c * eigvals(A)[0]).sum(), [An], rng=rng, mode=MODES[mode])
    verify_grad(lambda A: (c * eigvals(A)[1]).sum(), [An], rng=rng, mode=MODES[mode])


@pytest.mark.parametrize(
    "mode, kind",
    [("numba", "general"), ("cvm", "general"), ("cvm", "real"), ("cvm", "complex")],
)
def test_verify_grad_eigenvectors(mode, kind):
    rng = np.random.default_rng(7)
    An = random_matrix(rng, 6, kind)
    W = rng.normal(size=(6, 6))
    verify_grad(lambda A: (W * eig(A)[2]).sum(), [An], rng=rng, mode=MODES[mode])
    verify_grad(lambda A: (W * eig(A)[3]).sum(), [An], rng=rng, mode=MODES[mode])
    verify_grad(lambda A: pair_loss(*eig(A), W[0]), [An], rng=rng, mode=MODES[mode])
    # eigenvalues and eigenvectors together, and a gauge-invariant loss
    verify_grad(
        lambda A: (W * eig(A)[2] ** 2).sum() + eig(A)[0][0],
        [An],
        rng=rng,
        mode=MODES[mode],
    )


def test_grad_closed_form_diagonal_and_triangular():
    rng = np.random.default_rng(8)
    A = pt.matrix("A")
    g = compile_fn([A], pytensor.grad(spectrum_loss(*eigvals(A)), A))
    d = rng.normal(size=5)
    np.testing.assert_allclose(g(np.diag(d)), np.diag(3 * d**2), atol=1e-12)
    # upper triangular: dλ_k/dA is zero on the strict upper triangle, e_k e_kᵀ on the diagonal
    U = np.triu(rng.normal(size=(5, 5)))
    G = g(U)
    np.testing.assert_allclose(np.triu(G), np.diag(3 * np.diag(U) ** 2), atol=1e-10)


def test_grad_closed_form_rotation_scaling_block():
    a, b = 0.3, 1.7
    An = np.array([[a, -b], [b, a]])
    A = pt.matrix("A")
    w_re, w_im = eigvals(A)
    fn = compile_fn(
        [A], [w_re, w_im, pytensor.grad(w_re[0], A), pytensor.grad(w_im[0], A)]
    )
    wr, wi, g_re, g_im = fn(An)
    np.testing.assert_allclose(wr + 1j * wi, [a + 1j * b, a - 1j * b])
    np.testing.assert_allclose(g_re, 0.5 * np.eye(2), atol=1e-15)
    np.testing.assert_allclose(g_im, [[0, -0.5], [0.5, 0]], atol=1e-15)


def _mp_gauge(v):
    p = max(range(len(v)), key=lambda i: abs(v[i]))
    phase = mpmath.conj(v[p]) / abs(v[p])
    norm = mpmath.sqrt(sum(abs(x) ** 2 for x in v))
    return [x * phase / norm for x in v]


def _mp_losses(A, W0):
    """Spectrum and eigenvector-pair losses of an mpmath matrix, in high precision."""
    E, ER = mpmath.eig(A)
    spec = sum(mpmath.re(e) ** 3 + mpmath.im(e) ** 2 * mpmath.re(e) for e in E)
    pairs = 0
    for k, e in enumerate(E):
        v = _mp_gauge([ER[i, k] for i in range(A.rows)])
        pairs += mpmath.re(e) * sum(W0[i] * mpmath.re(v[i]) for i in range(A.rows))
        pairs += mpmath.im(e) * sum(W0[i] * mpmath.im(v[i]) ** 2 for i in range(A.rows))
    return spec, pairs


def _mp_gradients(An, W0):
    """Central differences at 50 digits with step 1e-20: error far below float64 rounding."""
    n = An.shape[0]
    with mpmath.workdps(50):
        h = mpmath.mpf("1e-20")
        G = np.zeros((2, n, n))
        for i in range(n):
            for j in range(n):
                Ap, Am = mpmath.matrix(An.tolist()), mpmath.matrix(An.tolist())
                Ap[i, j] += h
                Am[i, j] -= h
                fp, fm = _mp_losses(Ap, W0), _mp_losses(Am, W0)
                G[:, i, j] = [
                    float((p - m) / (2 * h)) for p, m in zip(fp, fm, strict=True)
                ]
    return G


@pytest.mark.parametrize("kind", ["general", "complex"])
def test_grad_matches_mpmath(kind):
    rng = np.random.default_rng(9)
    An = random_matrix(rng, 4, kind)
    W0 = rng.normal(size=4)
    A = pt.matrix("A")
    outs = eig(A)
    grads = [
        pytensor.grad(spectrum_loss(*outs[:2]), A),
        pytensor.grad(pair_loss(*outs, W0), A),
    ]
    ours = compile_fn([A], grads)(An)
    for g_ours, g_ref in zip(ours, _mp_gradients(An, W0), strict=True):
        np.testing.assert_allclose(
            g_ours, g_ref, rtol=1e-8, atol=1e-8 * np.abs(g_ref).max()
        )


def test_pushforward_matches_pullback_and_finite_differences():
    rng = np.random.default_rng(10)
    An, dAn = rng.normal(size=(6, 6)), rng.normal(size=(6, 6))
    gr, gi = rng.normal(size=6), rng.normal(size=6)
    A, dA = pt.matrix("A"), pt.matrix("dA")
    w_re, w_im = eigvals(A)
    jvp = pytensor.gradient.pushforward([w_re, w_im], A, dA, use_op_pushforward=True)
    vjp = pytensor.grad((gr * w_re).sum() + (gi * w_im).sum(), A)
    f = compile_fn([A, dA], [*jvp, vjp])
    t_re, t_im, G = f(An, dAn)
    np.testing.assert_allclose(gr @ t_re + gi @ t_im, np.sum(G * dAn), rtol=1e-10)
    h = 1e-6
    wp = compile_fn([A], eigvals(A))(An + h * dAn)
    wm = compile_fn([A], eigvals(A))(An - h * dAn)
    np.testing.assert_allclose(t_re, (wp[0] - wm[0]) / (2 * h), atol=1e-6)
    np.testing.assert_allclose(t_im, (wp[1] - wm[1]) / (2 * h), atol=1e-6)


def test_repeated_eigenvalues_symmetric_loss_exact():
    rng = np.random.default_rng(11)
    S = rng.normal(size=(5, 5)) + 2 * np.eye(5)
    lam = np.array([1.0, 1.0, 2.0, 3.0, 1.0])
    An = S @ np.diag(lam) @ np.linalg.inv(S)
    A = pt.matrix("A")
    w_re, _ = eigvals(A)
    f = compile_fn(
        [A], [w_re, pytensor.grad(w_re.sum(), A), pytensor.grad((w_re**2).sum(), A)]
    )
    wr, g_sum, g_sq = f(An)
    np.testing.assert_allclose(np.sort(wr), np.sort(lam), atol=1e-10)
    np.testing.assert_allclose(g_sum, np.eye(5), atol=1e-10)
    # ∇ Σ λ² = ∇ tr(A²) = 2 Aᵀ
    np.testing.assert_allclose(g_sq, 2 * An.T, atol=1e-9 * np.abs(An).max())


def test_eigenvector_grad_at_repeated_eigenvalue_is_an_error():
    A = pt.matrix("A")
    f = compile_fn([A], pytensor.grad(eig(A)[2].sum(), A))
    with pytest.raises(ValueError, match="repeated eigenvalues"):
        f(np.diag([1.0, 1.0, 2.0]))


def test_nearly_defective_eigenvalue_gradient_is_finite_and_large():
    delta = 1e-14
    An = np.array([[1.0, 1.0], [delta, 1.0]])  # eigenvalues 1 ± 1e-7
    A = pt.matrix("A")
    w_re, _ = eigvals(A)
    f = compile_fn([A], [pytensor.grad(w_re[0], A), pytensor.grad(w_re.sum(), A)])
    g0, g_sum = f(An)
    assert np.all(np.isfinite(g0))
    # |dλ/dA₂₁| = 1 / (2 sqrt(δ)) = 5e6 in closed form
    np.testing.assert_allclose(np.abs(g0[1, 0]), 0.5 / np.sqrt(delta), rtol=1e-6)
    np.testing.assert_allclose(g_sum, np.eye(2), atol=1e-8)


@pytest.mark.parametrize("n", [2, 5])
def test_defective_cluster_is_an_error(n):
    """At a Jordan block the cotangents ``ḡ_k`` of a symmetric loss do not determine its
    gradient: ``Σ λ_k²`` (gradient ``2Aᵀ``) and ``2λ Σ λ_k`` have equal cotangents but
    different gradients, because the eigenvalues split like ``ε^{1/n}``. So the pullback
    raises instead of returning one of them (the 5 × 5 block used to give ~1e46)."""
    A = pt.matrix("A")
    w_re, _ = eigvals(A)
    f = compile_fn([A], [w_re, pytensor.grad(pt.sum(w_re**2), A)])
    with pytest.raises(ValueError, match="defective"):
        f(2 * np.eye(n) + np.eye(n, k=1))


# ---------------------------------------------------------------- bad input


def test_bad_input_at_graph_construction():
    with pytest.raises(ValueError, match="ndim"):
        eigvals(pt.vector("v"))
    with pytest.raises(ValueError, match="square"):
        eig(pt.tensor("A", shape=(3, 4)))
    with pytest.raises(TypeError, match="real"):
        eigvals(pt.matrix("A", dtype="complex128"))


@pytest.mark.parametrize("mode", MODES)
def test_bad_input_at_run_time(mode):
    A = pt.matrix("A")
    f = compile_fn([A], eig(A), mode)
    with pytest.raises(ValueError, match="square"):
        f(np.ones((3, 4)))
    for bad in (np.nan, np.inf):
        An = np.eye(3)
        An[1, 2] = bad
        with pytest.raises(ValueError, match="NaN or Inf"):
            f(An)
    assert [x.shape for x in f(np.zeros((0, 0)))] == [(0,), (0,), (0, 0), (0, 0)]


def test_integer_input_is_cast_to_float64():
    A = pt.matrix("A", dtype="int64")
    w_re, w_im = eigvals(A)
    assert w_re.dtype == "float64"
    wr, wi = compile_fn([A], [w_re, w_im])(np.array([[2, 0], [0, 3]]))
    np.testing.assert_array_equal(wi, 0.0)
    np.testing.assert_allclose(np.sort(wr), [2.0, 3.0])
