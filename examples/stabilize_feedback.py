"""
Stabilize a feedback system by minimizing its smoothed spectral abscissa
========================================================================

The README demo, `pytensor_spectral.demo`: the closed loop ``A(K) = A0 + B K C`` of a
4-state system with static output feedback is unstable at ``K = 0``. SciPy's BFGS
minimizes ``ssa(A(K)) + μ‖K‖²`` (the smoothed spectral abscissa, an upper bound of the
spectral abscissa that is smooth in ``K``) with the exact gradient from ``pytensor.grad``;
the plot shows the eigenvalues moving into the left half-plane.

Run: ``python examples/stabilize_feedback.py [plot.png]`` (same as
``python -m pytensor_spectral.demo``).
"""

import sys

from pytensor_spectral.demo import main


if __name__ == "__main__":
    main(*sys.argv[1:])
