"""Differentiable spectral operators for PyTensor graphs."""

from importlib.util import find_spec

import pytensor_spectral.link.numba
import pytensor_spectral.rewriting  # registers the graph rewrites
from pytensor_spectral.abscissa import spectral_abscissa, spectral_radius
from pytensor_spectral.eig import as_complex, eig, eigvals
from pytensor_spectral.eigengap import eigengap
from pytensor_spectral.numerical_abscissa import (
    jacobian_numerical_abscissa,
    numerical_abscissa,
)
from pytensor_spectral.pseudospectra import (
    distance_to_instability,
    pseudospectral_abscissa,
)
from pytensor_spectral.ssa import ssa
from pytensor_spectral.svd import leading_singular_triplet, spectral_norm
from pytensor_spectral.symmetric import leading_eigvalsh


if find_spec("jax") is not None:  # the optional extra [jax]
    import pytensor_spectral.link.jax  # noqa: F401


__all__ = [
    "as_complex",
    "distance_to_instability",
    "eig",
    "eigengap",
    "eigvals",
    "jacobian_numerical_abscissa",
    "leading_eigvalsh",
    "leading_singular_triplet",
    "numerical_abscissa",
    "pseudospectral_abscissa",
    "spectral_abscissa",
    "spectral_norm",
    "spectral_radius",
    "ssa",
]
