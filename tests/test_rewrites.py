import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from pytensor.compile.mode import get_default_mode
from pytensor.gradient import verify_grad
from pytensor.graph import rewrite_graph
from pytensor.scan.op import Scan
from pytensor.tensor.linalg.decomposition.eigen import Eigh, Eigvalsh
from pytensor.tensor.linalg.decomposition.svd import SVD

from pytensor_spectral import eigvals, spectral_abscissa
from pytensor_spectral.abscissa import LeadingEigenvalue
from pytensor_spectral.eig import SchurEig
from pytensor_spectral.symmetric import CROSSOVER, SymmetricLeadingEigenpair
from tests.helpers import MODES, compile_fn, graph_op_types, op_types
from tests.test_abscissa import complex_leading
from tests.test_symmetric import lower_only, with_gap


N = CROSSOVER + 20
DENSE = get_default_mode().excluding("spectral")
DENSE_OPS = {Eigh, Eigvalsh, SVD}
CVM = MODES[
    "cvm"
]  # second-order tests: a Numba compile of a Hessian graph costs ≈ 40 s cold

SYMMETRIC = {
    "max(eigvalsh)": lambda A: pt.max(pt.linalg.eigvalsh(A)),
    "eigvalsh[-1]": lambda A: pt.linalg.eigvalsh(A)[-1],
    "eigh[0][-1]": lambda A: pt.linalg.eigh(A)[0][-1],
    "min(eigvalsh)": lambda A: pt.min(pt.linalg.eigvalsh(A)),
    "eigvalsh[0]": lambda A: pt.linalg.eigvalsh(A)[0],
    "eigh[0][0]": lambda A: pt.linalg.eigh(A)[0][0],
    "max(abs(eigvalsh))": lambda A: pt.max(pt.abs(pt.linalg.eigvalsh(A))),
    "max(abs(eigh[0]))": lambda A: pt.max(pt.abs(pt.linalg.eigh(A)[0])),
}
# Test matrices have a simple, well-separated *largest* eigenvalue; the patterns at the
# other end of the spectrum get them negated (then the smallest is), the largest-magnitude
# ones shifted by 0.1 (then |λmax| = 1.1 exceeds |λmin| ≤ 0.9 + rounding).
AT_THE_OTHER_END = {
    "min(eigvalsh)": lambda M: -M,
    "eigvalsh[0]": lambda M: -M,
    "eigh[0][0]": lambda M: -M,
    "max(abs(eigvalsh))": lambda M: M + 0.1 * np.eye(len(M)),
    "max(abs(eigh[0]))": lambda M: M + 0.1 * np.eye(len(M)),
}


def for_pattern(pattern, M):
    return AT_THE_OTHER_END.get(pattern, lambda M: M)(M)


SINGULAR = {
    "max(svd)": lambda A: pt.max(pt.linalg.svd(A, compute_uv=False)),
    "svd[0]": lambda A: pt.linalg.svd(A, compute_uv=False)[0],
    "norm(A, 2)": lambda A: pt.linalg.norm(A, 2),
}


def all_op_types(fn):
    """Core op types in a compiled graph and, recursively, in the inner graphs of its
    OpFromGraphs and lazy branches. Scan bodies are not searched: Lanczos takes the
    ``eigh`` of its small ``krylov_dim × krylov_dim`` tridiagonal projection there."""
    types = set()
    stack = list(fn.maker.fgraph.toposort())
    while stack:
        node = stack.pop()
        op = getattr(node.op, "core_op", node.op)
        types.add(type(op))
        if isinstance(op, Scan):
            continue
        for inner in ("fgraph", "true_branch", "false_branch"):
            sub = getattr(op, inner, None)
            sub = getattr(sub, "fgraph", sub)
            if sub is not None and hasattr(sub, "toposort"):
                stack.extend(sub.toposort())
    return types


def value_and_grad(expr_of, shape, mode=None):
    """Value and gradient of ``expr_of(A)``, the graph rewritten before the gradient
    (as PyMC does) unless compiled in the dense mode."""
    A = pt.matrix("A", shape=shape)
    out = expr_of(A)
    if mode is None:
        out = rewrite_graph(out, include=("canonicalize", "spectral"))
    return pytensor.function([A], [out, pytensor.grad(out, A)], mode=mode)


def symmetric_cases(rng):
    """Relative gaps 0.5 … 1e-6 and a near-degenerate leading pair (gap 1e-12)."""
    return [
        lower_only(rng, with_gap(rng, N, gap)) for gap in (1.0, 1e-2, 1e-4, 1e-6, 1e-12)
    ]


@pytest.mark.parametrize("pattern", SYMMETRIC)
def test_symmetric_rewrites_fire_and_match_dense(pattern):
    rng = np.random.default_rng(0)
    fast = value_and_grad(SYMMETRIC[pattern], (N, N))
    dense = value_and_grad(SYMMETRIC[pattern], (N, N), DENSE)
    assert not all_op_types(fast) & DENSE_OPS
    assert op_types(dense) & DENSE_OPS
    for k, An in enumerate(symmetric_cases(rng)):
        An = for_pattern(pattern, An)
        (a, ga), (b, gb) = fast(An), dense(An)
        np.testing.assert_allclose(a, b, rtol=1e-10)
        if k < 2:  # gradients where the leading eigenvalue is well separated
            np.testing.assert_allclose(ga, gb, atol=1e-8)


@pytest.mark.parametrize("pattern", SINGULAR)
def test_singular_rewrites_fire_and_match_dense(pattern):
    rng = np.random.default_rng(1)
    shape = (N + 30, N)
    fast = value_and_grad(SINGULAR[pattern], shape)
    dense = value_and_grad(SINGULAR[pattern], shape, DENSE)
    assert not all_op_types(fast) & DENSE_OPS
    U, _ = np.linalg.qr(rng.normal(size=(shape[0], N)))
    V, _ = np.linalg.qr(rng.normal(size=(N, N)))
    for k, gap in enumerate((1.0, 1e-2, 1e-4, 1e-6)):
        s = np.concatenate(
            [[2.0, 2.0 - gap], rng.uniform(0.0, 2.0 - 2 * gap, size=N - 2)]
        )
        An = (U * s) @ V.T
        (a, ga), (b, gb) = fast(An), dense(An)
        np.testing.assert_allclose(a, b, rtol=1e-10)
        if k < 2:
            np.testing.assert_allclose(ga, gb, atol=1e-8)


def test_rewrites_apply_at_compile_time_and_to_batches():
    """(Batched ``spectral_norm`` itself is tested in test_svd.py.)"""
    rng = np.random.default_rng(2)
    A = pt.tensor3("A", shape=(2, N, N))
    fn = compile_fn([A], pt.max(pt.linalg.eigvalsh(A), axis=-1))
    assert not all_op_types(fn) & DENSE_OPS
    An = rng.normal(size=(2, N, N))
    np.testing.assert_allclose(fn(An), np.linalg.eigvalsh(An)[:, -1], rtol=1e-10)


def test_rewrites_leave_small_and_shared_decompositions_alone():
    A = pt.matrix("A", shape=(CROSSOVER - 1, CROSSOVER - 1))
    assert Eigvalsh in op_types(compile_fn([A], pt.max(pt.linalg.eigvalsh(A))))
    B = pt.matrix("B", shape=(N, N))
    w = pt.linalg.eigvalsh(B)
    assert Eigvalsh in op_types(
        compile_fn([B], [pt.max(w), w.sum()])
    )  # w needed anyway
    w, V = pt.linalg.eigh(B)
    assert Eigh in op_types(compile_fn([B], [w[-1], V]))


def test_rewritten_gradients_pass_verify_grad():
    rng = np.random.default_rng(3)
    for expr_of, An in [
        (SYMMETRIC["max(eigvalsh)"], lower_only(rng, with_gap(rng, N, 0.5))),
        (SINGULAR["norm(A, 2)"], rng.normal(size=(N, N))),
    ]:
        verify_grad(
            lambda A, f=expr_of: rewrite_graph(f(A), include=("canonicalize",)),
            [An],
            rng=rng,
        )


def test_max_real_eigenvalue_rewrite_fixes_the_doubled_pair_gradient():
    """``grad(max(w_re))`` hands the cotangent to both members of a leading conjugate
    pair, doubling the gradient; the rewrite to ``spectral_abscissa`` (canonicalize, on
    by default) runs before the gradient is built and gives the right one."""
    rng = np.random.default_rng(4)
    An = complex_leading(rng, 6)
    A = pt.matrix("A")
    out = pt.max(eigvals(A)[0])
    rewritten = rewrite_graph(out, include=("canonicalize",))
    assert isinstance(rewritten.owner.op, LeadingEigenvalue)
    fn = compile_fn(
        [A], [out, pytensor.grad(rewritten, A), pytensor.grad(spectral_abscissa(A), A)]
    )
    _, right, reference = fn(An)
    doubled = pytensor.function([A], pytensor.grad(out, A), mode=DENSE)(An)
    np.testing.assert_allclose(right, reference, atol=1e-12)
    np.testing.assert_allclose(doubled, 2 * reference, atol=1e-10)
    h = 1e-6
    E = rng.normal(size=An.shape)
    fd = (fn(An + h * E)[0] - fn(An - h * E)[0]) / (2 * h)
    np.testing.assert_allclose(np.sum(right * E), fd, rtol=1e-6)


def test_replacement_is_the_lanczos_op():
    """The replacement is the Lanczos op (the thick-restart kernel with products on the
    matrix itself), and no dense decomposition is left in the compiled graph."""
    A = pt.matrix("A", shape=(N, N))
    fn = compile_fn([A], pt.max(pt.linalg.eigvalsh(A)))
    assert SymmetricLeadingEigenpair in op_types(fn)
    assert not all_op_types(fn) & DENSE_OPS


ALL_PATTERNS = {
    **SYMMETRIC,
    **SINGULAR,
    "max(eigvals[0])": lambda A: pt.max(eigvals(A)[0]),
}


def second_order_pair(expr_of, derivative):
    """``derivative(y, x)`` of ``expr_of(x.reshape(m, m))`` compiled twice: rewritten before
    differentiating (as PyMC does) and un-rewritten in the dense mode. ``m`` is not static,
    so the rewrite fires at every size (the replacement then picks dense or Lanczos).
    The cvm mode, to keep the suite's compile time down."""
    x, p = pt.vector("x"), pt.vector("p")
    m = pt.cast(pt.sqrt(pt.cast(x.shape[0], "float64")), "int64")
    y = expr_of(x.reshape((m, m)))
    rewritten = rewrite_graph(y, include=("canonicalize",))
    assert not graph_op_types([x], [rewritten]) & (DENSE_OPS | {SchurEig})
    fast = pytensor.function(
        [x, p], derivative(rewritten, x, p), mode=CVM, on_unused_input="ignore"
    )
    dense = pytensor.function(
        [x, p],
        derivative(y, x, p),
        mode=CVM.excluding("spectral"),
        on_unused_input="ignore",
    )
    return fast, dense


def real_leading(rng, n):
    """A matrix whose leading eigenvalue is real (so ``max(w_re)`` has no tied pair and
    the un-rewritten Hessian is the right one)."""
    A = rng.normal(size=(n, n)) / np.sqrt(n)  # spectrum within radius ≈ 1
    A = A + 3 * np.outer(np.ones(n), np.ones(n)) / n  # and a real eigenvalue near 3
    assert np.isreal(np.linalg.eigvals(A)[np.argmax(np.linalg.eigvals(A).real)])
    return A


@pytest.mark.parametrize("pattern", sorted(ALL_PATTERNS))
def test_rewrites_keep_the_hessian(pattern):
    """No rewrite takes a derivative order away: the dense Hessian (n = 6, dense path of
    the replacement) and Hessian-vector products (n = N, Lanczos path) of the rewritten
    graph equal those of the original."""
    rng = np.random.default_rng(5)
    full = second_order_pair(
        ALL_PATTERNS[pattern], lambda y, x, p: pytensor.gradient.hessian(y, x)
    )
    hvp = second_order_pair(
        ALL_PATTERNS[pattern],
        lambda y, x, p: pytensor.gradient.hessian_vector_product(y, x, p),
    )
    for n, (fast, dense) in ((6, full), (N, hvp)):
        An = real_leading(rng, n)
        if pattern in SYMMETRIC:
            An = for_pattern(pattern, with_gap(rng, n, 0.5))
        p = rng.normal(size=n * n)
        want = dense(An.ravel(), p)
        np.testing.assert_allclose(
            fast(An.ravel(), p), want, atol=1e-8 * np.abs(want).max()
        )
