import numpy as np
import pytest

import pytensor
import pytensor.tensor as pt
from pytensor.tensor.linalg import distance_to_instability, pseudospectral_abscissa
from tests.link.numba.test_basic import compare_numba_and_py


numba = pytest.importorskip("numba")

rng = np.random.default_rng(13)


def test_value_and_gradients():
    A, eps = pt.matrix("A"), pt.scalar("eps")
    alpha_eps = pseudospectral_abscissa(A, eps)
    beta = distance_to_instability(A - 3 * pt.eye(5))
    compare_numba_and_py(
        [A, eps],
        [alpha_eps, beta, *pytensor.grad(alpha_eps + beta, [A, eps])],
        [rng.normal(size=(5, 5)) / 2, np.array(0.1)],
        eval_obj_mode=False,
    )
