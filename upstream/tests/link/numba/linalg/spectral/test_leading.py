import numpy as np
import pytest

import pytensor
import pytensor.tensor as pt
from pytensor.tensor.linalg import leading_eigvalsh, numerical_abscissa, spectral_norm
from tests.link.numba.test_basic import compare_numba_and_py


numba = pytest.importorskip("numba")

rng = np.random.default_rng(13)


@pytest.mark.parametrize("op", [leading_eigvalsh, numerical_abscissa, spectral_norm])
def test_value_and_gradient(op):
    A = pt.matrix("A")
    out = op(A)
    X = rng.normal(size=(70, 70))
    compare_numba_and_py(
        [A],
        [out, pytensor.grad(out, A)],
        [X + X.T + 3 * np.eye(70)],
        eval_obj_mode=False,
    )


@pytest.mark.parametrize("gap", [0.5, 1e-2, 1e-4])
def test_thick_restart_lanczos_kernel(gap):
    """The Lanczos kernel finds the top eigenpair to 1e-10 across gaps; a warm start at
    the converged vector needs one product."""
    from pytensor.link.numba.dispatch.linalg.spectral import _leading

    n = 200
    eigenvalues = np.concatenate(
        [[1.0, 1.0 - gap], rng.uniform(-1.0, 1.0 - 2 * gap, size=n - 2)]
    )
    Q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    S = (Q * eigenvalues) @ Q.T
    lam, v, products = _leading.leading_eigenpair(
        S, np.zeros(n), True, 40, -1, 1e-10, 0
    )
    np.testing.assert_allclose(lam, 1.0, rtol=1e-10)
    assert products > 0
    assert _leading.leading_eigenpair(S, v, True, 40, -1, 1e-10, 0)[2] == 1
