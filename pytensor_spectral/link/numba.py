"""Numba implementations: the ops' jitted kernels, so that no op runs in object mode.

The wrappers are compiled without PyTensor's default fast-math flags (``reassoc``,
``arcp``, …), which reach the inlined kernels: reassociated sums in the Schur-form
kernels decided differently whether a repeated eigenvalue's ``trevc`` vectors are usable
(a 6 × 6 rank-one matrix got a NaN gradient in the Numba mode and the right one in cvm).
"""

import hashlib
from pathlib import Path

import numpy as np
from pytensor.link.numba.dispatch import basic as numba_basic
from pytensor.link.numba.dispatch.basic import register_funcify_default_op_cache_key

from pytensor_spectral import _hessenberg, _lapack, _lyapunov, _schur, _symmetric
from pytensor_spectral._graph import CheckFinite
from pytensor_spectral.abscissa import (
    LeadingEigenvalue,
    LeadingEigenvalueHessian,
    NumericalAbscissa,
)
from pytensor_spectral.eig import (
    EigPullback,
    Eigvals,
    EigvalsHessian,
    EigvalsPullback,
    EigvalsPushforward,
    InverseAdjointEigvecs,
    SchurEig,
)
from pytensor_spectral.ssa import SmoothedSpectralAbscissa
from pytensor_spectral.symmetric import Eigengap, SymmetrizeTriangle


def _kernel_version() -> int:
    """Hash of the kernel sources and of this module: PyTensor's on-disk cache of compiled
    graphs is keyed by it, so that an edited kernel is never served from a stale entry."""
    digest = hashlib.sha256()
    for module in (_lapack, _schur, _hessenberg, _symmetric, _lyapunov):
        digest.update(Path(module.__file__).read_bytes())
    digest.update(Path(__file__).read_bytes())
    return int.from_bytes(digest.digest()[:4], "little")


CACHE_VERSION = _kernel_version()
kernel_njit = numba_basic.numba_njit(fastmath=False)  # see the module docstring


@register_funcify_default_op_cache_key(CheckFinite)
def numba_funcify_CheckFinite(op, node, **kwargs):
    message = op.message

    @kernel_njit
    def check_finite(x):
        if not np.all(np.isfinite(x)):
            raise ValueError(message)
        return x

    return check_finite, CACHE_VERSION


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
        return _schur.eigvals_pullback(T, Q, wr, wi, g_re.astype(dtype), g_im.astype(dtype))

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


@register_funcify_default_op_cache_key(LeadingEigenvalue)
def numba_funcify_LeadingEigenvalue(op, node, **kwargs):
    measure = LeadingEigenvalue.MEASURES[op.measure]
    dtype = np.dtype(node.outputs[0].dtype)

    @kernel_njit
    def leading_eigenvalue(A):
        value, G = _hessenberg.leading_eigenvalue(A, measure)
        return np.asarray(value).astype(dtype), G

    return leading_eigenvalue, CACHE_VERSION


@register_funcify_default_op_cache_key(LeadingEigenvalueHessian)
def numba_funcify_LeadingEigenvalueHessian(op, node, **kwargs):
    modulus = op.measure == "modulus"
    dtype = np.dtype(node.outputs[0].dtype)

    @kernel_njit
    def leading_eigenvalue_hessian(A, C):
        return _schur.leading_second_order(A, C.astype(dtype), modulus)

    return leading_eigenvalue_hessian, CACHE_VERSION


@register_funcify_default_op_cache_key(NumericalAbscissa)
def numba_funcify_NumericalAbscissa(op, node, **kwargs):
    dtype = np.dtype(node.outputs[0].dtype)

    @kernel_njit
    def numerical_abscissa(A):
        value, v = _symmetric.numerical_abscissa(A)
        return np.asarray(value).astype(dtype), v

    return numerical_abscissa, CACHE_VERSION


@register_funcify_default_op_cache_key(SmoothedSpectralAbscissa)
def numba_funcify_SmoothedSpectralAbscissa(op, node, **kwargs):
    dtype = np.dtype(node.outputs[0].dtype)

    @kernel_njit
    def smoothed_spectral_abscissa(A, eps):
        value, G, d_eps, _ = _lyapunov.ssa(A, eps.item())
        return np.asarray(value).astype(dtype), G.astype(dtype), np.asarray(d_eps).astype(dtype)

    return smoothed_spectral_abscissa, CACHE_VERSION


@register_funcify_default_op_cache_key(SymmetrizeTriangle)
def numba_funcify_SymmetrizeTriangle(op, node, **kwargs):
    lower, adjoint = op.lower, op.adjoint

    @kernel_njit
    def symmetrize_triangle(A):
        return _symmetric.symmetrize_triangle(A, lower, adjoint)

    return symmetrize_triangle, CACHE_VERSION


@register_funcify_default_op_cache_key(Eigengap)
def numba_funcify_Eigengap(op, node, **kwargs):
    dtype = np.dtype(node.outputs[0].dtype)

    @kernel_njit
    def eigengap(A, k):
        gap, V = _symmetric.eigengap(A, k)
        return np.asarray(gap).astype(dtype), V

    return eigengap, CACHE_VERSION
