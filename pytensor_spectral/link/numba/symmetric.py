"""Numba implementations of the symmetric-triangle op and of the largest eigenpair of a
symmetric matrix (thick-restart Lanczos with ``symv``, dense ``syevr`` fallback)."""

import numpy as np
from pytensor.link.numba.dispatch.basic import register_funcify_default_op_cache_key

from pytensor_spectral import _lanczos, _lapack, _leading, _schur, _symmetric
from pytensor_spectral.link.numba.basic import cache_version, kernel_njit
from pytensor_spectral.symmetric import (
    FoldedOuter,
    SymmetricLeadingEigenpair,
    SymmetrizeTriangle,
)


KERNEL_FILES = (
    _lanczos.__file__,
    _lapack.__file__,
    _leading.__file__,
    _schur.__file__,
    _symmetric.__file__,
)
"""The kernel modules of the leading-value ops (here and in `.svd`)."""
CACHE_VERSION = cache_version(__file__, *KERNEL_FILES)


@register_funcify_default_op_cache_key(SymmetrizeTriangle)
def numba_funcify_SymmetrizeTriangle(op, node, **kwargs):
    lower, adjoint, antisymmetric = op.lower, op.adjoint, op.antisymmetric

    @kernel_njit
    def symmetrize_triangle(A):
        return _symmetric.symmetrize_triangle(A, lower, adjoint, antisymmetric)

    return symmetrize_triangle, CACHE_VERSION


@register_funcify_default_op_cache_key(FoldedOuter)
def numba_funcify_FoldedOuter(op, node, **kwargs):
    lower = op.lower

    @kernel_njit
    def folded_outer(g, x, y):
        return _symmetric.folded_outer(g, x, y, lower)

    return folded_outer, CACHE_VERSION


@register_funcify_default_op_cache_key(SymmetricLeadingEigenpair)
def numba_funcify_SymmetricLeadingEigenpair(op, node, **kwargs):
    dtype = np.dtype(node.outputs[0].dtype)
    lower = op.lower
    krylov_dim, max_restarts, tol, crossover = op.kernel_controls(dtype)

    @kernel_njit
    def symmetric_leading_eigenpair(A, v0):
        lam, v, products = _leading.leading_eigenpair(
            A, v0, lower, krylov_dim, max_restarts, tol, crossover
        )
        return np.asarray(lam).astype(dtype), v, np.asarray(products, dtype=np.int64)

    return symmetric_leading_eigenpair, CACHE_VERSION
