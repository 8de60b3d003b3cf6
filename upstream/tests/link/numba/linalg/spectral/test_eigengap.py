import numpy as np
import pytest

import pytensor
import pytensor.tensor as pt
from pytensor.tensor.linalg import eigengap
from tests.link.numba.test_basic import compare_numba_and_py


numba = pytest.importorskip("numba")

rng = np.random.default_rng(14)


def test_value_and_gradient():
    A = pt.matrix("A")
    out = eigengap(A, 2)
    X = rng.normal(size=(6, 6))
    compare_numba_and_py(
        [A], [out, pytensor.grad(out, A)], [X + X.T], eval_obj_mode=False
    )
