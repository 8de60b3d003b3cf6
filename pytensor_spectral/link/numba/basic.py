"""Shared pieces of the Numba implementations: the jit decorator of the wrappers, the
cache version of the compiled graphs, and `CheckFinite`.

The wrappers are compiled without PyTensor's default fast-math flags (``reassoc``,
``arcp``, …), which reach the inlined kernels: reassociated sums in the Schur-form
kernels decided differently whether a repeated eigenvalue's ``trevc`` vectors are usable
(a 6 x 6 rank-one matrix got a NaN gradient in the Numba mode and the right one in cvm).
"""

import hashlib
from pathlib import Path

import numpy as np
from pytensor.link.numba.dispatch import basic as numba_basic
from pytensor.link.numba.dispatch.basic import register_funcify_default_op_cache_key

from pytensor_spectral._graph import CheckFinite


kernel_njit = numba_basic.numba_njit(fastmath=False)  # see the module docstring


def cache_version(*files: str) -> int:
    """Hash of the given source files (a dispatch module and the kernels it calls) and of
    this module: PyTensor's on-disk cache of compiled graphs is keyed by it, so that an
    edited kernel is never served from a stale entry."""
    digest = hashlib.sha256()
    for file in (*files, __file__):
        digest.update(Path(file).read_bytes())
    return int.from_bytes(digest.digest()[:4], "little")


CACHE_VERSION = cache_version()


@register_funcify_default_op_cache_key(CheckFinite)
def numba_funcify_CheckFinite(op, node, **kwargs):
    message = op.message

    @kernel_njit
    def check_finite(x):
        if not np.all(np.isfinite(x)):
            raise ValueError(message)
        return x

    return check_finite, CACHE_VERSION
