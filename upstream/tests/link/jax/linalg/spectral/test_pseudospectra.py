import numpy as np
import pytest

import pytensor
import pytensor.tensor as pt
from pytensor.tensor.linalg import distance_to_instability, pseudospectral_abscissa
from tests.link.jax.test_basic import compare_jax_and_py


jax = pytest.importorskip("jax")

rng = np.random.default_rng(14)


def test_value_and_gradient():
    A = pt.matrix("A")
    out = pseudospectral_abscissa(A, 0.1) + distance_to_instability(A - 3 * pt.eye(5))
    compare_jax_and_py(
        [A],
        [out, pytensor.grad(out, A)],
        [rng.normal(size=(5, 5)) / 2],
        must_be_device_array=False,
    )
