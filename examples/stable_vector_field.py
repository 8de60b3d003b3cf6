"""
Keep a learned vector field contractive with a matrix-free numerical-abscissa penalty
=====================================================================================

A one-layer vector field ``f(z) = tanh(W z + b)`` is fitted to targets by gradient
descent. The penalty ``relu(ω(J) − margin)²`` on the numerical abscissa of its Jacobian
``J = ∂f/∂z`` at a reference state bounds the instantaneous growth rate of
perturbations, ``d‖δz‖/dt ≤ ω(J) ‖δz‖``. ``ω(J)`` comes from
`jacobian_numerical_abscissa`: restarted Lanczos on ``(J + Jᵀ)/2`` using only
Jacobian-vector and vector-Jacobian products, never the dense Jacobian. The Lanczos
vector is carried from step to step with ``updates`` (warm start).

Run: ``python examples/stable_vector_field.py``.
"""

import numpy as np
import pytensor
import pytensor.tensor as pt

from pytensor_spectral import jacobian_numerical_abscissa


def main(n=200, steps=60, margin=-0.1, weight=10.0, learning_rate=0.05, seed=0):
    rng = np.random.default_rng(seed)
    W = pytensor.shared(rng.normal(size=(n, n)) * 1.5 / np.sqrt(n), name="W")
    b = pytensor.shared(np.zeros(n), name="b")
    v = pytensor.shared(np.ones(n) / np.sqrt(n), name="v")  # warm-start vector
    z_ref = pt.constant(rng.normal(size=n) * 0.1)
    inputs = rng.normal(size=(64, n))
    targets = np.tanh(inputs @ rng.normal(size=(n, n)).T / np.sqrt(n)) - 0.5 * inputs

    X, Y = pt.matrix("X"), pt.matrix("Y")
    fit = pt.mean((pt.tanh(X @ W.T + b) - X - Y) ** 2)  # dz/dt = f(z) − z
    z = pt.vector("z")
    omega, v_new = jacobian_numerical_abscissa(pt.tanh(W @ z + b) - z, z, v0=v)
    omega = pytensor.graph.replace.graph_replace(omega, {z: z_ref})
    v_new = pytensor.graph.replace.graph_replace(v_new, {z: z_ref})
    penalty = pt.maximum(omega - margin, 0.0) ** 2
    loss = fit + weight * penalty
    grads = pytensor.grad(loss, [W, b])
    updates = [(p, p - learning_rate * g) for p, g in zip([W, b], grads, strict=True)]
    step = pytensor.function([X, Y], [fit, omega], updates=[*updates, (v, v_new)])

    for i in range(steps):
        fit_value, omega_value = step(inputs, targets)
        if i % 10 == 0 or i == steps - 1:
            print(f"step {i:3d}: fit {fit_value:.4f}  ω(J) = {omega_value:+.4f}")
    return omega_value


if __name__ == "__main__":
    main()
