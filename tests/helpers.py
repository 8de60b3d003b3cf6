"""Shared test helpers: compile modes, cross-mode comparison and reference computations."""

import warnings
from importlib.util import find_spec

import numpy as np
import pytensor
import scipy.linalg
from pytensor.compile.mode import Mode, get_default_mode, get_mode
from pytensor.graph.traversal import applys_between
from scipy.optimize import brentq


# Default mode (Numba linker) and the C/Python virtual machine running `perform`.
MODES = {
    "numba": get_default_mode(),
    "cvm": Mode(linker="cvm", optimizer="fast_run"),
}
# Every backend the cross-mode tests compare: the above and, when installed, JAX.
BACKENDS = {**MODES, **({"jax": get_mode("JAX")} if find_spec("jax") else {})}

# PyTensor's JAX backend drops run-time assertions (CheckAndRaise) with this warning.
JAX_DROPS_ASSERT = r"Skipping .* as JAX tracing would remove it"


def compile_fn(inputs, outputs, mode="numba"):
    """`pytensor.function` in one of `BACKENDS`; on JAX, PyTensor's warning that it drops a
    run-time assertion is expected (the package's gradients of the spectral abscissa and
    radius carry one) and not an error."""
    with warnings.catch_warnings():
        if mode == "jax":
            warnings.filterwarnings("ignore", JAX_DROPS_ASSERT, UserWarning)
        return pytensor.function(inputs, outputs, mode=BACKENDS[mode])


def random_matrix(rng, n, kind="general"):
    """Random test matrices: ``general``, ``real`` (real spectrum) or ``complex`` (pairs only)."""
    if kind == "general":
        return rng.normal(size=(n, n))
    S = rng.normal(size=(n, n)) + 3 * np.eye(n)
    if kind == "real":
        D = np.diag(np.linspace(-2.0, 2.0, n) + 0.1 * rng.normal(size=n))
    else:
        assert n % 2 == 0
        D = np.zeros((n, n))
        for j in range(0, n, 2):
            a, b = rng.normal(), 0.5 + rng.random()
            D[j : j + 2, j : j + 2] = [[a, -b], [b, a]]
    return S @ D @ np.linalg.inv(S)


def op_types(fn):
    """Types of the core ops in a compiled function's graph (Blockwise unwrapped)."""
    out = set()
    for node in fn.maker.fgraph.toposort():
        op = node.op
        out.add(type(getattr(op, "core_op", op)))
    return out


def graph_op_types(inputs, outputs):
    """Types of the core ops of a symbolic graph between ``inputs`` and ``outputs``."""
    return {
        type(getattr(n.op, "core_op", n.op)) for n in applys_between(inputs, outputs)
    }


def compare_backends(inputs, outputs, values, rtol=1e-12):
    """Compile ``outputs`` in every backend of `BACKENDS`, evaluate them at ``values`` and
    assert that each backend agrees with the default (Numba) one: entrywise within
    ``rtol`` times the largest modulus of that output (at least ``rtol``).

    Returns the Numba results.
    """
    results = {name: compile_fn(inputs, outputs, name)(*values) for name in BACKENDS}
    reference = [np.asarray(x) for x in results["numba"]]
    for name, result in results.items():
        for i, (got, want) in enumerate(zip(result, reference, strict=True)):
            scale = max(1.0, float(np.max(np.abs(want), initial=0.0)))
            np.testing.assert_allclose(
                np.asarray(got),
                want,
                rtol=0,
                atol=rtol * scale,
                err_msg=f"{name}, output {i}",
            )
    return reference


def scipy_ssa(An, eps):
    """Independent reference: ``solve_continuous_lyapunov`` at every step of a bracketing
    root finder (Brent) on ``tr P(s) = 1/ε`` over ``[α + ε/2, ω + nε/2]``."""
    n = An.shape[0]
    if n == 1:  # tr P = 1/(2(s − a))
        return float(An[0, 0] + eps / 2)

    def excess(s):
        P = scipy.linalg.solve_continuous_lyapunov(An - s * np.eye(n), -np.eye(n))
        return 1.0 / np.trace(P) - eps

    alpha = np.linalg.eigvals(An).real.max()
    omega = np.linalg.eigvalsh((An + An.T) / 2).max()
    lo, hi = alpha + eps / 2, omega + n * eps / 2
    if excess(lo) >= 0:  # the lower bound is attained (n = 1) up to rounding
        return lo
    if excess(hi) <= 0:  # the upper bound is attained (a multiple of I) up to rounding
        return hi
    return brentq(excess, lo, hi, xtol=1e-15, rtol=1e-15)
