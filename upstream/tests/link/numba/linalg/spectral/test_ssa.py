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
