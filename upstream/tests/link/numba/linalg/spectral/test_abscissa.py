import numpy as np
import pytest

import pytensor
import pytensor.tensor as pt
from pytensor.tensor.linalg import spectral_abscissa, spectral_radius
from tests.link.numba.test_basic import compare_numba_and_py


numba = pytest.importorskip("numba")

rng = np.random.default_rng(11)


@pytest.mark.parametrize("op", [spectral_abscissa, spectral_radius])
def test_value_gradient_hessian(op):
    A = pt.matrix("A")
    out = op(A)
    g = pytensor.grad(out, A)
    compare_numba_and_py(
        [A],
        [out, g, pytensor.gradient.jacobian(g.ravel(), A)],
        [rng.normal(size=(5, 5))],
        eval_obj_mode=False,
    )
