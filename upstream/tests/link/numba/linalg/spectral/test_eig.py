import numpy as np
import pytest

import pytensor
import pytensor.tensor as pt
from pytensor.tensor.linalg import real_eig, real_eigvals
from tests.link.numba.test_basic import compare_numba_and_py


numba = pytest.importorskip("numba")

rng = np.random.default_rng(2405)


def test_real_eig():
    A = pt.matrix("A")
    compare_numba_and_py(
        [A], real_eig(A), [rng.normal(size=(5, 5))], eval_obj_mode=False
    )


def test_real_eig_gradients_and_hessian():
    A = pt.matrix("A")
    w_re, w_im, v_re, v_im = real_eig(A)
    cost = pt.sum(w_re**3) + pt.sum(w_im**2) + pt.sum(v_re[0] * v_im[1])
    g = pytensor.grad(cost, A)
    g3 = pytensor.grad(pt.sum(real_eigvals(A)[0] ** 3), A)
    H = pytensor.gradient.jacobian(g3.ravel(), A)
    compare_numba_and_py([A], [g, H], [rng.normal(size=(4, 4))], eval_obj_mode=False)


def test_real_eigvals_batched():
    A = pt.tensor3("A")
    compare_numba_and_py(
        [A],
        list(real_eigvals(A)),
        [rng.normal(size=(3, 4, 4))],
        eval_obj_mode=False,
    )
