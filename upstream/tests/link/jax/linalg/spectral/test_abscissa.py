import numpy as np
import pytest

import pytensor
import pytensor.tensor as pt
from pytensor.tensor.linalg import spectral_abscissa, spectral_radius
from tests.link.jax.test_basic import compare_jax_and_py


jax = pytest.importorskip("jax")

rng = np.random.default_rng(11)


@pytest.mark.parametrize("op", [spectral_abscissa, spectral_radius])
def test_value_and_gradient(op):
    A = pt.matrix("A")
    out = op(A)
    compare_jax_and_py(
        [A],
        [out, pytensor.grad(out, A)],
        [rng.normal(size=(5, 5))],
        must_be_device_array=False,
    )
