"""Differentiable spectral operators for PyTensor graphs."""

import pytensor_spectral.link.numba
import pytensor_spectral.rewrites  # noqa: F401  (registers the graph rewrites)
from pytensor_spectral.eig import as_complex, eig, eigvals


__all__ = ["as_complex", "eig", "eigvals"]
