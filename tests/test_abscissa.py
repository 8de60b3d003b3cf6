import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from pytensor.gradient import pushforward, verify_grad

from pytensor_spectral import (
    eigvals,
    jacobian_numerical_abscissa,
    numerical_abscissa,
    spectral_abscissa,
    spectral_radius,
    ssa,
)
from tests.helpers import MODES, compile_fn, random_matrix


MEASURES = {
    "abscissa": (spectral_abscissa, lambda w: w.real.max()),
    "radius": (spectral_radius, lambda w: np.abs(w).max()),
    "numerical": (numerical_abscissa, None),
}


def reference(name, An):
    if name == "numerical":
        return np.linalg.eigvalsh((An + An.T) / 2).max()
    return MEASURES[name][1](np.linalg.eigvals(An))


def complex_leading(rng, n):
    """A matrix whose leading eigenvalue (in real part and modulus) is a complex pair."""
    D = np.diag(rng.uniform(-1.0, 0.5, size=n))
    D[:2, :2] = [[1.0, -2.0], [2.0, 1.0]]
    S = rng.normal(size=(n, n)) + 3 * np.eye(n)
    return S @ D @ np.linalg.inv(S)


# ---------------------------------------------------------------- values


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", MEASURES)
def test_values_match_numpy(mode, name):
    rng = np.random.default_rng(10)
    A = pt.matrix("A")
    fn = compile_fn([A], MEASURES[name][0](A), mode)
    cases = [random_matrix(rng, n, "general") for n in (1, 2, 7, 30)]
    cases += [random_matrix(rng, 6, "real"), random_matrix(rng, 6, "complex")]
    cases += [
        complex_leading(rng, 8),
        np.triu(rng.normal(size=(6, 6))),
    ]  # triangular: no QR
    for An in cases:
        np.testing.assert_allclose(fn(An), reference(name, An), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", MEASURES)
def test_batched_values_and_gradients(name):
    rng = np.random.default_rng(11)
    batch = rng.normal(size=(2, 3, 5, 5))
    A = pt.tensor4("A")
    out = MEASURES[name][0](A)
    fn = compile_fn([A], [out, pytensor.grad(out.sum(), A)])
    value, grad = fn(batch)
    M = pt.matrix("M")
    single = MEASURES[name][0](M)
    fn1 = compile_fn([M], [single, pytensor.grad(single, M)])
    for idx in np.ndindex(2, 3):
        v1, g1 = fn1(batch[idx])
        np.testing.assert_allclose(value[idx], v1, rtol=1e-12)
        np.testing.assert_allclose(grad[idx], g1, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(value[idx], reference(name, batch[idx]), rtol=1e-10)


_BOUNDS = {}


def _bounds_fn():
    """Compiled once for all hypothesis examples."""
    if "fn" not in _BOUNDS:
        A = pt.matrix("A")
        _BOUNDS["fn"] = compile_fn(
            [A], [spectral_abscissa(A), numerical_abscissa(A), ssa(A)]
        )
    return _BOUNDS["fn"]


@settings(max_examples=25, deadline=None)
@given(arrays(np.float64, (5, 5), elements=st.floats(-10, 10)))
def test_property_bounds(An):
    """α ≤ ω, and α + ε/2 ≤ ssa ≤ ω + nε/2 with the default ε = 1.5/n."""
    alpha, omega, smoothed = _bounds_fn()(An)
    eps, slack = 1.5 / 5, 1e-10 * (1 + np.abs(An).max())
    assert omega >= alpha - slack
    assert alpha + eps / 2 - slack <= smoothed <= omega + 5 * eps / 2 + slack


def test_float32():
    rng = np.random.default_rng(12)
    An = rng.normal(size=(6, 6)).astype("float32")
    A = pt.matrix("A", dtype="float32")
    for name, (f, _) in MEASURES.items():
        out = f(A)
        g = pytensor.grad(out, A)
        assert out.dtype == g.dtype == "float32"
        value, grad = compile_fn([A], [out, g])(An)
        assert value.dtype == grad.dtype == np.float32
        np.testing.assert_allclose(value, reference(name, An.astype(float)), rtol=1e-5)


# ---------------------------------------------------------------- gradients


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", MEASURES)
def test_verify_grad(mode, name):
    rng = np.random.default_rng(13)
    for An in (
        rng.normal(size=(5, 5)),
        complex_leading(rng, 5),
        random_matrix(rng, 4, "real"),
    ):
        verify_grad(MEASURES[name][0], [An], rng=rng, mode=MODES[mode])


def test_abscissa_and_radius_gradients_match_eigvals_route():
    """Independent reference: the Schur-form eigenvalue pullback (`eigvals`, ``gees`` +
    ``trevc``) of the leading eigenvalue, vs the Hessenberg inverse-iteration route."""
    rng = np.random.default_rng(14)
    A = pt.matrix("A")
    w_re, w_im = eigvals(A)
    k = pt.argmax(w_re)
    j = pt.argmax(w_re**2 + w_im**2)
    refs = [w_re[k], pt.sqrt(w_re[j] ** 2 + w_im[j] ** 2)]
    ours = [spectral_abscissa(A), spectral_radius(A)]
    fn = compile_fn([A], [pytensor.grad(x, A) for x in refs + ours])
    for An in (
        rng.normal(size=(9, 9)),
        complex_leading(rng, 7),
        random_matrix(rng, 6, "real"),
    ):
        g_ref_a, g_ref_r, g_a, g_r = fn(An)
        np.testing.assert_allclose(g_a, g_ref_a, rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(g_r, g_ref_r, rtol=1e-8, atol=1e-10)
        assert np.isclose(
            np.trace(g_a), 1.0
        )  # shift equivariance: α(A + cI) = α(A) + c


def test_closed_forms():
    A = pt.matrix("A")
    fn = compile_fn(
        [A],
        [
            pytensor.grad(f(A), A)
            for f in (spectral_abscissa, spectral_radius, numerical_abscissa)
        ],
    )
    # diagonal: the gradient picks the leading diagonal entry
    g_a, g_r, g_w = fn(np.diag([0.5, 2.0, -3.0]))
    np.testing.assert_allclose(g_a, np.diag([0.0, 1.0, 0.0]), atol=1e-14)
    np.testing.assert_allclose(g_r, np.diag([0.0, 0.0, -1.0]), atol=1e-14)
    np.testing.assert_allclose(g_w, np.diag([0.0, 1.0, 0.0]), atol=1e-14)
    # rotation-scaling block a ± ib: ∂α = I/2, ∂ρ = [[a, -b], [b, a]] / (2ρ)
    a, b = 0.3, 1.7
    M = np.array([[a, -b], [b, a]])
    g_a, g_r, g_w = fn(M)
    np.testing.assert_allclose(g_a, np.eye(2) / 2, atol=1e-14)
    np.testing.assert_allclose(g_r, M / (2 * np.hypot(a, b)), atol=1e-14)
    # (A + Aᵀ)/2 = aI: every unit v is a leading eigenvector; v vᵀ is a subgradient
    np.testing.assert_allclose(g_w, g_w.T, atol=1e-15)
    np.testing.assert_allclose(np.linalg.eigvalsh(g_w), [0.0, 1.0], atol=1e-14)


def test_repeated_leading_eigenvalue_gets_the_cluster_mean():
    """At A = diag(2, 2, 1) (and a similarity transform of it) the gradient is that of
    the mean of the repeated eigenvalues: the spectral projector / 2."""
    A = pt.matrix("A")
    fn = compile_fn([A], pytensor.grad(spectral_abscissa(A), A))
    np.testing.assert_allclose(
        fn(np.diag([2.0, 2.0, 1.0])), np.diag([0.5, 0.5, 0.0]), atol=1e-12
    )
    rng = np.random.default_rng(15)
    S = rng.normal(size=(3, 3)) + 2 * np.eye(3)
    Si = np.linalg.inv(S)
    P = S @ np.diag([1.0, 1.0, 0.0]) @ Si
    np.testing.assert_allclose(
        fn(S @ np.diag([2.0, 2.0, 1.0]) @ Si), P.T / 2, atol=1e-9
    )
    np.testing.assert_allclose(fn(np.eye(4)), np.eye(4) / 4, atol=1e-14)


def test_defective_leading_eigenvalue_value_works_gradient_is_an_error():
    """A Jordan block: the value is defined, the gradient is not (α is not Lipschitz)."""
    A = pt.matrix("A")
    J = np.diag([1.0, 1.0], 1)  # 3×3 nilpotent Jordan block
    assert compile_fn([A], spectral_abscissa(A))(J) == 0.0
    with pytest.raises(ValueError, match="defective"):
        compile_fn([A], pytensor.grad(spectral_abscissa(A), A))(J)


def test_radius_of_nilpotent_matrix_has_zero_gradient():
    A = pt.matrix("A")
    value, grad = compile_fn(
        [A], [spectral_radius(A), pytensor.grad(spectral_radius(A), A)]
    )(np.triu(np.ones((3, 3)), 1))
    assert value == 0
    np.testing.assert_array_equal(grad, 0)


def test_pushforward_matches_pullback():
    rng = np.random.default_rng(16)
    A, dA = pt.matrix("A"), pt.matrix("dA")
    outs = []
    for f in (spectral_abscissa, spectral_radius, numerical_abscissa):
        y = f(A)
        outs += [pushforward(y, A, dA, use_op_pushforward=True), pytensor.grad(y, A)]
    fn = compile_fn([A, dA], outs)
    An, dAn = complex_leading(rng, 6), rng.normal(size=(6, 6))
    res = fn(An, dAn)
    for tangent, grad in zip(res[::2], res[1::2], strict=True):
        np.testing.assert_allclose(tangent, np.sum(grad * dAn), rtol=1e-12)


# ---------------------------------------------------------------- matrix-free


def mlp(n, rng):
    z, W, b = pt.vector("z"), pt.matrix("W"), pt.vector("b")
    values = [
        rng.normal(size=n),
        rng.normal(size=(n, n)) / np.sqrt(n),
        rng.normal(size=n),
    ]
    return (z, W, b), pt.tanh(W @ z + b), values


def test_matrix_free_equals_dense_jacobian_route():
    rng = np.random.default_rng(17)
    (z, W, b), f, values = mlp(40, rng)
    lam, _ = jacobian_numerical_abscissa(f, z)
    dense = numerical_abscissa(pytensor.gradient.jacobian(f, z))
    fn = compile_fn(
        [z, W, b],
        [lam, dense, *pytensor.grad(lam, [W, b, z]), *pytensor.grad(dense, [W, b, z])],
    )
    lam_v, dense_v, *grads = fn(*values)
    np.testing.assert_allclose(lam_v, dense_v, rtol=1e-12)
    for ours, ref in zip(grads[:3], grads[3:], strict=True):
        np.testing.assert_allclose(ours, ref, rtol=1e-9, atol=1e-11)


def test_matrix_free_verify_grad():
    rng = np.random.default_rng(18)
    zv = rng.normal(size=6)

    def omega(W, b):
        z = pt.vector("z")
        lam, _ = jacobian_numerical_abscissa(pt.tanh(W @ z + b), z)
        return pytensor.graph.replace.graph_replace(lam, {z: pt.constant(zv)})

    verify_grad(omega, [rng.normal(size=(6, 6)), rng.normal(size=6)], rng=rng)


def test_matrix_free_finds_largest_not_largest_modulus():
    """Eigenvalues of the symmetric part −10, 1, 0.5: power iteration would return −10."""
    rng = np.random.default_rng(19)
    Qm, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    M = Qm @ np.diag([-10.0, 1.0, 0.5]) @ Qm.T
    z = pt.vector("z")
    lam, v = jacobian_numerical_abscissa(pt.constant(M) @ z, z)
    lam_v, v_v = compile_fn([z], [lam, v])(np.zeros(3))
    np.testing.assert_allclose(lam_v, 1.0, rtol=1e-12)
    np.testing.assert_allclose(np.abs(v_v @ Qm[:, 1]), 1.0, rtol=1e-10)


def test_matrix_free_warm_start_and_non_convergence():
    rng = np.random.default_rng(20)
    (z, W, b), f, values = mlp(30, rng)
    v0 = pt.vector("v0")
    lam, v = jacobian_numerical_abscissa(f, z, v0, krylov_dim=5, max_restarts=200)
    lam_v, v_v = compile_fn([z, W, b, v0], [lam, v])(*values, np.ones(30))
    warm_lam, _ = compile_fn([z, W, b, v0], [lam, v])(*values, v_v)
    np.testing.assert_allclose(warm_lam, lam_v, rtol=1e-12)
    # too few products for the tolerance: reported, not returned silently
    lam_bad, _ = jacobian_numerical_abscissa(
        f, z, krylov_dim=2, max_restarts=1, tol=1e-14
    )
    with pytest.raises(AssertionError, match="did not converge"):
        compile_fn([z, W, b], lam_bad)(*values)


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("f", [spectral_abscissa, spectral_radius, numerical_abscissa])
def test_bad_input(f):
    with pytest.raises(ValueError, match="square"):
        f(pt.matrix("A", shape=(2, 3)))
    with pytest.raises(ValueError, match="ndim"):
        f(pt.vector("a"))
    with pytest.raises(TypeError, match="real"):
        f(pt.matrix("A", dtype="complex128"))
    A = pt.matrix("A")
    fn = compile_fn([A], f(A))
    for bad, match in [
        (np.ones((2, 3)), "square"),
        (np.array([[1.0, np.nan], [0.0, 1.0]]), "NaN"),
        (np.array([[1.0, np.inf], [0.0, 1.0]]), "NaN"),
        (np.zeros((0, 0)), "empty"),
    ]:
        with pytest.raises(ValueError, match=match):
            fn(bad)
    int_fn = compile_fn([Ai := pt.lmatrix("Ai")], f(Ai))
    np.testing.assert_allclose(int_fn(np.array([[2, 1], [1, 2]])), 3.0)


def test_matrix_free_bad_input():
    z = pt.vector("z")
    with pytest.raises(ValueError, match="vectors"):
        jacobian_numerical_abscissa(pt.outer(z, z), z)
    lam, _ = jacobian_numerical_abscissa(z[:2] * 2.0, z)
    with pytest.raises(AssertionError, match="same length"):
        compile_fn([z], lam)(np.ones(3))
