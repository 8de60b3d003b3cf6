"""Numba implementation of the symmetric-triangle op read by the symmetric leading-value ops."""

from pytensor.link.numba.dispatch.basic import register_funcify_default_op_cache_key

from pytensor_spectral import _lapack, _schur, _symmetric
from pytensor_spectral.link.numba.basic import cache_version, kernel_njit
from pytensor_spectral.symmetric import SymmetrizeTriangle


CACHE_VERSION = cache_version(
    __file__, _lapack.__file__, _schur.__file__, _symmetric.__file__
)


@register_funcify_default_op_cache_key(SymmetrizeTriangle)
def numba_funcify_SymmetrizeTriangle(op, node, **kwargs):
    lower, adjoint, antisymmetric = op.lower, op.adjoint, op.antisymmetric

    @kernel_njit
    def symmetrize_triangle(A):
        return _symmetric.symmetrize_triangle(A, lower, adjoint, antisymmetric)

    return symmetrize_triangle, CACHE_VERSION
