"""Numba implementations of the package's ops: their jitted kernels, so that no op runs in
object mode (importing this package registers them)."""

import pytensor_spectral.link.numba.abscissa
import pytensor_spectral.link.numba.basic
import pytensor_spectral.link.numba.eig
import pytensor_spectral.link.numba.eigengap
import pytensor_spectral.link.numba.numerical_abscissa
import pytensor_spectral.link.numba.pseudospectra
import pytensor_spectral.link.numba.ssa
import pytensor_spectral.link.numba.svd
import pytensor_spectral.link.numba.symmetric  # noqa: F401
