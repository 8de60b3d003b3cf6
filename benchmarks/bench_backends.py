"""Compiled-call overhead per backend, object mode vs Numba, and the PyMC example's dlogp.

Run: ``python benchmarks/bench_backends.py [n ...]`` (default 10 200). For each ``n``:

- each public function compiled in the default (Numba) mode, as a ratio to the closest
  direct NumPy/SciPy call in the same process (``eigvals`` vs ``numpy.linalg.eigvals`` and
  vs SciPy's ``dgees``, the LAPACK routine both use; ``spectral_abscissa`` with its
  gradient vs ``scipy.linalg.eig`` with left eigenvectors, ...); with
  ``trust_input=True`` too (skips PyTensor's input validation);
- the same function with the package's op forced to run ``perform`` in Numba's object
  mode (what every op did before it had a Numba implementation);
- the cvm and JAX modes on the same functions (if JAX is installed).

Then gradient evaluations per second of the PyMC example's ``dlogp`` (``examples/
stable_var.py``) in the default, cvm and JAX modes. Best of ``repeat`` runs, 2-core CPU.
"""

import sys
import warnings
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import pytensor
import pytensor.tensor as pt
import scipy.linalg
from pytensor.compile.mode import Mode, get_mode
from pytensor.link.numba.dispatch.basic import (
    generate_fallback_impl,
    numba_funcify_and_cache_key,
)
from timing import best

from pytensor_spectral import (
    eigvals,
    leading_eigvalsh,
    numerical_abscissa,
    spectral_abscissa,
    spectral_norm,
)
from pytensor_spectral.abscissa import LeadingEigenvalue
from pytensor_spectral.eig import Eigvals
from pytensor_spectral.numerical_abscissa import NumericalAbscissa


MODES = {"numba": get_mode("NUMBA"), "cvm": Mode(linker="cvm", optimizer="fast_run")}
if find_spec("jax"):
    MODES["jax"] = get_mode("JAX")


def object_mode(op_type):
    """A subclass of ``op_type`` that Numba runs in object mode (its ``perform``)."""
    subclass = type(f"ObjectMode{op_type.__name__}", (op_type,), {})
    numba_funcify_and_cache_key.register(subclass)(
        lambda op, node, **kwargs: (generate_fallback_impl(op, node), None)
    )
    return subclass


def abscissa_with_gradient(An):
    """``max Re λ`` and its gradient ``Re(ȳ xᵀ)/(yᴴx)`` from SciPy's ``geev``."""
    w, vl, vr = scipy.linalg.eig(An, left=True, right=True)
    i = np.argmax(w.real)
    x, y = vr[:, i], vl[:, i]
    return w[i].real, np.real(np.outer(y.conj(), x) / (y.conj() @ x))


def top_eigenvalue(S):
    n = S.shape[0]
    return scipy.linalg.eigh(S, eigvals_only=True, subset_by_index=[n - 1, n - 1])


def dgees_eigvals(An):
    return scipy.linalg.lapack.dgees(lambda wr, wi: None, An, compute_v=0)[2:4]


def cases():
    """name -> (graph of A, [(label, direct call)], object-mode graph of A or None)."""
    obj_abscissa = object_mode(LeadingEigenvalue)("real")
    return {
        "eigvals": (
            lambda A: list(eigvals(A)),
            [("numpy eigvals", np.linalg.eigvals), ("scipy dgees", dgees_eigvals)],
            lambda A: list(object_mode(Eigvals)()(A)),
        ),
        "spectral_abscissa + grad": (
            lambda A: [spectral_abscissa(A), pytensor.grad(spectral_abscissa(A), A)],
            [("scipy eig(left=True)", abscissa_with_gradient)],
            lambda A: [obj_abscissa(A)[0], pytensor.grad(obj_abscissa(A)[0], A)],
        ),
        "numerical_abscissa": (
            numerical_abscissa,
            [("scipy eigh subset", lambda An: top_eigenvalue(0.5 * (An + An.T)))],
            lambda A: object_mode(NumericalAbscissa)()(A)[0],
        ),
        "leading_eigvalsh(S)": (
            lambda S: leading_eigvalsh(S),
            [("scipy eigh subset", top_eigenvalue)],
            None,
        ),
        "spectral_norm": (
            spectral_norm,
            [("numpy norm(A, 2)", lambda An: np.linalg.norm(An, 2))],
            None,
        ),
    }


def compile_quiet(A, outputs, mode, trust_input=False):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fn = pytensor.function([A], outputs, mode=mode)
    fn.trust_input = trust_input
    return fn


def overhead(n, repeat=7):
    rng = np.random.default_rng(n)
    An = rng.normal(size=(n, n)) / np.sqrt(n)
    Sn = An @ An.T
    number = 200 if n <= 50 else 5
    print(f"\nn = {n}: time per call (µs) and ratio to the first direct call")
    for name, (graph, directs, object_graph) in cases().items():
        value = Sn if "(S)" in name else An
        direct_times = {
            label: best(lambda f=f: f(value), number, repeat) for label, f in directs
        }
        reference = next(iter(direct_times.values()))
        row = [f"{label} {1e6 * t:8.1f}" for label, t in direct_times.items()]
        A = pt.tensor("A", shape=(None, None))
        for mode_name, mode in MODES.items():
            fn = compile_quiet(A, graph(A), mode)
            t = best(lambda fn=fn: fn(value), number, repeat)
            row.append(f"{mode_name} {1e6 * t:8.1f} ({t / reference:5.2f}×)")
            if mode_name == "numba":
                fn = compile_quiet(A, graph(A), mode, trust_input=True)
                t = best(lambda fn=fn: fn(value), number, repeat)
                row.append(f"numba trusted {1e6 * t:8.1f} ({t / reference:5.2f}×)")
        if object_graph is not None:
            fn = compile_quiet(A, object_graph(A), MODES["numba"])
            t = best(lambda fn=fn: fn(value), number, repeat)
            row.append(f"object mode {1e6 * t:8.1f} ({t / reference:5.2f}×)")
        print(f"  {name:26s} " + " | ".join(row))


def pymc_dlogp(repeat=7):
    if find_spec("pymc") is None:
        print("\nPyMC not installed: no dlogp benchmark")
        return
    sys.path.insert(0, str(Path(__file__).parents[1] / "examples"))
    import stable_var

    model = stable_var.build_model(stable_var.simulate())
    point = model.initial_point()
    point["A"] = stable_var.TRUE_A
    print("\nPyMC example (VAR(1), 3×3, 79 observations): dlogp evaluations per second")
    for mode_name, mode in MODES.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            dlogp = model.compile_dlogp(mode=mode)
            logp_dlogp = model.logp_dlogp_function(mode=mode, ravel_inputs=True)
        t = best(lambda dlogp=dlogp: dlogp(point), 500, repeat)
        x = np.concatenate([np.ravel(point[v.name]) for v in model.value_vars])
        t_both = best(lambda f=logp_dlogp: f._pytensor_function(x), 500, repeat)
        print(
            f"  {mode_name:6s} dlogp {1 / t:9.0f}/s ({1e6 * t:6.1f} µs)"
            f"   logp+dlogp (what NUTS calls) {1 / t_both:9.0f}/s"
        )


if __name__ == "__main__":
    for n in [int(a) for a in sys.argv[1:]] or [10, 200]:
        overhead(n)
    pymc_dlogp()
