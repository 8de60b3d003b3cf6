"""PyTensor's own spectral graphs (``pt.linalg.eig``, ``eigvalsh``, ``norm``) meet the
package: complex ``Eig`` becomes the real-valued ops, more leading-value patterns."""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from pytensor.assumptions import assume
from pytensor.gradient import hessian
from pytensor.graph import rewrite_graph
from pytensor.tensor.linalg.decomposition.eigen import Eig, Eigh, Eigvalsh
from pytensor.tensor.linalg.decomposition.svd import SVD

from pytensor_spectral import eigvals, spectral_abscissa, spectral_radius
from pytensor_spectral.svd import LeadingSingularTriplet
from pytensor_spectral.symmetric import CROSSOVER, SymmetricLeadingEigenpair
from tests.helpers import MODES, graph_op_types, random_matrix
from tests.test_abscissa import complex_leading
from tests.test_rewrites import DENSE, all_op_types
from tests.test_symmetric import with_gap


def w(A):
    return pt.linalg.eig(A)[0]


def sum_of(f):
    return lambda A: pt.sum(f(*eigvals(A)))


# order-free uses of PyTensor's complex eigenvalues, and the same written with the package
COMPLEX_EIG = {
    "sum(real(w))": (lambda A: pt.sum(pt.real(w(A))), sum_of(lambda re, im: re)),
    "max(abs(w))": (lambda A: pt.max(pt.abs(w(A))), spectral_radius),
    "max(real(w))": (lambda A: pt.max(pt.real(w(A))), spectral_abscissa),
    "sum(abs(w)**2)": (
        lambda A: pt.sum(pt.abs(w(A)) ** 2),
        sum_of(lambda re, im: re**2 + im**2),
    ),
    "prod(abs(w))": (
        lambda A: pt.prod(pt.abs(w(A))),
        lambda A: pt.abs(pt.linalg.det(A)),
    ),
    "logsumexp(real(w))": (
        lambda A: pt.log(pt.sum(pt.exp(pt.real(w(A))))),
        lambda A: pt.log(pt.sum(pt.exp(eigvals(A)[0]))),
    ),
    "var(imag(w))": (lambda A: pt.var(pt.imag(w(A))), lambda A: pt.var(eigvals(A)[1])),
    "sum(angle(w)**2)": (
        lambda A: pt.sum(pt.angle(w(A)) ** 2),
        sum_of(lambda re, im: pt.arctan2(im, re) ** 2),
    ),
    "sort(real(w))[-1]": (lambda A: pt.sort(pt.real(w(A)))[-1], spectral_abscissa),
}


def rewritten(y):
    """PyMC's pre-gradient rewrite."""
    return rewrite_graph(y, include=("canonicalize", "stabilize"))


def directional_fd(f, An, E, h=1e-6):
    return (f(An + h * E) - f(An - h * E)) / (2 * h)


@pytest.mark.parametrize("pattern", COMPLEX_EIG)
def test_complex_eig_uses_become_differentiable(pattern):
    """No complex ``Eig`` left; value = the original graph's (dense mode, 1e-10); gradient
    (Numba mode, no object mode) = the package's own graph's and central differences."""
    original, reference = COMPLEX_EIG[pattern]
    A = pt.matrix("A")
    y = rewritten(original(A))
    assert Eig not in graph_op_types([A], [y])
    fn = pytensor.function([A], [y, pytensor.grad(y, A)])
    ref = pytensor.function([A], [reference(A), pytensor.grad(reference(A), A)])
    before = pytensor.function([A], original(A), mode=DENSE)
    assert Eig in all_op_types(before)
    rng = np.random.default_rng(0)
    for An in (
        complex_leading(rng, 6),
        random_matrix(rng, 5, "real"),
        rng.normal(size=(7, 7)),
    ):
        value, grad = fn(An)
        want_value, want_grad = ref(An)
        np.testing.assert_allclose(value, before(An), rtol=1e-10)
        np.testing.assert_allclose(value, want_value, rtol=1e-12)
        np.testing.assert_allclose(grad, want_grad, rtol=1e-9, atol=1e-12)
        E = rng.normal(size=An.shape)
        fd = directional_fd(lambda M: fn(M)[0], An, E)
        np.testing.assert_allclose(np.sum(grad * E), fd, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize(
    "pattern", ["max(abs(w))", "sum(abs(w)**2)", "logsumexp(real(w))"]
)
def test_complex_eig_uses_have_second_derivatives(pattern):
    """Hessian of the rewritten graph = the package graph's Hessian and central
    differences of its gradient (cvm mode)."""
    original, reference = COMPLEX_EIG[pattern]
    n = 5
    x = pt.vector("x", shape=(n * n,))
    y = rewritten(original(x.reshape((n, n))))
    fn = pytensor.function([x], [pytensor.grad(y, x), hessian(y, x)], mode=MODES["cvm"])
    ref = pytensor.function(
        [x], hessian(reference(x.reshape((n, n))), x), mode=MODES["cvm"]
    )
    rng = np.random.default_rng(1)
    xn = complex_leading(rng, n).ravel()
    _, H = fn(xn)
    np.testing.assert_allclose(H, ref(xn), rtol=1e-8, atol=1e-10)
    E = rng.normal(size=xn.shape)
    fd = directional_fd(lambda v: fn(v)[0], xn, E)
    np.testing.assert_allclose(H @ E, fd, rtol=1e-5, atol=1e-7)


def test_complex_eig_rewrite_is_batched():
    A = pt.tensor3("A")
    y = rewritten(pt.max(pt.abs(w(A)), axis=-1))
    assert Eig not in graph_op_types([A], [y])
    fn = pytensor.function([A], [y, pytensor.grad(pt.sum(y), A)])
    An = np.random.default_rng(2).normal(size=(3, 6, 6))
    value, grad = fn(An)
    np.testing.assert_allclose(
        value, np.abs(np.linalg.eigvals(An)).max(axis=-1), rtol=1e-12
    )
    M = pt.matrix("M")
    single = pytensor.function([M], pytensor.grad(spectral_radius(M), M))
    for k in range(3):
        np.testing.assert_allclose(grad[k], single(An[k]), rtol=1e-10)


ORDER_DEPENDENT = {
    "real(w)[0]": lambda A: pt.real(w(A))[0],
    "sum(real(w) * c)": lambda A: pt.sum(pt.real(w(A)) * pt.arange(A.shape[0])),
    "real(w) as output": lambda A: pt.real(w(A)),
    "eigenvectors used": lambda A: (
        pt.sum(pt.real(w(A))) + pt.sum(pt.abs(pt.linalg.eig(A)[1]))
    ),
    "complex consumer": lambda A: pt.sum(pt.real(pt.exp(w(A)))),
    "argmax": lambda A: pt.argmax(pt.real(w(A))),
    "cumsum": lambda A: pt.sum(pt.cumsum(pt.real(w(A)))),
}


@pytest.mark.parametrize("pattern", ORDER_DEPENDENT)
def test_order_dependent_and_complex_uses_are_left_alone(pattern):
    A = pt.matrix("A")
    y = rewritten(ORDER_DEPENDENT[pattern](A))
    assert Eig in graph_op_types([A], [y])


def test_complex_input_and_excluding_spectral_are_left_alone():
    Z = pt.matrix("Z", dtype="complex128")
    assert Eig in graph_op_types([Z], [rewritten(pt.sum(pt.real(w(Z))))])
    A = pt.matrix("A")
    fn = pytensor.function([A], pt.sum(pt.real(w(A))), mode=DENSE)
    assert Eig in all_op_types(fn)


def test_the_unrewritten_gradient_still_raises_pytensors_error():
    """Differentiating before any rewrite runs PyTensor's own ``Eig`` pullback, which
    raises; the package cannot intercept it without changing PyTensor (documented)."""
    A = pt.matrix("A")
    with pytest.raises((NotImplementedError, TypeError)):
        pytensor.grad(pt.sum(pt.real(w(A))), A)


# ---------------------------------------------------------------- symmetric matrices

N = CROSSOVER + 20


def leading_ops(fn):
    """Lanczos eigenpair / singular-triplet nodes of a compiled graph."""
    return [
        type(getattr(node.op, "core_op", node.op))
        for node in fn.maker.fgraph.toposort()
        if isinstance(
            getattr(node.op, "core_op", node.op),
            SymmetricLeadingEigenpair | LeadingSingularTriplet,
        )
    ]


def test_psd_norm_runs_lanczos_on_the_matrix_itself():
    """``norm(X Xᵀ, 2)`` and ``norm(S, 2)`` of an ``assume``-d positive definite ``S``:
    one symmetric Lanczos (one product per step), no SVD, no Lanczos on ``SᵀS``; value
    and gradient = the dense graph's."""
    rng = np.random.default_rng(3)
    X = pt.matrix("X", shape=(N, N // 2))
    S = pt.matrix("S", shape=(N, N))
    for inp, y, value in [
        (X, pt.linalg.norm(X @ X.T, 2), rng.normal(size=(N, N // 2))),
        (
            S,
            pt.linalg.norm(assume(S, symmetric=True, positive_definite=True), 2),
            with_gap(rng, N, 0.5) + np.eye(N),  # spectrum in [0, 2], gap 0.5 at the top
        ),
    ]:
        fast = pytensor.function([inp], [y, pytensor.grad(rewritten(y), inp)])
        dense = pytensor.function([inp], [y, pytensor.grad(y, inp)], mode=DENSE)
        assert leading_ops(fast) == [SymmetricLeadingEigenpair]
        assert not all_op_types(fast) & {SVD, Eigh, Eigvalsh}
        (a, ga), (b, gb) = fast(value), dense(value)
        np.testing.assert_allclose(a, b, rtol=1e-10)
        if inp is S:  # symmetric S: PyTensor's own svd → eigvalsh rewrite gives the
            ga, gb = ga + ga.T, gb + gb.T  # one-triangle gradient; compare along S = Sᵀ
        np.testing.assert_allclose(ga, gb, rtol=1e-7, atol=1e-9 * np.abs(gb).max())


GRAD_THEN_COMPILE = {
    "max(eigvalsh)": lambda A: pt.max(pt.linalg.eigvalsh(A)),
    "eigvalsh[-1]": lambda A: pt.linalg.eigvalsh(A)[-1],
    "norm(A, 2)": lambda A: pt.linalg.norm(A, 2),
    "svd[0]": lambda A: pt.linalg.svd(A, compute_uv=False)[0],
}


@pytest.mark.parametrize("pattern", GRAD_THEN_COMPILE)
def test_gradient_built_before_rewriting_runs_no_dense_decomposition(pattern):
    """``pytensor.function([A], [y, pytensor.grad(y, A)])`` on the un-rewritten graph
    (n = 300): PyTensor's pullback builds a dense ``eigh``/``svd`` contracted with a
    cotangent supported on the leading index; the compiled function has no dense
    decomposition left, and value and gradient equal the dense mode's."""
    n = 300
    A = pt.matrix("A", shape=(n, n))
    y = GRAD_THEN_COMPILE[pattern](A)
    fast = pytensor.function([A], [y, pytensor.grad(y, A)])
    dense = pytensor.function([A], [y, pytensor.grad(y, A)], mode=DENSE)
    assert not all_op_types(fast) & {SVD, Eigh, Eigvalsh}
    assert all_op_types(dense) & {SVD, Eigh, Eigvalsh}
    rng = np.random.default_rng(4)
    An = with_gap(rng, n, 0.5) if "eig" in pattern else rng.normal(size=(n, n))
    (a, ga), (b, gb) = fast(An), dense(An)
    np.testing.assert_allclose(a, b, rtol=1e-10)
    np.testing.assert_allclose(ga, gb, atol=1e-8 * np.abs(gb).max())


def test_gradient_rewrite_keeps_hessians_and_leaves_other_cotangents_alone():
    """A Hessian-vector product built on the un-rewritten graph compiles to the dense
    mode's values (the rewrite only replaces first-order contractions it can prove
    rank one); a cotangent that is not supported on the leading index (``sum``) keeps
    the dense ``eigh``."""
    n = N
    x, p = pt.vector("x", shape=(n * n,)), pt.vector("p", shape=(n * n,))
    y = pt.max(pt.linalg.eigvalsh(x.reshape((n, n))))
    hvp = pytensor.gradient.hessian_vector_product(y, x, p)
    fast = pytensor.function([x, p], hvp, mode=MODES["cvm"])
    dense = pytensor.function([x, p], hvp, mode=MODES["cvm"].excluding("spectral"))
    rng = np.random.default_rng(5)
    xn, pn = with_gap(rng, n, 0.5).ravel(), rng.normal(size=n * n)
    want = dense(xn, pn)
    np.testing.assert_allclose(fast(xn, pn), want, atol=1e-8 * np.abs(want).max())
    A = pt.matrix("A", shape=(n, n))
    total = pt.sum(pt.linalg.eigvalsh(A) ** 2)
    assert all_op_types(pytensor.function([A], pytensor.grad(total, A))) & {
        Eigh,
        Eigvalsh,
    }


def test_psd_rewrite_keeps_the_hessian():
    """``norm(X Xᵀ, 2)``: the Hessian-vector product of the rewritten graph (one Lanczos
    on ``X Xᵀ``) equals the un-rewritten dense one (cvm mode)."""
    rows, cols = N, N // 2
    x, p = pt.vector("x", shape=(rows * cols,)), pt.vector("p", shape=(rows * cols,))
    X = x.reshape((rows, cols))
    y = pt.linalg.norm(X @ X.T, 2)
    hvp = pytensor.gradient.hessian_vector_product
    fast = pytensor.function([x, p], hvp(rewritten(y), x, p), mode=MODES["cvm"])
    dense = pytensor.function(
        [x, p], hvp(y, x, p), mode=MODES["cvm"].excluding("spectral")
    )
    assert leading_ops(fast) == [SymmetricLeadingEigenpair]
    rng = np.random.default_rng(6)
    xn, pn = rng.normal(size=rows * cols), rng.normal(size=rows * cols)
    want = dense(xn, pn)
    np.testing.assert_allclose(fast(xn, pn), want, atol=1e-8 * np.abs(want).max())
