"""Second derivatives of every public function: Hessians, Hessian-vector products and
forward-over-reverse, against central differences of the gradient, closed forms and
mpmath; clear errors where no second derivative exists."""

from importlib.util import find_spec

import mpmath
import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from pytensor.gradient import (
    NullTypeGradError,
    grad,
    hessian,
    hessian_vector_product,
    pushforward,
)

from pytensor_spectral import (
    eig,
    eigengap,
    eigvals,
    jacobian_numerical_abscissa,
    leading_eigvalsh,
    leading_singular_triplet,
    numerical_abscissa,
    spectral_abscissa,
    spectral_norm,
    spectral_radius,
    ssa,
)
from pytensor_spectral._graph import apply_core
from pytensor_spectral.svd import LeadingSingularTriplet
from pytensor_spectral.symmetric import CROSSOVER, leading_eigenpair, start_vectors
from tests.helpers import compile_fn


def eigvals_loss(A):
    """A loss of all eigenvalues that is not a trace polynomial: Σ|λ|² + Σ sin(Re λ)."""
    w_re, w_im = eigvals(A)
    return pt.sum(w_re**2 + w_im**2) + pt.sum(pt.sin(w_re))


def weights(m):
    return pt.cos(1.0 + pt.arange(m))


def triplet_loss(A):
    """A loss of all three outputs of the leading singular triplet."""
    u, sigma, v = leading_singular_triplet(A)
    return pt.sum(u * weights(u.shape[-1]), axis=-1) + sigma**2 + pt.sum(v**3, axis=-1)


def eig_loss(A):
    """A loss of eigenvalues and of both parts of the gauge-fixed eigenvectors."""
    w_re, _, v_re, v_im = eig(A)
    m = v_re.shape[-1]
    weights_matrix = pt.cos(pt.arange(m)[:, None] + 2.0 * pt.arange(m))
    return pt.sum(v_re * weights_matrix + v_im**2, axis=(-2, -1)) + pt.sum(
        w_re**2, axis=-1
    )


FUNCTIONS = {
    "eig": eig_loss,
    "eigvals": eigvals_loss,
    "spectral_abscissa": spectral_abscissa,
    "spectral_radius": spectral_radius,
    "ssa": lambda A: ssa(A),
    "numerical_abscissa": numerical_abscissa,
    "leading_eigvalsh": leading_eigvalsh,
    "eigengap": lambda A: eigengap(A, 2),
    "spectral_norm": spectral_norm,
    "leading_singular_triplet": triplet_loss,
}


def gradient_and_hessian(f, n, mode):
    """Compiled ``x -> (∇f, ∇²f)`` for ``f(x.reshape(n, n))``."""
    x = pt.vector("x", shape=(n * n,))
    y = f(x.reshape((n, n)))
    return compile_fn([x], [grad(y, x), hessian(y, x)], mode)


def central_hessian(gradient, x, h=1e-5):
    """Central differences of a gradient function, one column per coordinate."""
    return np.array(
        [(gradient(x + h * e) - gradient(x - h * e)) / (2 * h) for e in np.eye(x.size)]
    )


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_dense_hessian_matches_central_differences(name):
    n = 5
    fn = gradient_and_hessian(FUNCTIONS[name], n, "cvm")
    rng = np.random.default_rng(3)
    for _ in range(2):
        x = rng.normal(size=n * n)
        H = fn(x)[1]
        np.testing.assert_allclose(H, H.T, rtol=0, atol=1e-10 * np.abs(H).max())
        fd = central_hessian(lambda z: fn(z)[0], x)
        np.testing.assert_allclose(H, fd, rtol=0, atol=1e-6 * np.abs(H).max())


def test_numba_hessians_equal_cvm():
    """The default (Numba) mode, all functions in one compiled graph (one compile: a
    Numba compile of a Hessian graph costs about 40 s cold), equals the cvm mode."""
    n = 5
    x = pt.vector("x", shape=(n * n,))
    A = x.reshape((n, n))
    hessians = [hessian(FUNCTIONS[name](A), x) for name in sorted(FUNCTIONS)]
    values = np.random.default_rng(3).normal(size=n * n)
    numba = compile_fn([x], hessians, "numba")(values)
    cvm = compile_fn([x], hessians, "cvm")(values)
    for name, got, want in zip(sorted(FUNCTIONS), numba, cvm, strict=True):
        np.testing.assert_allclose(
            got, want, atol=1e-12 * np.abs(want).max(), err_msg=name
        )


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_batched_hessian_is_block_diagonal_of_single_ones(name):
    """Leading batch dimensions (Blockwise): the Hessian of the summed batch is block
    diagonal with the single-matrix Hessians as blocks."""
    n, batch = 4, 2
    f = FUNCTIONS[name]
    x = pt.vector("x", shape=(batch * n * n,))
    batched = compile_fn([x], hessian(pt.sum(f(x.reshape((batch, n, n)))), x), "cvm")
    single = gradient_and_hessian(f, n, "cvm")
    values = np.random.default_rng(4).normal(size=batch * n * n)
    H = batched(values)
    m = n * n
    for b in range(batch):
        block = slice(b * m, (b + 1) * m)
        np.testing.assert_allclose(
            H[block, block], single(values[block])[1], atol=1e-12
        )
    H[:m, :m] = H[m:, m:] = 0
    np.testing.assert_array_equal(H, 0)


def test_ssa_second_derivatives_in_eps():
    """The Hessian in ``(vec(A), eps)`` jointly, against central differences."""
    n = 4
    x = pt.vector("x", shape=(n * n + 1,))
    y = ssa(x[:-1].reshape((n, n)), x[-1])
    fn = compile_fn([x], [grad(y, x), hessian(y, x)], "cvm")
    values = np.append(np.random.default_rng(5).normal(size=n * n), 0.3)
    H = fn(values)[1]
    fd = central_hessian(lambda z: fn(z)[0], values)
    np.testing.assert_allclose(H, fd, atol=1e-6 * np.abs(H).max())
    np.testing.assert_allclose(H, H.T, atol=1e-10 * np.abs(H).max())


def triplet_products(A):
    """Products with ``A`` the Lanczos path of `leading_singular_triplet` uses."""
    return apply_core(LeadingSingularTriplet(), A, start_vectors(A, None))[-1]


def hvp_and_gradient(y, x, p, mode="cvm"):
    return compile_fn([x, p], [grad(y, x), hessian_vector_product(y, x, p)], mode)


def symmetric_with_gap(rng, n):
    """A symmetric matrix with a resolvable top gap (relative gap ≈ 0.1)."""
    Q = np.linalg.qr(rng.normal(size=(n, n)))[0]
    d = np.concatenate([[1.2], np.linspace(-1.0, 1.0, n - 1)])
    return (Q * d) @ Q.T


@pytest.mark.parametrize(
    "name", ["leading_eigvalsh", "spectral_norm", "leading_singular_triplet"]
)
def test_hessian_vector_product_on_the_iterative_path(name):
    """n = 100 (above the crossover, so Lanczos and the CG curvature solve run): the HVP
    equals central differences of the gradient and PyTensor's dense reference."""
    n = 2 * CROSSOVER
    rng = np.random.default_rng(6)
    x, p = pt.vector("x", shape=(n * n,)), pt.vector("p", shape=(n * n,))
    A = x.reshape((n, n))
    if name == "leading_eigvalsh":
        lam, _, products = leading_eigenpair(A)
        y, reference = lam, pt.linalg.eigvalsh(A)[-1]
        values = symmetric_with_gap(rng, n).ravel()
    elif name == "spectral_norm":
        y, products = spectral_norm(A), triplet_products(A)
        reference = pt.linalg.svd(A, compute_uv=False)[0]
        values = rng.normal(size=n * n)
    else:
        y, products = triplet_loss(A), triplet_products(A)
        u, s, vh = pt.linalg.svd(A, full_matrices=False)
        sign = pt.sign(u[pt.argmax(pt.abs(u[:, 0])), 0])
        reference = (
            pt.sum(sign * u[:, 0] * weights(n))
            + s[0] ** 2
            + pt.sum((sign * vh[0]) ** 3)
        )
        values = rng.normal(size=n * n)
    fn = hvp_and_gradient(y, x, p)
    dense = compile_fn([x, p], hessian_vector_product(reference, x, p), "cvm")
    direction = rng.normal(size=n * n)
    Hp = fn(values, direction)[1]
    step = 1e-6
    fd = (
        fn(values + step * direction, direction)[0]
        - fn(values - step * direction, direction)[0]
    )
    np.testing.assert_allclose(Hp, fd / (2 * step), atol=1e-5 * np.abs(Hp).max())
    np.testing.assert_allclose(
        Hp, dense(values, direction), atol=1e-8 * np.abs(Hp).max()
    )
    assert compile_fn([x], products, "cvm")(values) > 0


def test_forward_over_reverse_equals_reverse_over_reverse():
    """``pushforward(grad(y))`` (the ops' own pushforwards where PyTensor can use them,
    double pullbacks otherwise) equals the HVP."""
    n = 5
    rng = np.random.default_rng(7)
    x, p = pt.vector("x", shape=(n * n,)), pt.vector("p", shape=(n * n,))
    A = x.reshape((n, n))
    op_mode = {
        "eigvals",
        "spectral_abscissa",
        "spectral_radius",
        "ssa",
        "numerical_abscissa",
    }
    outputs = []
    for name in sorted(FUNCTIONS):
        y = FUNCTIONS[name](A)
        g = grad(y, x)
        outputs += [
            pushforward(g, x, p, use_op_pushforward=name in op_mode),
            hessian_vector_product(y, x, p),
        ]
    fn = compile_fn([x, p], outputs, "cvm")
    results = fn(rng.normal(size=n * n), rng.normal(size=n * n))
    for forward, reverse in zip(results[::2], results[1::2], strict=True):
        np.testing.assert_allclose(forward, reverse, atol=1e-10 * np.abs(reverse).max())


def test_closed_form_hessian_of_abscissa_of_a_diagonal_matrix():
    r""":math:`\partial^2\alpha / \partial A_{kj} \partial A_{jk} = 1/(d_k - d_j)` at
    ``diag(d)`` with ``d_k`` the largest, every other entry zero."""
    d = np.array([0.3, 2.0, -1.0, 0.7])
    n = d.size
    H = gradient_and_hessian(spectral_abscissa, n, "cvm")(np.diag(d).ravel())[1]
    expected = np.zeros((n * n, n * n))
    k = int(np.argmax(d))
    for j in range(n):
        if j != k:
            expected[k * n + j, j * n + k] = expected[j * n + k, k * n + j] = 1 / (
                d[k] - d[j]
            )
    np.testing.assert_allclose(H, expected, atol=1e-12)


def test_closed_form_hessian_at_a_rotation_scaling_block():
    r"""``A = [[a, -b], [b, a]]``: :math:`\lambda = t/2 + \sqrt{(A_{11} - A_{22})^2/4 +
    A_{12} A_{21}}`; the Hessians of :math:`\operatorname{Re}\lambda` and :math:`|\lambda|`
    from that formula (complex square root, by mpmath differentiation at 30 digits)."""
    a, b = 0.4, 1.3
    mpmath.mp.dps = 30

    def leading(entries, modulus):
        a11, a12, a21, a22 = entries
        lam = (a11 + a22) / 2 + mpmath.sqrt((a11 - a22) ** 2 / 4 + a12 * a21)
        return abs(lam) if modulus else mpmath.re(lam)

    point = [a, -b, b, a]
    for f, modulus in ((spectral_abscissa, False), (spectral_radius, True)):
        H = gradient_and_hessian(f, 2, "cvm")(np.array(point))[1]
        expected = np.array(
            [
                [
                    float(
                        mpmath.diff(
                            lambda s, t, i=i, j=j: leading(
                                [
                                    mpmath.mpf(x) + s * (k == i) + t * (k == j)
                                    for k, x in enumerate(point)
                                ],
                                modulus,
                            ),
                            (0, 0),
                            (1, 1),
                        )
                    )
                    for j in range(4)
                ]
                for i in range(4)
            ]
        )
        np.testing.assert_allclose(H, expected, atol=1e-12)


def test_ssa_of_a_multiple_of_the_identity():
    r"""``ssa(cI, ε) = c + nε/2`` with gradient ``I/n``, and :math:`\partial^2/\partial\varepsilon^2 = 0`,
    :math:`\partial^2/\partial c^2 = 0` along the identity (shift equivariance)."""
    n, c, eps = 3, -0.4, 0.2
    t, e = pt.scalar("t"), pt.scalar("e")
    y = ssa(t * np.eye(n), e)
    d_t, d_e = grad(y, [t, e])
    fn = compile_fn(
        [t, e], [y, grad(y, t), grad(d_t, t), grad(d_e, e), grad(d_t, e)], "cvm"
    )
    value, slope, d_tt, d_ee, d_te = fn(c, eps)
    np.testing.assert_allclose(value, c + n * eps / 2, rtol=1e-12)
    np.testing.assert_allclose(slope, 1.0, rtol=1e-12)
    np.testing.assert_allclose([d_tt, d_ee, d_te], 0.0, atol=1e-9)
    full = gradient_and_hessian(lambda A: ssa(A), n, "cvm")
    x = c * np.eye(n).ravel()
    H = full(x)[1]
    np.testing.assert_allclose(
        H, central_hessian(lambda z: full(z)[0], x), atol=1e-6 * np.abs(H).max()
    )


NON_NORMAL = {
    "full": np.array(
        [
            [1.0, 3.0, 0.0, -2.0],
            [0.0, -0.5, 4.0, 1.0],
            [0.2, 0.0, 0.3, 5.0],
            [0.0, 0.1, -0.4, 0.8],
        ]
    ),
    "triangular": np.triu(np.arange(1.0, 17.0).reshape(4, 4)) * 0.3
    - np.diag([0.0, 4.0, 1.0, 3.5]),
}


@pytest.mark.parametrize("matrix", sorted(NON_NORMAL))
def test_eigenvalue_hessian_against_mpmath_second_differences(matrix):
    """4×4 non-normal matrices (a full one with a complex pair, an upper triangular one):
    directional second derivatives ``eᵀ H f`` of an eigenvalue-symmetric loss and of the
    spectral abscissa, from mpmath's eigenvalues at 40 digits."""
    mpmath.mp.dps = 40
    A0 = NON_NORMAL[matrix]
    n = 4
    rng = np.random.default_rng(8)
    E, F = rng.normal(size=(2, n, n))

    def mp_eigenvalues(s, t):
        M = (
            mpmath.matrix(A0.tolist())
            + s * mpmath.matrix(E.tolist())
            + t * mpmath.matrix(F.tolist())
        )
        return mpmath.eig(M, left=False, right=False)

    references = {
        eigvals_loss: lambda s, t: sum(
            abs(w) ** 2 + mpmath.sin(mpmath.re(w)) for w in mp_eigenvalues(s, t)
        ),
        spectral_abscissa: lambda s, t: max(mpmath.re(w) for w in mp_eigenvalues(s, t)),
    }
    for f, reference in references.items():
        H = gradient_and_hessian(f, n, "cvm")(A0.ravel())[1]
        expected = float(mpmath.diff(reference, (0, 0), (1, 1)))
        np.testing.assert_allclose(E.ravel() @ H @ F.ravel(), expected, rtol=1e-9)


def test_matrix_free_numerical_abscissa_hessian():
    """``jacobian_numerical_abscissa`` of ``tanh(W z) − z``: the Hessian in ``W`` equals
    central differences of its gradient and the dense ``numerical_abscissa(jacobian)``
    route (v held constant would miss the eigenvector's share, ≈ 10 % here)."""
    n = 4
    w, z = pt.vector("w", shape=(n * n,)), pt.vector("z", shape=(n,))
    f = pt.tanh(w.reshape((n, n)) @ z) - z
    lam, _ = jacobian_numerical_abscissa(f, z)
    dense = numerical_abscissa(pytensor.gradient.jacobian(f, z))
    fn = compile_fn([w, z], [grad(lam, w), hessian(lam, w), hessian(dense, w)], "cvm")
    rng = np.random.default_rng(9)
    W, Z = rng.normal(size=n * n), rng.normal(size=n)
    _, H, H_dense = fn(W, Z)
    fd = central_hessian(lambda x: fn(x, Z)[0], W)
    np.testing.assert_allclose(H, fd, atol=1e-6 * np.abs(H).max())
    np.testing.assert_allclose(H, H_dense, atol=1e-9 * np.abs(H).max())


NO_SECOND_DERIVATIVE = {
    "repeated eigenvalue": (eigvals_loss, np.diag([1.0, 1.0, 2.0])),
    "eigenvectors at a repeated eigenvalue": (eig_loss, np.diag([1.0, 1.0, 2.0])),
    "tie for the abscissa": (
        spectral_abscissa,
        np.array([[1.0, -1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 1.0]]),
    ),
    "radius at zero": (spectral_radius, np.zeros((3, 3))),
    "repeated λmax": (leading_eigvalsh, np.eye(3)),
    "repeated ω": (numerical_abscissa, np.eye(3)),
    "repeated σ₁": (spectral_norm, np.eye(3)),
    "triplet at repeated σ₁": (triplet_loss, np.diag([2.0, 2.0, 1.0])),
}


@pytest.mark.parametrize("case", sorted(NO_SECOND_DERIVATIVE))
def test_no_second_derivative_is_a_clear_error(case):
    f, value = NO_SECOND_DERIVATIVE[case]
    n = value.shape[0]
    fn = gradient_and_hessian(f, n, "cvm")
    with pytest.raises(ValueError, match=r"repeated|tie|zero|not differentiable"):
        fn(value.ravel())


def test_third_derivatives_raise_not_silently_zero():
    A = pt.matrix("A", shape=(3, 3))
    for y in (eigvals_loss(A), spectral_abscissa(A)):
        g = grad(y, A)
        h = grad(pt.sum(g * np.arange(9).reshape(3, 3)), A)
        with pytest.raises(NullTypeGradError, match="third derivatives"):
            grad(pt.sum(h**2), A)


@pytest.mark.skipif(find_spec("jax") is None, reason="jax is not installed")
def test_symbolic_hessians_run_in_jax_mode():
    """Hessians built by PyTensor, compiled in JAX mode (second-order Schur ops as host
    callbacks, the Lanczos curvature solve as a dense solve), equal the cvm results; n = 60
    takes the Lanczos path of ``leading_eigvalsh``."""
    n, m = 5, CROSSOVER + 10
    x = pt.vector("x", shape=(n * n,))
    z, p = pt.vector("z", shape=(m * m,)), pt.vector("p", shape=(m * m,))
    A = x.reshape((n, n))
    outputs = [hessian(FUNCTIONS[name](A), x) for name in sorted(FUNCTIONS)]
    outputs.append(hessian_vector_product(leading_eigvalsh(z.reshape((m, m))), z, p))
    rng = np.random.default_rng(10)
    values = [
        rng.normal(size=n * n),
        symmetric_with_gap(rng, m).ravel(),
        rng.normal(size=m * m),
    ]
    jax_results = compile_fn([x, z, p], outputs, "jax")(*values)
    cvm_results = compile_fn([x, z, p], outputs, "cvm")(*values)
    for got, want in zip(jax_results, cvm_results, strict=True):
        np.testing.assert_allclose(got, want, atol=1e-9 * np.abs(want).max())
