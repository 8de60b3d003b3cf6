r"""Jitted thick-restart Lanczos for the largest eigenpair of a symmetric operator given
by a dense matrix, shared by the ``perform`` methods and the Numba implementations of the
leading-value ops.

The iteration is Krylov-Schur (Stewart, *A Krylov-Schur algorithm for large
eigenproblems*, SIAM J. Matrix Anal. Appl. 23(3), 2001), which for a symmetric operator
is the thick-restart Lanczos method of Wu and Simon (SIAM J. Matrix Anal. Appl. 22(2),
2000): Lanczos steps extend an orthonormal basis :math:`V` up to ``krylov_dim`` vectors;
every step computes the column :math:`V^\top S v_j` of the projected matrix :math:`H`
and orthogonalizes the new vector against the whole basis (classical Gram-Schmidt, a
second pass only when the first loses more than a factor :math:`\sqrt 2` of the norm:
the Daniel-Gragg-Kaufman-Stewart criterion). The largest Ritz pair
:math:`(\theta, s)` of :math:`H` is tested at every step for large matrices (every few
steps for small ones, where the test costs more than a step: `TEST_WORK`): converged
when the residual :math:`\|S y - \theta y\| = \beta_j |s_j|` is at most ``tol`` times
the largest Ritz value in modulus. A full basis is compressed to the Ritz vectors of the
``keep`` largest Ritz values plus the residual direction, and the projected matrix to
their diagonal.

Products with the operator use the matrix as stored: BLAS ``symv`` on one triangle
(the symmetric matrix is never formed), or for :math:`A^\top A` one pass over ``A`` in
blocks of rows that stay in cache (:math:`A_b^\top (A_b x)` per block), each reading the
matrix once. The operator is the matrix divided by ``c`` (``c²`` for :math:`A^\top A`),
a power of two near its largest entry, applied to ``x / c``: no copy of the matrix, and
entries of any floating-point range stay in range.
"""

import numpy as np
from numba import njit
from numba.extending import overload
from pytensor.link.numba.dispatch.linalg._LAPACK import val_to_int_ptr

from pytensor_spectral import _schur, _symmetric
from pytensor_spectral._lapack import blas_routine


LOWER = 0
"""Operator kinds: the symmetric matrix in the lower (`LOWER`) or upper (`UPPER`)
triangle of ``A``, or :math:`A^\\top A` (`GRAM`)."""
UPPER = 1
GRAM = 2

GRAM_BLOCK_ROWS = 64
"""Rows of ``A`` per block of the :math:`A^\\top A` product (64 rows of 1000 float64
entries: 0.5 MB, in a core's L2 cache)."""


def operator_product(A, kind, c, x, out):
    """``out = Op x`` for the operator ``kind`` of the C-contiguous ``A`` divided by
    ``c`` (``c²`` for `GRAM`)."""
    raise NotImplementedError("operator_product is only callable from jitted code")


@overload(operator_product)
def _operator_product_impl(A, kind, c, x, out):
    dtype = A.dtype
    symv = blas_routine("symv", dtype)
    gemv = blas_routine("gemv", dtype)

    def impl(A, kind, c, x, out):
        one = np.ones(1, dtype=A.dtype)
        zero = np.zeros(1, dtype=A.dtype)
        xs = x / c
        if kind != GRAM:
            # row-major lower triangle = column-major upper triangle
            n = A.shape[0]
            symv(
                val_to_int_ptr(ord("U") if kind == LOWER else ord("L")),
                val_to_int_ptr(n),
                one.ctypes,
                A.ctypes,
                val_to_int_ptr(max(n, 1)),
                xs.ctypes,
                val_to_int_ptr(1),
                zero.ctypes,
                out.ctypes,
                val_to_int_ptr(1),
            )
            return
        m, n = A.shape
        out[:] = 0
        t = np.empty(GRAM_BLOCK_ROWS, dtype=A.dtype)
        for start in range(0, m, GRAM_BLOCK_ROWS):
            rows = min(GRAM_BLOCK_ROWS, m - start)
            block = A[start : start + rows]
            # block is the column-major (n, rows) matrix blockᵀ: t = block xs, out += blockᵀ t
            gemv(
                val_to_int_ptr(ord("T")),
                val_to_int_ptr(n),
                val_to_int_ptr(rows),
                one.ctypes,
                block.ctypes,
                val_to_int_ptr(max(n, 1)),
                xs.ctypes,
                val_to_int_ptr(1),
                zero.ctypes,
                t.ctypes,
                val_to_int_ptr(1),
            )
            t[:rows] /= c
            gemv(
                val_to_int_ptr(ord("N")),
                val_to_int_ptr(n),
                val_to_int_ptr(rows),
                one.ctypes,
                block.ctypes,
                val_to_int_ptr(max(n, 1)),
                t.ctypes,
                val_to_int_ptr(1),
                one.ctypes,
                out.ctypes,
                val_to_int_ptr(1),
            )

    return impl


TEST_WORK = 1e5
"""Cost of one convergence test (the largest eigenpair of a ``j x j`` projected matrix
by ``syevr``) in floating-point operations of the matrix products:
``TEST_WORK + TEST_WORK_PER_CUBE j³``, measured as 15 µs at ``j = 20`` and 43 µs at
``j = 40`` against products at about 9 Gflop/s (``symv``, n = 2000). The kernel tests
convergence once the products and orthogonalizations since the last test have cost as
much as a test: every step for large matrices, every few steps for small ones (where a
test would cost more than the step), so at most half the time goes to tests; and always
after the first product (a warm start may be converged) and at a breakdown (an
invariant subspace: its Ritz pairs are exact)."""
TEST_WORK_PER_CUBE = 4.5


@njit(cache=True)
def step_work(product_work, j, n):
    """Work of Lanczos step ``j`` on vectors of length ``n``: the product
    (``product_work`` flops) and the orthogonalization against ``j + 1`` vectors."""
    return product_work + 8.0 * (j + 1) * n


@njit(cache=True)
def test_due(work, j):
    """Whether the ``work`` since the last convergence test has paid for a test at step
    ``j`` (`TEST_WORK`)."""
    return work >= TEST_WORK + TEST_WORK_PER_CUBE * (j + 1) ** 3


@njit(cache=True)
def keep_count(krylov_dim):
    """Ritz vectors kept at a restart: a third of the basis (at least one)."""
    return max(1, krylov_dim // 3)


@njit(cache=True)
def product_bound(krylov_dim, max_restarts):
    """Products after which `krylov_schur` gives up: one full basis, then
    ``krylov_dim - keep_count`` new vectors per restart."""
    return krylov_dim + max_restarts * (krylov_dim - keep_count(krylov_dim))


@njit(cache=True)
def _fresh_direction(V, j, dtype):
    """A unit vector orthogonal to the rows ``0..j`` of ``V`` (after a breakdown): a
    fixed dense vector orthogonalized twice."""
    n = V.shape[1]
    w = np.cos((1.7 + j) * np.arange(n) + j).astype(dtype)
    basis = V[: j + 1]
    for _ in range(2):
        w -= basis.T @ (basis @ w)
    return (w / _schur.frobenius_norm(w)).astype(dtype)


@njit(cache=True)
def _orthogonalize(basis, w, h):
    """Project ``w`` off the rows of ``basis`` in place, accumulating the coefficients in
    ``h``; a second pass when the first removed more than ``1 - 1/√2`` of the norm.
    Returns the norm of ``w`` before and after."""
    before = _schur.frobenius_norm(w)
    coefficients = basis @ w
    w -= basis.T @ coefficients
    h += coefficients
    after = _schur.frobenius_norm(w)
    if after < 0.7071067811865476 * before:
        coefficients = basis @ w
        w -= basis.T @ coefficients
        h += coefficients
        after = _schur.frobenius_norm(w)
    return before, after


@njit(cache=True)
def _largest_ritz_pair(H, size):
    """Largest eigenvalue of the leading ``size x size`` block of ``H`` and its unit
    eigenvector (LAPACK ``syevr``), and a lower bound of the largest Ritz value in
    modulus (the smallest Ritz value is at most the smallest diagonal entry)."""
    block = H[:size, :size]
    w, Z = _symmetric.symmetric_eigpairs(block, size, size)
    theta = w[0]
    scale = max(abs(theta), -np.min(np.diag(block)))
    return theta, Z[:, 0].copy(), scale


@njit(cache=True)
def krylov_schur(A, kind, c, v0, krylov_dim, max_restarts, tol):
    """Largest eigenpair of the operator ``kind`` of ``A / c`` (see `operator_product`)
    by thick-restart Lanczos from ``v0`` (nonzero), testing convergence as often as
    `TEST_WORK` allows and whenever the basis is full.

    Returns ``(theta, y, converged, products)``: the largest Ritz value and its unit Ritz
    vector, whether the residual reached ``tol`` times the largest Ritz value in modulus
    within `product_bound` products, and the number of products used.
    """
    n = v0.shape[0]
    dtype = A.dtype
    eps = np.finfo(dtype).eps
    m = min(krylov_dim, n)
    keep = min(keep_count(m), m - 1)
    V = np.zeros((m + 1, n), dtype=dtype)
    H = np.zeros((m, m), dtype=dtype)
    V[0] = v0 / _schur.frobenius_norm(v0)
    w = np.empty(n, dtype=dtype)
    j = 0
    restarts = 0
    products = 0
    waiting = False  # after a breakdown, test again only when the basis is full
    theta, s, scale = 0.0, np.zeros(1, dtype=dtype), 0.0
    product_work = 2.0 * A.shape[0] * A.shape[1] * (2 if kind == GRAM else 1)
    work = 0.0  # since the last test
    while True:
        operator_product(A, kind, c, V[j], w)
        products += 1
        work += step_work(product_work, j, n)
        h = np.zeros(j + 1, dtype=dtype)
        before, beta = _orthogonalize(V[: j + 1], w, h)
        H[: j + 1, j] = h
        H[j, : j + 1] = h
        # an invariant subspace (or the whole space) is found: no new direction
        broke_down = beta <= 16 * eps * max(before, scale) or j + 1 == n
        if broke_down:
            beta = dtype.type(0)
        full = j + 1 == m
        # when the work since the last test pays for one; always at the first step (a
        # converged warm start) and at a breakdown
        due = j == 0 or broke_down or test_due(work, j)
        if full or (due and not waiting):
            work = 0.0
            theta, s, scale = _largest_ritz_pair(H, j + 1)
            if beta * abs(s[j]) <= tol * scale:
                return theta, V[: j + 1].T @ s, True, products
        if broke_down:
            w = _fresh_direction(V, j, dtype)
            waiting = True
        V[j + 1] = w / _schur.frobenius_norm(w)
        if not full:
            j += 1
            continue
        if restarts == max_restarts:
            return theta, V[:m].T @ s, False, products
        restarts += 1
        waiting = False
        values, vectors = _symmetric.symmetric_eigpairs(H, m - keep + 1, m)
        V[:keep] = vectors.T @ V[:m]
        V[keep] = V[m]
        H[:, :] = 0
        for i in range(keep):
            H[i, i] = values[i]
        j = keep
