"""Shared test helpers: compile modes and reference computations."""

import numpy as np
import pytensor
from pytensor.compile.mode import Mode, get_default_mode


# Default mode (Numba linker) and the C/Python virtual machine running `perform`.
MODES = {
    "numba": get_default_mode(),
    "cvm": Mode(linker="cvm", optimizer="fast_run"),
}


def compile_fn(inputs, outputs, mode="numba"):
    return pytensor.function(inputs, outputs, mode=MODES[mode])


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
