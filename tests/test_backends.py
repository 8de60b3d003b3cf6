"""Every public function and its gradient on every backend: Numba (default), cvm and JAX.

Results must agree with the default mode to 1e-12 (relative to each output's largest
entry), for single and batched inputs; the default mode must never fall back to object
mode. JAX needs static shapes (PyTensor's JAX ``arange`` of a symbolic length raises), so
every input here has one.
"""

import warnings

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from pytensor.compile.mode import get_default_mode, get_mode
from pytensor.gradient import pushforward
from pytensor.graph.basic import Apply
from pytensor.graph.fg import FunctionGraph
from pytensor.graph.op import Op

from pytensor_spectral import (
    as_complex,
    distance_to_instability,
    eig,
    eigengap,
    eigvals,
    jacobian_numerical_abscissa,
    leading_eigvalsh,
    leading_singular_triplet,
    numerical_abscissa,
    pseudospectral_abscissa,
    spectral_abscissa,
    spectral_norm,
    spectral_radius,
    ssa,
)
from pytensor_spectral.symmetric import leading_eigenpair
from tests.helpers import (
    BACKENDS,
    JAX_DROPS_ASSERT,
    compare_backends,
    compile_fn,
    random_matrix,
)


def gram(A):
    """A symmetric (positive semidefinite) matrix depending on every entry of ``A``."""
    return A @ pt.swapaxes(A, -1, -2)


# name -> (outputs of A, matrix size). Sizes >= 50 take the Lanczos path of the leading
# values (below it, the dense one); the rewritten graphs check the rewrites' subgraphs.
CASES = {
    "eigvals": (lambda A: list(eigvals(A)), 6),
    "eig": (lambda A: list(eig(A)), 6),
    "spectral_abscissa": (lambda A: [spectral_abscissa(A)], 6),
    "spectral_radius": (lambda A: [spectral_radius(A)], 6),
    "numerical_abscissa": (lambda A: [numerical_abscissa(A)], 6),
    "ssa": (lambda A: [ssa(A), ssa(A, 0.3)], 6),
    "pseudospectral_abscissa": (lambda A: [pseudospectral_abscissa(A, 0.1)], 6),
    "distance_to_instability": (
        lambda A: [distance_to_instability(A - 3 * pt.eye(6))],
        6,
    ),
    "eigengap": (lambda A: [eigengap(gram(A), 2)], 6),
    "leading_eigvalsh_dense": (lambda A: [leading_eigvalsh(gram(A))], 6),
    "leading_eigenpair_lanczos": (lambda A: list(leading_eigenpair(gram(A))), 60),
    "leading_singular_triplet_dense": (lambda A: list(leading_singular_triplet(A)), 6),
    "leading_singular_triplet_lanczos": (
        lambda A: list(leading_singular_triplet(A)),
        60,
    ),
    "spectral_norm_lanczos": (lambda A: [spectral_norm(A)], 60),
    "rewritten_max_eigvalsh": (
        lambda A: [pt.max(pt.linalg.eigvalsh(gram(A)), axis=-1)],
        60,
    ),
    "rewritten_svd_first": (lambda A: [pt.linalg.svd(A, compute_uv=False)[..., 0]], 60),
}


# Cases whose later outputs are not differentiable: how many outputs the loss may use.
DIFFERENTIABLE = {"leading_eigenpair_lanczos": 1}


def loss(outputs):
    """A scalar that depends nonlinearly on every entry of every output."""
    return pt.add(*(pt.sin(x + 0.3 * i).sum() for i, x in enumerate(outputs)))


def case_graph(name, batch):
    """Input variable (static shape), outputs with the gradient of `loss`, and a value."""
    build, n = CASES[name]
    shape = (*batch, n, n)
    A = pt.tensor("A", shape=shape, dtype="float64")
    outputs = build(A)
    rng = np.random.default_rng(sum(name.encode()))
    value = rng.normal(size=shape) / np.sqrt(n)
    differentiable = outputs[: DIFFERENTIABLE.get(name, len(outputs))]
    return A, [*outputs, pytensor.grad(loss(differentiable), A)], value


@pytest.mark.parametrize("batch", [(), (2,)], ids=["single", "batched"])
@pytest.mark.parametrize("name", CASES)
def test_backends_agree(name, batch):
    A, outputs, value = case_graph(name, batch)
    results = compare_backends([A], outputs, [value])
    assert all(np.all(np.isfinite(x)) for x in results)


@pytest.mark.parametrize(
    "function", [eigvals, spectral_abscissa, spectral_radius, numerical_abscissa, ssa]
)
def test_pushforwards_agree(function):
    # Single matrices: PyTensor's Blockwise has no op-level pushforward to batch.
    A = pt.tensor("A", shape=(5, 5))
    dA = pt.tensor("dA", shape=(5, 5))
    outputs = function(A)
    outputs = list(outputs) if isinstance(outputs, tuple) else [outputs]
    tangents = pushforward(outputs, A, dA, use_op_pushforward=True)
    rng = np.random.default_rng(3)
    values = [random_matrix(rng, 5), rng.normal(size=(5, 5))]
    compare_backends([A, dA], list(tangents), values)


def test_ssa_gradient_in_eps_and_as_complex_agree():
    A = pt.tensor("A", shape=(2, 5, 5))
    eps = pt.tensor("eps", shape=())
    value = ssa(A, eps).sum()
    outputs = [pytensor.grad(value, eps), as_complex(*eigvals(A))]
    rng = np.random.default_rng(4)
    compare_backends([A, eps], outputs, [rng.normal(size=(2, 5, 5)), np.array(0.2)])


@pytest.mark.skipif("jax" not in BACKENDS, reason="JAX is not installed")
@pytest.mark.parametrize(
    "function, n",
    [
        (numerical_abscissa, 4),
        (leading_eigvalsh, 60),
        (spectral_norm, 60),
        (spectral_abscissa, 4),
    ],
    ids=["native", "native-lanczos", "native-svd", "host-callback"],
)
def test_nan_input_on_jax_is_an_error(function, n):
    """JAX drops PyTensor's assertions, but NaN/Inf input still raises at run time (host
    check in the native ops, ``perform`` in the callbacks)."""
    A = pt.tensor("A", shape=(n, n))
    fn = compile_fn([A], function(A), "jax")
    bad = np.eye(n)
    bad[1, 0] = np.nan
    with pytest.raises(Exception, match=r"ValueError: .*NaN or Inf"):
        fn(bad)


def test_jacobian_numerical_abscissa_numba_and_cvm_agree():
    z = pt.tensor("z", shape=(8,))
    M = np.random.default_rng(5).normal(size=(8, 8))
    f = pt.tanh(pt.as_tensor(M) @ z) - z**3
    lam, _ = jacobian_numerical_abscissa(f, z, krylov_dim=4, tol=1e-12)
    outputs = [lam, pytensor.grad(lam, z)]
    value = np.linspace(-1.0, 1.0, 8)
    results = {name: compile_fn([z], outputs, name)(value) for name in ("numba", "cvm")}
    for got, want in zip(results["cvm"], results["numba"], strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.skipif("jax" not in BACKENDS, reason="JAX is not installed")
def test_jacobian_numerical_abscissa_on_jax_is_a_clear_error():
    z = pt.tensor("z", shape=(4,))
    lam, _ = jacobian_numerical_abscissa(pt.tanh(z), z)
    with pytest.raises(
        NotImplementedError, match="While Scan cannot yet be converted to JAX"
    ):
        compile_fn([z], lam, "jax")


def jax_function(inputs, outputs):
    """The JAX callable PyTensor's JAX mode builds for a graph (what PyMC hands to numpyro)."""
    from pytensor.link.jax.dispatch import jax_funcify

    fgraph = FunctionGraph(inputs, outputs, clone=True)
    get_mode("JAX").optimizer.rewrite(fgraph)
    return jax_funcify(fgraph)


@pytest.mark.skipif("jax" not in BACKENDS, reason="JAX is not installed")
@pytest.mark.parametrize("batch", [(), (2,)], ids=["single", "batched"])
@pytest.mark.parametrize(
    "name", [name for name in CASES if not name.startswith("rewritten")]
)
def test_jax_autodiff_uses_the_op_gradients(name, batch):
    """``jax.grad`` of the JAX-converted loss (as numpyro/blackjax take it) equals
    PyTensor's gradient: the ops carry their pullbacks as JAX custom VJPs. (Not the
    rewritten cases: there PyTensor's gradient graph keeps the dense decomposition, which
    the rewrite then leaves alone, while the loss alone is rewritten to Lanczos.)"""
    import jax

    A, outputs, value = case_graph(name, batch)
    *values, grad = outputs
    differentiable = values[: DIFFERENTIABLE.get(name, len(values))]
    f = jax_function([A], [loss(differentiable)])
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", JAX_DROPS_ASSERT, UserWarning)
        jax_grad = jax.jit(jax.grad(lambda a: f(a)[0]))(value)
    expected = compile_fn([A], grad)(value)
    np.testing.assert_allclose(np.asarray(jax_grad), expected, rtol=0, atol=1e-12)


def object_mode_warnings(inputs, outputs):
    """Messages of the object-mode fallback warnings a default-mode compile emits."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pytensor.function(inputs, outputs, mode=get_default_mode())
    return [str(w.message) for w in caught if "object mode" in str(w.message)]


@pytest.mark.parametrize("batch", [(), (2,)], ids=["single", "batched"])
@pytest.mark.parametrize("name", CASES)
def test_no_object_mode_fallback(name, batch):
    A, outputs, _ = case_graph(name, batch)
    assert object_mode_warnings([A], outputs) == []


def test_no_object_mode_fallback_other_functions():
    """Pushforwards, ``as_complex`` (``pt.complex`` would fall back) and the matrix-free
    Jacobian abscissa with its gradient."""
    A = pt.tensor("A", shape=(5, 5))
    tangents = pushforward([*eigvals(A), ssa(A)], A, A.T, use_op_pushforward=True)
    assert object_mode_warnings([A], list(tangents)) == []
    assert object_mode_warnings([A], [as_complex(*eigvals(A))]) == []
    z = pt.tensor("z", shape=(6,))
    lam, _ = jacobian_numerical_abscissa(pt.tanh(z) - z, z)
    assert object_mode_warnings([z], [lam, pytensor.grad(lam, z)]) == []


class _PerformOnly(Op):
    """An op with no Numba implementation: the control for the detector above."""

    __props__ = ()

    def make_node(self, x):
        x = pt.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, outputs):
        outputs[0][0] = inputs[0].copy()


def test_object_mode_detector_sees_a_fallback():
    x = pt.vector("x")
    assert len(object_mode_warnings([x], [_PerformOnly()(x)])) == 1
