"""Jitted kernel of the eigengap of a real symmetric matrix (two eigenpairs by LAPACK
``syevr``)."""

import numpy as np
from numba import njit

from pytensor_spectral import _schur
from pytensor_spectral._symmetric import symmetric_eigpairs


@njit(cache=True)
def eigengap(A, k):
    """``λ_k - λ_{k+1}`` (descending, 1-based ``k``) of the symmetric matrix in the lower
    triangle of ``A`` and the unit eigenvectors ``[v_k, v_{k+1}]`` as columns."""
    _schur.check_square_finite(A)
    n = A.shape[0]
    if k < 1 or k >= n:
        raise ValueError(
            "eigengap: k must satisfy 1 <= k < n (1-based, descending order)"
        )
    w, Z = symmetric_eigpairs(A, n - k, n - k + 1)
    V = np.empty((n, 2), dtype=A.dtype)
    V[:, 0] = Z[:, 1]
    V[:, 1] = Z[:, 0]
    return w[1] - w[0], V
