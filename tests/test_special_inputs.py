"""Every public function at special inputs: finite and right, or a clear error.

For each function of `tests.special_inputs.SPECS` and each special matrix (ties, repeated,
defective, nilpotent, extreme scales, ill-conditioned, NaN/Inf, 1×1, 0×0, 60×60 for the
Lanczos path), in float64 and float32, in the Numba and cvm modes: one compiled function
(value, gradient and Hessian-vector product) for all matrices. The value must match
NumPy/SciPy, the gradient the directional central differences of the NumPy/SciPy
reference (or the documented choice where the function is not differentiable), the
Hessian-vector product the central differences of the gradient (or a closed form) —
or the call raises ``ValueError`` whose message names the problem. Batches with one bad
matrix among good ones, and JAX, are checked against the single results.
"""

import warnings

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

from tests.helpers import BACKENDS, JAX_DROPS_ASSERT, MODES
from tests.special_inputs import (
    SIZE,
    SMALL_SQUARE,
    SPECS,
    scale_of,
    special_matrices,
    sym,
)


TOLERANCES = {"float64": 1e-6, "float32": 5e-3}  # gradients vs differences, relative
VALUE_RTOL = {"float64": 1e-10, "float32": 1e-4}


def directions(A: np.ndarray, symmetric: bool) -> list[np.ndarray]:
    rng = np.random.default_rng(1)
    out = []
    for _ in range(2):
        E = rng.normal(size=A.shape)
        E = sym(E) if symmetric else E
        out.append(E / max(np.linalg.norm(E), 1e-300))
    return out


def compile_special(spec, dtype, mode, hessian):
    A = pt.matrix("A", dtype=dtype)
    s = pt.scalar("s", dtype=dtype)
    E = pt.matrix("E", dtype=dtype)
    y = spec.loss(A, s)
    g = pytensor.grad(y, A)
    outputs = [y, g]
    inputs = [A, s]
    if hessian:
        outputs.append(pytensor.grad(pt.sum(g * E), A))
        inputs.append(E)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", JAX_DROPS_ASSERT, UserWarning)
        return pytensor.function(
            inputs, outputs, mode=BACKENDS[mode], on_unused_input="ignore"
        )


def expected_error(spec, case, hessian, dtype="float64"):
    errors = {**spec.errors, **(spec.hessian_errors if hessian else {})}
    if hessian and dtype == "float32":
        errors.update(spec.float32_hessian_errors)
    return errors.get(case)


def quietly(fn, *args):
    """``fn(*args)`` without NumPy/SciPy's RuntimeWarnings (overflow, ill-conditioned
    solves in ``perform``) at degenerate inputs: errors are what this module checks."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return fn(*args)


def run(fn, A, E=None, s=None):
    args = [A, np.asarray(scale_of(A) if s is None else s, A.dtype)]
    if E is not None:
        args.append(E.astype(A.dtype))
    return quietly(fn, *args)


def check_value_and_gradient(spec, case, A, value, G, dtype):
    """The value against the reference; the gradient against directional central
    differences of the reference (float64), or the documented choice."""
    A64 = A.astype(float)
    s = scale_of(A)
    assert np.isfinite(value) and np.all(np.isfinite(G)), "silent non-finite result"
    assert G.shape == A.shape and G.dtype == A.dtype
    want = spec.reference(A64, s)
    size = max(A.shape[0], 1) * max(1.0 if spec.normalized else s, abs(want))
    np.testing.assert_allclose(value, want, rtol=0, atol=VALUE_RTOL[dtype] * size)
    # the eigenvalue gaps of "illcond" go down to 1e-14: differences of eigenvectors with
    # any usable step are only accurate to about 1e-4 there
    tol = TOLERANCES[dtype] * (100 if case == "illcond" else 1)
    if case in spec.nonsmooth:
        spec.nonsmooth[case](A, G, 10 * tol)
        return
    if A.size == 0:
        return
    h = 1e-5 * natural_scale(spec, A, want)
    gradient_scale = 1 / s if spec.normalized else 1.0
    for E in directions(A64, spec.symmetric):
        fd = (spec.reference(A64 + h * E, s) - spec.reference(A64 - h * E, s)) / (2 * h)
        got = np.sum(G.astype(float) * E)
        bound = tol * (np.linalg.norm(G.astype(float)) + abs(fd) + gradient_scale)
        assert abs(got - fd) <= bound, (got, fd)


def natural_scale(spec, A, value):
    """The scale on which the loss varies with ``A``: ``s`` for a normalized loss, the
    larger of ``s`` and the value for a measure (``ssa(1e-150 G) ≈ 0.75``)."""
    s = scale_of(A)
    return s if spec.normalized else max(s, abs(value))


def max_relative_error(got, want, floor):
    """``max |got − want| / max(|want|, |got|, floor)`` (max norms: no overflow at 1e300)."""
    return np.max(np.abs(got - want), initial=0.0) / max(
        np.max(np.abs(want), initial=0.0), np.max(np.abs(got), initial=0.0), floor
    )


def check_hessian(spec, fn, case, A, E, HE, value, reference_fn):
    """The Hessian-vector product against central differences of the (already verified)
    compiled gradient in float64; in float32, against the float64 result (differences of
    a float32 gradient are too coarse). At "illcond" (eigenvalue gaps down to 1e-14 make
    differences of gradients inaccurate) the Hessian's symmetry is checked instead."""
    A64, s = A.astype(float), scale_of(A)
    if (
        reference_fn is not None
    ):  # float32: ±inf exactly where the float64 value overflows it
        want = run(reference_fn, A64, E)[2]
        overflow = np.abs(want) > np.finfo(A.dtype).max
        assert np.array_equal(~np.isfinite(HE), overflow), "silent non-finite Hessian"
        assert np.all(np.sign(HE[overflow]) == np.sign(want[overflow]))
        HE, want = np.where(overflow, 0, HE), np.where(overflow, 0, want)
    assert np.all(np.isfinite(HE)), "silent non-finite Hessian"
    if spec.normalized and natural_scale(spec, A, value) ** -2 < 1e-290:
        return  # a Hessian of size 1e-300 is at the float64 underflow: finite is all we ask
    # Hessians scale as 1/s² (normalized losses) or 1/s (positively homogeneous measures)
    floor = 1e-8 / natural_scale(spec, A, value) ** (2 if spec.normalized else 1)
    if (
        reference_fn is not None
    ):  # float32: below its smallest normal number, 0 is right
        rtol = 1e-2
        floor = max(floor, np.finfo(A.dtype).tiny / rtol)
    elif case == "illcond":
        F = directions(A64, spec.symmetric)[1]
        HF = run(fn, A, F)[2]
        pair = np.array([np.sum(F * HE), np.sum(E * HF)])
        assert max_relative_error(pair[0], pair[1], floor) <= 1e-6, pair
        return
    else:
        h = 1e-4 * natural_scale(spec, A, value)
        plus, minus = run(fn, A64 + h * E, E, s)[1], run(fn, A64 - h * E, E, s)[1]
        want, rtol = (plus - minus) / (2 * h), 1e-4
    assert max_relative_error(HE, want, floor) <= rtol, (HE, want)


def sweep(name, dtype, mode, hessian):
    spec = SPECS[name]
    fn = compile_special(spec, dtype, mode, hessian)
    reference_fn = None
    if hessian and dtype == "float32":
        reference_fn = compile_special(spec, "float64", mode, hessian)
    results = {}
    failures = []
    for case, A in special_matrices(dtype).items():
        A = sym(A) if spec.symmetric else A
        try:
            results[case] = check_case(spec, fn, case, A, dtype, hessian, reference_fn)
        except (
            AssertionError,
            pytest.fail.Exception,
            Exception,
        ) as exc:  # report all cases
            failures.append(f"{case}: {type(exc).__name__}: {str(exc)[:300]}")
    assert not failures, "\n".join(failures)
    return results


def check_case(spec, fn, case, A, dtype, hessian, reference_fn):
    E = directions(A.astype(float), spec.symmetric)[0] if hessian else None
    error = expected_error(spec, case, hessian, dtype)
    if error is not None:
        with pytest.raises(ValueError, match=error):
            run(fn, A, E)
        return "error"
    outputs = run(fn, A, E)
    check_value_and_gradient(spec, case, A, float(outputs[0]), outputs[1], dtype)
    if hessian:
        check_hessian(spec, fn, case, A, E, outputs[2], float(outputs[0]), reference_fn)
    return "value"


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", SPECS)
def test_value_and_gradient_at_special_inputs(name, mode, dtype):
    results = sweep(name, dtype, mode, hessian=False)
    assert len(results) == len(special_matrices(dtype))


OPEN_HESSIAN_DEFECTS = {
    (
        "leading_singular_triplet",
        "float32",
    ): "at entries 1e-30 the Hessian of a loss of "
    "the singular vectors (true size 1e60, beyond float32) comes out NaN, not an error",
    ("jacobian_numerical_abscissa", "float32"): "the matrix-free curvature solve (CG) "
    "does not reach its tolerance in float32: every float32 Hessian raises ValueError",
}


def _hessian_cases():
    for name in SPECS:
        for dtype in ("float64", "float32"):
            reason = OPEN_HESSIAN_DEFECTS.get((name, dtype))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            yield pytest.param(name, dtype, marks=marks, id=f"{name}-{dtype}")


@pytest.mark.parametrize(("name", "dtype"), list(_hessian_cases()))
def test_hessian_at_special_inputs(name, dtype):
    """Second derivatives in the cvm mode (`test_second_order` compiles every Hessian in
    the Numba mode too)."""
    results = sweep(name, dtype, "cvm", hessian=True)
    assert len(results) == len(special_matrices(dtype))


@pytest.mark.parametrize(
    ("name", "mode"),
    [(name, mode) for name, spec in SPECS.items() if spec.batched for mode in MODES],
)
def test_one_bad_matrix_in_a_batch(name, mode):
    """A batch ``[good, special, good]`` gives the single results of each matrix, or the
    single matrix's error."""
    spec = SPECS[name]
    A = pt.tensor3("A")
    s = pt.vector("s")
    y = spec.loss(A, s)
    fn = pytensor.function(
        [A, s],
        [y, pytensor.grad(pt.sum(y), A)],
        mode=MODES[mode],
        on_unused_input="ignore",
    )
    single = compile_special(spec, "float64", mode, hessian=False)
    rng = np.random.default_rng(2)
    good = [rng.normal(size=(SIZE, SIZE)) for _ in range(2)]
    for case in SMALL_SQUARE:
        matrices = [good[0], special_matrices("float64")[case], good[1]]
        matrices = [sym(M) if spec.symmetric else M for M in matrices]
        batch, scales = np.stack(matrices), np.array([scale_of(M) for M in matrices])
        error = expected_error(spec, case, hessian=False)
        if error is not None:
            with pytest.raises(ValueError, match=error):
                quietly(fn, batch, scales)
            continue
        values, grads = quietly(fn, batch, scales)
        for i, M in enumerate(matrices):
            want_value, want_grad = run(single, M)
            np.testing.assert_allclose(values[i], want_value, rtol=1e-12, atol=1e-300)
            np.testing.assert_allclose(
                grads[i], want_grad, rtol=1e-10, atol=1e-12 * scales[i]
            )


@pytest.mark.skipif("jax" not in BACKENDS, reason="JAX is not installed")
@pytest.mark.parametrize("name", [name for name, spec in SPECS.items() if spec.jax])
def test_jax_at_special_inputs(name):
    """JAX (static 5×5 shape): the Numba results, or an error carrying the message."""
    spec = SPECS[name]
    A = pt.tensor("A", shape=(SIZE, SIZE))
    s = pt.scalar("s")
    y = spec.loss(A, s)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", JAX_DROPS_ASSERT, UserWarning)
        fn = pytensor.function(
            [A, s],
            [y, pytensor.grad(y, A)],
            mode=BACKENDS["jax"],
            on_unused_input="ignore",
        )
    single = compile_special(spec, "float64", "numba", hessian=False)
    for case in SMALL_SQUARE:
        M = special_matrices("float64")[case]
        M = sym(M) if spec.symmetric else M
        error = expected_error(spec, case, hessian=False)
        if error is not None:
            with pytest.raises(Exception, match=error):
                run(fn, M)
            continue
        value, grad = run(fn, M)
        want_value, want_grad = run(single, M)
        np.testing.assert_allclose(value, want_value, rtol=1e-10, atol=1e-300)
        if (
            case in spec.nonsmooth
        ):  # JAX's eigensolver may pick another valid subgradient
            spec.nonsmooth[case](M, grad, 1e-6)
        else:
            atol = 1e-8 * np.abs(want_grad).max()
            np.testing.assert_allclose(grad, want_grad, rtol=0, atol=atol)
