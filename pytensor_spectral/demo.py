"""Demo: eigenvalues of a parametrized non-symmetric matrix and their exact gradient.

A linear system ``dx/dt = A(K) x`` with static output feedback ``A(K) = A0 + B K C`` is
unstable for ``K = 0``. The demo differentiates the leading real part of the spectrum
with respect to the gain ``K`` through `pytensor_spectral.eigvals` (Schur-form
gradient), checks that gradient against central finite differences, and runs plain
gradient descent on ``K`` until the system is stable.

Run: ``python -m pytensor_spectral.demo``.
"""

import numpy as np
import pytensor
import pytensor.tensor as pt

from pytensor_spectral import eigvals


A0 = np.array(
    [
        [0.2, 1.0, 0.0, 0.0],
        [-1.0, 0.2, 0.5, 0.0],
        [0.0, 0.0, -0.3, 2.0],
        [0.0, 0.3, -2.0, -0.3],
    ]
)
B = np.array([[0.0], [1.0], [0.0], [1.0]])
C = np.array([[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 1.0, 0.0]])


def build():
    """Compile ``K -> (w_re, w_im, leading real part, its gradient)``."""
    K = pt.matrix("K")
    w_re, w_im = eigvals(A0 + B @ K @ C)
    # Index the leading eigenvalue rather than take max(w_re): a conjugate pair ties in
    # w_re, and max's gradient would hand the cotangent to both members.
    leading = w_re[pt.argmax(w_re)]
    return pytensor.function([K], [w_re, w_im, leading, pytensor.grad(leading, K)])


def main():
    f = build()
    K = np.zeros((1, 2))
    w_re, w_im, alpha, grad = f(K)
    print("A(K=0) eigenvalues:", np.round(w_re + 1j * w_im, 4))
    print(f"spectral abscissa max Re λ = {alpha:.4f} (unstable)")
    h = 1e-6
    fd = np.zeros_like(K)
    for idx in np.ndindex(K.shape):
        E = np.zeros_like(K)
        E[idx] = h
        fd[idx] = (f(K + E)[2] - f(K - E)[2]) / (2 * h)
    print("d alpha / dK, Schur-form gradient:", grad.ravel())
    print("d alpha / dK, finite differences :", fd.ravel())
    step = 0.5
    for it in range(1, 201):
        K = K - step * grad / max(np.linalg.norm(grad), 1.0)
        w_re, w_im, alpha, grad = f(K)
        if it % 10 == 0 or alpha < -0.05:
            print(f"  step {it:3d}: max Re λ = {alpha:+.4f}  K = {np.round(K.ravel(), 3)}")
        if alpha < -0.05:
            break
    print("A(K) eigenvalues:", np.round(w_re + 1j * w_im, 4))
    print("stable" if alpha < 0 else "not stabilized", f"(max Re λ = {alpha:.4f})")


if __name__ == "__main__":
    main()
