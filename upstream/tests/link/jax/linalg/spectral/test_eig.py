import numpy as np
import pytest

import pytensor
import pytensor.tensor as pt
from pytensor.tensor.linalg import real_eig, real_eigvals
from tests.link.jax.test_basic import compare_jax_and_py


jax = pytest.importorskip("jax")

rng = np.random.default_rng(2405)


def test_real_eig():
    A = pt.matrix("A")
    compare_jax_and_py(
        [A], real_eig(A), [rng.normal(size=(5, 5))], must_be_device_array=False
    )


def test_real_eigvals_grad():
    A = pt.matrix("A")
    w_re, w_im = real_eigvals(A)
    cost = pt.sum(w_re**3) + pt.sum(w_im**2)
    compare_jax_and_py(
        [A],
        [pytensor.grad(cost, A)],
        [rng.normal(size=(4, 4))],
        must_be_device_array=False,
    )
