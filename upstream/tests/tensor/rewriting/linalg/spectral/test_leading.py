import numpy as np
import pytest

import pytensor
import pytensor.tensor as pt
from pytensor.gradient import hessian_vector_product
from pytensor.graph.rewriting.utils import rewrite_graph
from pytensor.tensor.linalg.decomposition.eigen import Eigh, Eigvalsh
from pytensor.tensor.linalg.decomposition.svd import SVD


rng = np.random.default_rng(1985)
N = 80


def dense_core_ops(fn):
    ops = {
        type(getattr(node.op, "core_op", node.op))
        for node in fn.maker.fgraph.toposort()
    }
    return ops & {Eigh, Eigvalsh, SVD}


@pytest.mark.parametrize(
    "build, gradient_first",
    [
        (lambda A: pt.max(pt.linalg.eigvalsh(A)), True),
        (lambda A: pt.linalg.eigvalsh(A)[-1], True),
        (lambda A: pt.linalg.norm(A, 2), True),
        (lambda A: pt.max(pt.linalg.svd(A, compute_uv=False)), True),
        (lambda A: pt.min(pt.linalg.eigvalsh(A)), False),
    ],
    ids=["max_eigvalsh", "last_eigvalsh", "norm_2", "max_svd", "min_eigvalsh"],
)
def test_leading_values_use_lanczos(build, gradient_first):
    A = pt.matrix("A")
    out = build(A)
    dense = pytensor.function(
        [A],
        [out, pytensor.grad(out, A)],
        mode=pytensor.compile.get_default_mode().excluding("spectral"),
    )
    if not gradient_first:  # PyTensor's gradient graph is rewritten for max forms only
        out = rewrite_graph(out, include=("canonicalize",))
    fn = pytensor.function([A], [out, pytensor.grad(out, A)])
    assert not dense_core_ops(fn)
    assert dense_core_ops(dense)
    X = rng.normal(size=(N, N))
    A_val = X + X.T + 4 * np.outer(np.ones(N), np.ones(N)) / N
    (value, grad), (value_ref, grad_ref) = fn(A_val), dense(A_val)
    np.testing.assert_allclose(value, value_ref, rtol=1e-10)
    np.testing.assert_allclose(grad, grad_ref, atol=1e-8 * np.abs(grad_ref).max())


@pytest.mark.parametrize(
    "build",
    [lambda A: pt.max(pt.linalg.eigvalsh(A)), lambda A: pt.linalg.norm(A, 2)],
    ids=["max_eigvalsh", "norm_2"],
)
def test_second_derivatives_match_the_dense_graph(build):
    A, V = pt.matrix("A"), pt.matrix("V")
    hvp = hessian_vector_product(build(A), A, V)
    excluded = pytensor.compile.get_default_mode().excluding("spectral")
    dense = pytensor.function([A, V], hvp, mode=excluded)
    fn = pytensor.function([A, V], hvp)
    X, V_val = rng.normal(size=(2, N, N))
    A_val = X + X.T + 4 * np.outer(np.ones(N), np.ones(N)) / N
    np.testing.assert_allclose(fn(A_val, V_val), dense(A_val, V_val), rtol=1e-10)


def test_small_and_shared_decompositions_are_left_alone():
    A = pt.matrix("A", shape=(5, 5))
    fn = pytensor.function([A], pt.max(pt.linalg.eigvalsh(A)))
    assert dense_core_ops(fn)
    B = pt.matrix("B")
    w = pt.linalg.eigvalsh(B)
    fn = pytensor.function([B], [pt.max(w), pt.sum(w)])
    assert dense_core_ops(fn)
