"""Numba implementations of the eigendecomposition ops (real Schur form, LAPACK ``gees``/``trevc``)."""

import numpy as np
from pytensor.link.numba.dispatch.basic import register_funcify_default_op_cache_key

from pytensor_spectral import _lapack, _schur
from pytensor_spectral.eig import (
    EigPullback,
    Eigvals,
    EigvalsHessian,
    EigvalsPullback,
    EigvalsPushforward,
    InverseAdjointEigvecs,
    SchurEig,
)
from pytensor_spectral.link.numba.basic import cache_version, kernel_njit


CACHE_VERSION = cache_version(__file__, _lapack.__file__, _schur.__file__)


@register_funcify_default_op_cache_key(SchurEig)
def numba_funcify_SchurEig(op, node, **kwargs):
    if op.compute_v:

        @kernel_njit
        def schur_eig(A):
            wr, wi, T, Q = _schur.schur_eigvals(A, True)
            v_re, v_im = _schur.schur_eigvecs(T, Q, wi)
            return wr, wi, v_re, v_im, T, np.ascontiguousarray(Q)

    else:

        @kernel_njit
        def schur_eig(A):
            wr, wi, T, Q = _schur.schur_eigvals(A, True)
            return wr, wi, T, np.ascontiguousarray(Q)

    return schur_eig, CACHE_VERSION


@register_funcify_default_op_cache_key(Eigvals)
def numba_funcify_Eigvals(op, node, **kwargs):
    @kernel_njit
    def eigvals(A):
        wr, wi, _, _ = _schur.schur_eigvals(A, False)
        return wr, wi

    return eigvals, CACHE_VERSION


@register_funcify_default_op_cache_key(EigvalsPullback)
def numba_funcify_EigvalsPullback(op, node, **kwargs):
    dtype = np.dtype(node.outputs[0].dtype)

    @kernel_njit
    def eigvals_pullback(A, T, Q, wr, wi, g_re, g_im):
        return _schur.eigvals_pullback(
            T, Q, wr, wi, g_re.astype(dtype), g_im.astype(dtype)
        )

    return eigvals_pullback, CACHE_VERSION


@register_funcify_default_op_cache_key(EigvalsHessian)
def numba_funcify_EigvalsHessian(op, node, **kwargs):
    dtype = np.dtype(node.outputs[0].dtype)

    @kernel_njit
    def eigvals_hessian(T, Q, wr, wi, g_re, g_im, C):
        return _schur.eigvals_second_order(
            T, Q, wr, wi, g_re.astype(dtype), g_im.astype(dtype), C.astype(dtype)
        )

    return eigvals_hessian, CACHE_VERSION


@register_funcify_default_op_cache_key(EigPullback)
def numba_funcify_EigPullback(op, node, **kwargs):
    dtype = np.dtype(node.outputs[0].dtype)

    @kernel_njit
    def eig_pullback(A, T, Q, wr, wi, v_re, v_im, gw_re, gw_im, gv_re, gv_im):
        return _schur.eig_pullback(
            T,
            Q,
            wr,
            wi,
            v_re,
            v_im,
            gw_re.astype(dtype),
            gw_im.astype(dtype),
            gv_re.astype(dtype),
            gv_im.astype(dtype),
        )

    return eig_pullback, CACHE_VERSION


@register_funcify_default_op_cache_key(InverseAdjointEigvecs)
def numba_funcify_InverseAdjointEigvecs(op, node, **kwargs):
    @kernel_njit
    def inverse_adjoint_eigvecs(T, Q, wi, v_re, v_im):
        return _schur.inverse_adjoint_eigvecs(T, Q, wi, v_re, v_im)

    return inverse_adjoint_eigvecs, CACHE_VERSION


@register_funcify_default_op_cache_key(EigvalsPushforward)
def numba_funcify_EigvalsPushforward(op, node, **kwargs):
    dtype = np.dtype(node.outputs[0].dtype)

    @kernel_njit
    def eigvals_pushforward(T, Q, wr, wi, dA):
        return _schur.eigvals_pushforward(T, Q, wr, wi, dA.astype(dtype))

    return eigvals_pushforward, CACHE_VERSION
