"""Differentiable spectral operators for PyTensor graphs."""

import pytensor_spectral.link.numba  # noqa: F401  (registers the Numba implementations)
from pytensor_spectral.eig import as_complex, eig, eigvals


__all__ = ["as_complex", "eig", "eigvals"]
