r"""Eigendecomposition of a general real matrix with Schur-form gradients.

PyTensor's autodiff does not accept complex intermediates, so every output here is
real: eigenvalues as ``(w_re, w_im)`` and eigenvectors as ``(v_re, v_im)``, in the
order LAPACK's real Schur form produces them (a conjugate pair is adjacent, the member
with positive imaginary part first; real eigenvalues have ``w_im`` exactly zero).

Gradients use the real Schur form :math:`A = Q T Q^\top` computed in the forward pass:
the forward op also returns ``T`` and ``Q`` (hidden from the public functions), the
pullback reuses them, and the ``eigvals_without_schur_vectors`` rewrite swaps in a
cheaper eigenvalue-only op when nothing needs them.
"""

import numpy as np
import pytensor.tensor as pt
from pytensor.gradient import DisconnectedType, disconnected_type, grad_not_implemented
from pytensor.graph.basic import Apply, Variable
from pytensor.graph.op import Op
from pytensor.tensor import TensorLike

from pytensor_spectral._graph import (
    LazyModule,
    _apply,
    _matrix,
    _static_size,
    _vector,
    _zeros_if_disconnected,
    add_terms,
    as_square_float_matrix,
    partial_derivatives,
)


_schur = LazyModule("pytensor_spectral._schur")


class SchurEig(Op):
    r"""Eigenvalues (and eigenvectors) of a real square matrix through its real Schur form.

    Outputs ``w_re, w_im[, v_re, v_im], T, Q`` where :math:`A = Q T Q^\top` is the real
    Schur form (LAPACK ``gees``). Eigenvectors are the columns of ``v_re + i v_im``:
    right eigenvectors from ``trevc``, normalized to unit 2-norm with their
    largest-modulus component real and positive (ties go to the lowest index).

    The Schur factors are outputs so that the pullback can reuse them; the public
    functions `eigvals` and `eig` do not return them.
    """

    __props__ = ("compute_v",)

    def __init__(self, compute_v: bool = False):
        self.compute_v = bool(compute_v)
        vecs = ",(m,m),(m,m)" if self.compute_v else ""
        self.gufunc_signature = f"(m,m)->(m),(m){vecs},(m,m),(m,m)"

    def make_node(self, A):
        A = as_square_float_matrix(A, "SchurEig")
        n = _static_size(A)
        vectors = [_vector(A.dtype, n)(), _vector(A.dtype, n)()]
        matrices = [_matrix(A.dtype, n)() for _ in range(4 if self.compute_v else 2)]
        return Apply(self, [A], vectors + matrices)

    def perform(self, node, inputs, outputs):
        (A,) = inputs
        wr, wi, T, Q = _schur.schur_eigvals(A, True)
        results = [wr, wi]
        if self.compute_v:
            results.extend(_schur.schur_eigvecs(T, Q, wi))
        results.extend([T, np.ascontiguousarray(Q)])
        for storage, value in zip(outputs, results, strict=True):
            storage[0] = value

    def infer_shape(self, node, shapes):
        (n, _) = shapes[0]
        return [(n,), (n,)] + [(n, n)] * (len(node.outputs) - 2)

    def pullback(self, inputs, outputs, cotangents):
        w_re, w_im, *rest = outputs
        T, Q = rest[-2:]
        if any(not isinstance(g.type, DisconnectedType) for g in cotangents[-2:]):
            raise NotImplementedError(
                "The Schur factors of SchurEig are not differentiable"
            )
        gw_re, gw_im = _zeros_if_disconnected(cotangents[:2], (w_re, w_im))
        vec_cotangents = cotangents[2:-2]
        if any(not isinstance(g.type, DisconnectedType) for g in vec_cotangents):
            v_re, v_im = rest[:2]
            gv_re, gv_im = _zeros_if_disconnected(vec_cotangents, (v_re, v_im))
            return [
                _apply(
                    EigPullback(),
                    inputs[0],
                    T,
                    Q,
                    w_re,
                    w_im,
                    v_re,
                    v_im,
                    gw_re,
                    gw_im,
                    gv_re,
                    gv_im,
                )
            ]
        return [_apply(EigvalsPullback(), inputs[0], T, Q, w_re, w_im, gw_re, gw_im)]

    def pushforward(self, inputs, outputs, tangents):
        (dA,) = tangents
        if isinstance(dA.type, DisconnectedType):
            return [disconnected_type() for _ in outputs]
        if self.compute_v:
            raise NotImplementedError(
                "The pushforward of eigenvectors is not implemented"
            )
        w_re, w_im, T, Q = outputs
        dw_re, dw_im = EigvalsPushforward()(T, Q, w_re, w_im, dA)
        return [dw_re, dw_im, disconnected_type(), disconnected_type()]


class Eigvals(Op):
    """Eigenvalues ``(w_re, w_im)`` of a real square matrix, without Schur vectors.

    Same algorithm and order as `SchurEig` (LAPACK ``gees`` with ``jobvs='N'``), about
    20% cheaper. Introduced by a rewrite when the Schur vectors are not needed; its
    pullback recomputes them.
    """

    __props__ = ()
    gufunc_signature = "(m,m)->(m),(m)"

    def make_node(self, A):
        A = as_square_float_matrix(A, "Eigvals")
        n = _static_size(A)
        return Apply(self, [A], [_vector(A.dtype, n)(), _vector(A.dtype, n)()])

    def perform(self, node, inputs, outputs):
        wr, wi, _, _ = _schur.schur_eigvals(inputs[0], False)
        outputs[0][0] = wr
        outputs[1][0] = wi

    def infer_shape(self, node, shapes):
        (n, _) = shapes[0]
        return [(n,), (n,)]

    def pullback(self, inputs, outputs, cotangents):
        schur_eig = SchurEig(compute_v=False)
        w_re, w_im, T, Q = schur_eig(inputs[0])
        return schur_eig.pullback(
            inputs,
            [w_re, w_im, T, Q],
            [*cotangents, disconnected_type(), disconnected_type()],
        )


class EigvalsPullback(Op):
    r"""Cotangent of ``A`` from eigenvalue cotangents, given the real Schur form.

    .. math::
        \bar A = \operatorname{Re} \sum_k \frac{\bar g_k}{\overline{s_k}} y_k x_k^H,
        \qquad s_k = y_k^H x_k,

    with right/left eigenvectors ``x_k = Q x̃_k``, ``y_k = Q ỹ_k`` of the quasi-triangular
    ``T`` (LAPACK ``trevc``); the sum is three real matrix products in packed storage.
    A cluster of repeated eigenvalues contributes ``gamma P_cᵀ`` (``P_c`` its spectral
    projector, ``gamma`` the mean cotangent of the cluster), so eigenvalue-symmetric losses
    keep their exact gradient.

    Inputs ``(A, T, Q, w_re, w_im, g_re, g_im)``: ``T, Q, w`` are the Schur form and
    eigenvalues of ``A``, computed once in the forward pass; as functions they depend on
    ``A`` only, so the op is differentiated as a function of ``(A, ḡ)`` (`EigvalsHessian`),
    which gives exact second derivatives of eigenvalue losses.
    """

    __props__ = ()
    gufunc_signature = "(m,m),(m,m),(m,m),(m),(m),(m),(m)->(m,m)"

    def make_node(self, A, T, Q, w_re, w_im, g_re, g_im):
        inputs = [pt.as_tensor_variable(x) for x in (A, T, Q, w_re, w_im, g_re, g_im)]
        return Apply(self, inputs, [inputs[1].type()])

    def perform(self, node, inputs, outputs):
        _, T, Q, wr, wi, g_re, g_im = inputs
        outputs[0][0] = _schur.eigvals_pullback(
            T, Q, wr, wi, g_re.astype(T.dtype), g_im.astype(T.dtype)
        )

    def infer_shape(self, node, shapes):
        return [shapes[0]]

    def connection_pattern(self, node):
        return [[True], [False], [False], [False], [False], [True], [True]]

    def pullback(self, inputs, outputs, cotangents):
        _, T, Q, w_re, w_im, g_re, g_im = inputs
        A_bar, g_re_bar, g_im_bar = EigvalsHessian()(
            T, Q, w_re, w_im, g_re, g_im, cotangents[0]
        )
        return [A_bar, *(disconnected_type() for _ in range(4)), g_re_bar, g_im_bar]

    def pushforward(self, inputs, outputs, tangents):
        A, T, Q, w_re, w_im, g_re, g_im = inputs
        dA, *_, dg_re, dg_im = tangents
        terms = []
        if not isinstance(dA.type, DisconnectedType):
            terms.append(EigvalsHessian()(T, Q, w_re, w_im, g_re, g_im, dA)[0])
        if not (
            isinstance(dg_re.type, DisconnectedType)
            and isinstance(dg_im.type, DisconnectedType)
        ):
            dg_re, dg_im = _zeros_if_disconnected([dg_re, dg_im], [g_re, g_im])
            terms.append(self(A, T, Q, w_re, w_im, dg_re, dg_im))
        return [add_terms(terms) if terms else disconnected_type()]


class EigvalsHessian(Op):
    r"""Second-order pullback of the eigenvalues: the pullback of `EigvalsPullback`.

    For a cotangent :math:`C` of :math:`\bar A(A, \bar g)`, outputs the cotangents of
    :math:`A` and of :math:`\bar g = (g_{re}, g_{im})`:

    .. math::
        \bar A_2 = \operatorname{Re}(X^{-H} M X^H), \quad
        M_{pq} = \overline{\tilde C_{qp}}\,
        \frac{\bar g_p - \bar g_q}{\overline{\lambda_p - \lambda_q}}\ (p \ne q),
        \qquad \bar g_2 = \operatorname{diag}(\tilde C), \quad \tilde C = X^{-1} C X,

    from the second-order perturbation of simple eigenvalues, with :math:`X^{-1}` the
    scaled left eigenvectors of the Schur form (never an inverse). Repeated eigenvalues
    raise ``ValueError``. Since the Hessian is symmetric, the same map is the
    pushforward of the gradient, and its own pullback in ``C`` (used by forward mode
    through double pullbacks); in the other inputs it is not implemented (third
    derivatives).
    """

    __props__ = ()
    gufunc_signature = "(m,m),(m,m),(m),(m),(m),(m),(m,m)->(m,m),(m),(m)"

    def make_node(self, T, Q, w_re, w_im, g_re, g_im, C):
        inputs = [pt.as_tensor_variable(x) for x in (T, Q, w_re, w_im, g_re, g_im, C)]
        return Apply(
            self, inputs, [inputs[0].type(), inputs[2].type(), inputs[3].type()]
        )

    def perform(self, node, inputs, outputs):
        T, Q, wr, wi, g_re, g_im, C = inputs
        results = _schur.eigvals_second_order(
            T, Q, wr, wi, g_re.astype(T.dtype), g_im.astype(T.dtype), C.astype(T.dtype)
        )
        for storage, value in zip(outputs, results, strict=True):
            storage[0] = value

    def infer_shape(self, node, shapes):
        return [shapes[0], shapes[2], shapes[3]]

    def pullback(self, inputs, outputs, cotangents):
        T, Q, w_re, w_im, g_re, g_im, _ = inputs
        A_bar, dw_re_bar, dw_im_bar = _zeros_if_disconnected(cotangents, outputs)
        # Linear in C, and self-adjoint there (the Hessian is symmetric); the eigenvalue
        # tangents are adjoint to the first-order pullback. The "A" slot of
        # EigvalsPullback only serves its own derivatives, which are third order here.
        C_bar = self(T, Q, w_re, w_im, g_re, g_im, A_bar)[0] + EigvalsPullback()(
            T, T, Q, w_re, w_im, dw_re_bar, dw_im_bar
        )
        not_implemented = [
            grad_not_implemented(self, i, x, "third derivatives of eigenvalues")
            for i, x in enumerate(inputs[:-1])
        ]
        return [*not_implemented, C_bar]


class EigPullback(Op):
    r"""Cotangent of ``A`` from cotangents of eigenvalues and gauge-fixed eigenvectors.

    .. math::
        \bar A = \operatorname{Re}\left(Y S^{-H} H V^H\right), \quad
        H = \operatorname{diag}(\bar g) + \overline{F} \circ (V^H \bar U), \quad
        F_{ij} = \frac{1}{\lambda_j - \lambda_i},

    where ``Ū`` is the eigenvector cotangent pulled back through the gauge
    normalization, ``Y = Q Ỹ`` the left eigenvectors from ``trevc`` and
    ``S = diag(y_kᴴ v_k)``, so that ``V⁻ᴴ = Y S⁻ᴴ`` needs no inverse.

    Inputs ``(A, T, Q, w_re, w_im, v_re, v_im, gw_re, gw_im, gv_re, gv_im)``; as for
    `EigvalsPullback`, the Schur form, eigenvalues and eigenvectors are functions of ``A``
    and the op is differentiated in ``(A, cotangents)``: its pullback differentiates the
    same formula written as a graph (`eig_pullback_graph`) of `eig`'s outputs and
    `InverseAdjointEigvecs`, whose derivatives are first-order eigen-derivatives again.
    """

    __props__ = ()
    gufunc_signature = (
        "(m,m),(m,m),(m,m),(m),(m),(m,m),(m,m),(m),(m),(m,m),(m,m)->(m,m)"
    )

    def make_node(self, *args):
        inputs = [pt.as_tensor_variable(x) for x in args]
        return Apply(self, inputs, [inputs[1].type()])

    def perform(self, node, inputs, outputs):
        T = inputs[1]
        args = [x.astype(T.dtype) for x in inputs[1:]]
        outputs[0][0] = _schur.eig_pullback(*args)

    def infer_shape(self, node, shapes):
        return [shapes[0]]

    def connection_pattern(self, node):
        return [[True]] + [[False]] * 6 + [[True]] * 4

    def pullback(self, inputs, outputs, cotangents):
        A, *_, gw_re, gw_im, gv_re, gv_im = inputs

        def cost(A, *cotangents_of_outputs):
            w_re, w_im, v_re, v_im, T, Q = SchurEig(compute_v=True)(A)
            W = InverseAdjointEigvecs()(T, Q, w_im, v_re, v_im)
            A_bar = eig_pullback_graph(
                w_re, w_im, v_re, v_im, *W, *cotangents_of_outputs
            )
            return pt.sum(cotangents[0] * A_bar)

        grads = partial_derivatives(cost, [A, gw_re, gw_im, gv_re, gv_im])
        return [grads[0], *(disconnected_type() for _ in range(6)), *grads[1:]]


class InverseAdjointEigvecs(Op):
    r""":math:`W = V^{-H}` for the gauge-fixed eigenvectors of `eig`, from the left
    eigenvectors of the Schur form (:math:`w_k = y_k / \overline{y_k^H v_k}`, no inverse).

    Inputs ``(T, Q, w_im, v_re, v_im)``, outputs ``(W_re, W_im)``. As a function of
    :math:`V` only (the other inputs determine the same matrix), with the pullback
    :math:`\bar V = -W \bar W^H W`.
    """

    __props__ = ()
    gufunc_signature = "(m,m),(m,m),(m),(m,m),(m,m)->(m,m),(m,m)"

    def make_node(self, T, Q, w_im, v_re, v_im):
        inputs = [pt.as_tensor_variable(x) for x in (T, Q, w_im, v_re, v_im)]
        return Apply(self, inputs, [inputs[0].type(), inputs[0].type()])

    def perform(self, node, inputs, outputs):
        W_re, W_im = _schur.inverse_adjoint_eigvecs(*inputs)
        outputs[0][0] = W_re
        outputs[1][0] = W_im

    def infer_shape(self, node, shapes):
        return [shapes[0], shapes[0]]

    def connection_pattern(self, node):
        return [[False, False]] * 3 + [[True, True]] * 2

    def pullback(self, inputs, outputs, cotangents):
        W = tuple(outputs)
        Wb = _zeros_if_disconnected(cotangents, outputs)
        V_bar = _cmatmul(_cmatmul(W, _ctranspose(Wb)), W)
        return [*(disconnected_type() for _ in range(3)), -V_bar[0], -V_bar[1]]


def _cmatmul(a, b):
    """Product of complex matrices given as ``(re, im)`` pairs."""
    return a[0] @ b[0] - a[1] @ b[1], a[0] @ b[1] + a[1] @ b[0]


def _ctranspose(a):
    return a[0].T, -a[1].T


def eig_pullback_graph(w_re, w_im, v_re, v_im, W_re, W_im, gw_re, gw_im, gv_re, gv_im):
    """`EigPullback`'s formula as a differentiable graph of `eig`'s outputs and
    ``W = V⁻ᴴ``: gauge pullback ``Ū = v̄ - Re(v̄ᴴv) v + i Im(v̄ᴴv)/v_p e_p``, then
    ``Ā = Re(W H Vᴴ)`` with ``H = diag(ḡ) + conj(F) ∘ (Vᴴ Ū)``."""
    n = v_re.shape[0]
    columns = pt.arange(n)
    z_re = pt.sum(gv_re * v_re + gv_im * v_im, axis=0)
    z_im = pt.sum(gv_re * v_im - gv_im * v_re, axis=0)
    # a row of -1 below: NumPy's argmax of a 0 x 0 array raises, of a 1 x 0 one it does not
    size = pt.concatenate([v_re**2 + v_im**2, -pt.ones((1, n), dtype=v_re.dtype)])
    p = pt.argmax(size, axis=0)
    u_re = gv_re - z_re * v_re
    u_im = pt.inc_subtensor((gv_im - z_re * v_im)[p, columns], z_im / v_re[p, columns])
    G = _cmatmul(_ctranspose((v_re, v_im)), (u_re, u_im))
    D_re = w_re[None, :] - w_re[:, None]
    D_im = w_im[None, :] - w_im[:, None]
    magnitude = D_re**2 + D_im**2
    diagonal = pt.eq(magnitude, 0)  # only the diagonal: eigenvalues are simple here
    safe = pt.switch(diagonal, 1, magnitude)
    cF_re = pt.switch(diagonal, 0, D_re / safe)  # conj(1/D) off the diagonal
    cF_im = pt.switch(diagonal, 0, D_im / safe)
    H_re = pt.diag(gw_re) + cF_re * G[0] - cF_im * G[1]
    H_im = pt.diag(gw_im) + cF_re * G[1] + cF_im * G[0]
    K_re, K_im = _cmatmul((W_re, W_im), (H_re, H_im))
    return K_re @ v_re.T + K_im @ v_im.T


class EigvalsPushforward(Op):
    r"""Tangents of the eigenvalues: :math:`d\lambda_k = y_k^H\, dA\, x_k / (y_k^H x_k)`."""

    __props__ = ()
    gufunc_signature = "(m,m),(m,m),(m),(m),(m,m)->(m),(m)"

    def make_node(self, T, Q, w_re, w_im, dA):
        inputs = [pt.as_tensor_variable(x) for x in (T, Q, w_re, w_im, dA)]
        return Apply(self, inputs, [inputs[2].type(), inputs[3].type()])

    def perform(self, node, inputs, outputs):
        T, Q, wr, wi, dA = inputs
        dw_re, dw_im = _schur.eigvals_pushforward(T, Q, wr, wi, dA.astype(T.dtype))
        outputs[0][0] = dw_re
        outputs[1][0] = dw_im

    def infer_shape(self, node, shapes):
        return [shapes[2], shapes[3]]


def eigvals(A: TensorLike) -> tuple[Variable, Variable]:
    r"""Eigenvalues of a general real square matrix, as real and imaginary parts.

    Parameters
    ----------
    A : TensorLike
        Real square matrix ``(..., m, m)``; integer input is cast to ``float64``.

    Returns
    -------
    w_re, w_im : TensorVariable
        ``(..., m)`` each. The order is that of the real Schur form: a conjugate pair is
        adjacent with its positive-imaginary member first; real eigenvalues have
        ``w_im == 0`` exactly.

    Notes
    -----
    The gradient is :math:`\bar A = \operatorname{Re}\sum_k \bar g_k\, y_k x_k^H /
    \overline{y_k^H x_k}`, computed from the real Schur form of the forward pass.
    For a leading value prefer `spectral_abscissa`: ``max(w_re)`` gives the whole
    cotangent to both members of a conjugate pair, doubling the gradient.
    """
    w_re, w_im, _, _ = _apply(SchurEig(compute_v=False), A)
    return w_re, w_im


def eig(A: TensorLike) -> tuple[Variable, Variable, Variable, Variable]:
    r"""Eigenvalues and right eigenvectors of a general real square matrix.

    Parameters
    ----------
    A : TensorLike
        Real square matrix ``(..., m, m)``; integer input is cast to ``float64``.

    Returns
    -------
    w_re, w_im : TensorVariable
        ``(..., m)``: eigenvalues as in `eigvals`.
    v_re, v_im : TensorVariable
        ``(..., m, m)``: column ``k`` of ``v_re + i v_im`` is the right eigenvector of
        eigenvalue ``k``, of unit 2-norm, with its largest-modulus component real and
        positive (lowest index on ties). Vectors of a conjugate pair are conjugate.

    Notes
    -----
    Any real loss of the four outputs is differentiable at simple eigenvalues. The
    gradient of a loss that depends on eigenvectors of a repeated eigenvalue is
    undefined and raises ``ValueError`` at run time.
    """
    w_re, w_im, v_re, v_im, _, _ = _apply(SchurEig(compute_v=True), A)
    return w_re, w_im, v_re, v_im


def as_complex(re: TensorLike, im: TensorLike) -> Variable:
    """Forward-only convenience: ``re + 1j * im`` as a complex tensor (not differentiable).

    Built from a cast and elementwise arithmetic rather than ``pt.complex``, whose scalar
    op has no Numba implementation (it would run in object mode).
    """
    re, im = pt.as_tensor_variable(re), pt.as_tensor_variable(im)
    dtype = "complex64" if re.dtype == im.dtype == "float32" else "complex128"
    return pt.cast(re, dtype) + np.array(1j, dtype=dtype) * pt.cast(im, dtype)
