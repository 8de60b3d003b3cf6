import numpy as np
import pytest

import pytensor
import pytensor.tensor as pt
from pytensor.tensor.linalg import leading_eigvalsh, numerical_abscissa, spectral_norm
from tests.link.jax.test_basic import compare_jax_and_py


jax = pytest.importorskip("jax")

rng = np.random.default_rng(13)


@pytest.mark.parametrize("op", [leading_eigvalsh, numerical_abscissa, spectral_norm])
def test_value_and_gradient(op):
    A = pt.matrix("A", shape=(70, 70))
    out = op(A)
    X = rng.normal(size=(70, 70))
    compare_jax_and_py(
        [A],
        [out, pytensor.grad(out, A)],
        [X + X.T + 3 * np.eye(70)],
        must_be_device_array=False,
    )
