import numpy as np
import pytest

import pytensor
import pytensor.tensor as pt
from pytensor.tensor.linalg import smoothed_spectral_abscissa
from tests.link.numba.test_basic import compare_numba_and_py


numba = pytest.importorskip("numba")

rng = np.random.default_rng(12)


def test_value_and_gradients():
    A, eps = pt.matrix("A"), pt.scalar("eps")
    out = smoothed_spectral_abscissa(A, eps)
    compare_numba_and_py(
        [A, eps],
        [out, *pytensor.grad(out, [A, eps])],
        [rng.normal(size=(5, 5)), np.array(0.3)],
        eval_obj_mode=False,
    )


@pytest.mark.parametrize("n", [1, 2, 33, 65, 97])
@pytest.mark.parametrize("transposed", [False, True])
def test_recursive_lyapunov_solver(n, transposed):
    """The blocked solver against SciPy at sizes that reach its leaves and splits, on a
    Schur form with many 2 x 2 blocks; symmetric right-hand side."""
    import scipy

    from pytensor.link.numba.dispatch.linalg.spectral import _quasi_triangular

    @numba.njit
    def solve(M, C, transposed):
        Mf = np.empty((M.shape[1], M.shape[0])).T
        Mf[:, :] = M
        X = np.empty((C.shape[1], C.shape[0])).T
        X[:, :] = C
        ok = _quasi_triangular.lyapunov(Mf, X, transposed)
        return np.ascontiguousarray(X), ok

    A = rng.normal(size=(n, n))
    T = scipy.linalg.schur(A)[0]
    M = T - (np.linalg.eigvals(A).real.max() + 0.5) * np.eye(n)
    B = rng.normal(size=(n, n))
    X, ok = solve(M, B + B.T, transposed)
    op = M.T if transposed else M
    expected = scipy.linalg.solve_continuous_lyapunov(op, B + B.T)
    assert ok
    np.testing.assert_allclose(X, expected, atol=1e-10 * np.abs(expected).max())
