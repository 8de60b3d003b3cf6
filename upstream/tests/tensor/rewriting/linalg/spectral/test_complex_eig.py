import numpy as np

import pytensor
import pytensor.tensor as pt
from pytensor.graph.rewriting.utils import rewrite_graph
from pytensor.graph.traversal import applys_between
from pytensor.tensor.linalg import eig, spectral_abscissa, spectral_radius
from pytensor.tensor.linalg.decomposition.eigen import Eig


rng = np.random.default_rng(2022)


def op_types(out):
    return {
        type(getattr(node.op, "core_op", node.op)) for node in applys_between([], [out])
    }


def test_order_free_uses_of_complex_eig_become_real():
    A = pt.matrix("A")
    w = eig(A)[0]
    radius = rewrite_graph(pt.max(pt.abs(w)), include=("canonicalize",))
    abscissa = rewrite_graph(pt.max(pt.real(w)), include=("canonicalize",))
    assert Eig not in op_types(radius) and Eig not in op_types(abscissa)
    # the rewritten graphs are differentiable, where Eig's pullback raises
    fn = pytensor.function(
        [A],
        [
            radius,
            pytensor.grad(radius, A),
            pytensor.grad(spectral_radius(A), A),
            abscissa,
            pytensor.grad(abscissa, A),
            pytensor.grad(spectral_abscissa(A), A),
        ],
    )
    A_val = rng.normal(size=(6, 6))
    r, g_r, g_r_ref, a, g_a, g_a_ref = fn(A_val)
    w_val = np.linalg.eigvals(A_val)
    np.testing.assert_allclose(r, np.abs(w_val).max(), rtol=1e-12)
    np.testing.assert_allclose(a, w_val.real.max(), rtol=1e-12)
    np.testing.assert_allclose(g_r, g_r_ref, rtol=1e-10)
    np.testing.assert_allclose(g_a, g_a_ref, rtol=1e-10)


def test_order_dependent_uses_are_left_alone():
    A = pt.matrix("A")
    w = eig(A)[0]
    for out in (pt.real(w)[0], pt.exp(w).real.sum()):
        assert Eig in op_types(rewrite_graph(out, include=("canonicalize",)))
