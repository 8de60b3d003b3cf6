r"""
MUSIC direction finding with a learned noise whitening, trained on the Hermitian eigengap
=========================================================================================

A uniform linear array of ``m`` sensors at half-wavelength spacing receives ``K``
narrow-band sources at angles :math:`\theta_s`; the snapshots are
:math:`x_t = A s_t + n_t` with steering vectors :math:`a(\theta)_j = e^{i\pi j\sin\theta}`
and spatially correlated noise, :math:`\operatorname{cov}(n_t) = \sigma^2 C(\rho)`,
:math:`C(\rho)_{ij} = \rho^{|i-j|}`. MUSIC locates the sources at the peaks of
:math:`P(\theta) = 1 / \|E_n^H a(\theta)\|^2`, with :math:`E_n` the eigenvectors of the
sample covariance :math:`R` beyond the ``K`` largest; correlated noise blurs the split
between signal and noise subspaces.

The learnable preprocessing is the whitening :math:`\tilde R = W(\hat\rho) R
W(\hat\rho)^\top` for the AR(1) noise model (:math:`W` is the bidiagonal inverse
Cholesky factor of :math:`C(\hat\rho)`, real, so it acts on the real and imaginary parts
of :math:`R` separately), with :math:`\hat\rho = \operatorname{sigmoid}(z)`. The loss is
a hinge on the normalized eigengap of the complex Hermitian :math:`\tilde R`,

.. math::

    L(z) = \max\Big(0,\ \text{margin} - m\,\frac{\lambda_K(\tilde R) -
        \lambda_{K+1}(\tilde R)}{\operatorname{tr} \tilde R}\Big),

through `eigengap` with ``im=`` (real embedding of the Hermitian matrix). The gap is
not concave in :math:`\hat\rho` (it has a local maximum near :math:`\hat\rho = 0.35`
and kinks where noise eigenvalues cross), so `train` starts from the best point of a
coarse grid and refines it by gradient descent.

Where the whitening is right, the noise eigenvalues :math:`\lambda_{K+1}, \dots,
\lambda_m` coincide (exactly so for the population covariance). A gap taken from
``eigh`` (`eigh_gap`; PyTensor cannot differentiate a complex ``eigh``, so of the real
embedding) has a pullback with :math:`1/(\lambda_i - \lambda_j)` factors that multiply
zero eigenvector cotangents: ``0 · inf = NaN`` at exactly repeated eigenvalues unless a
rewrite removes the term (PyTensor's default rewrites do here; ``FAST_COMPILE``, like
PyTorch's ``eigh`` backward, does not). `eigengap` has no such factors.

Run: ``python examples/music_eigengap.py [plot.png]`` (the ``plot`` extra for the
figure of the MUSIC spectra before and after training).
"""

import sys

import numpy as np
import pytensor
import pytensor.tensor as pt

from pytensor_spectral import eigengap
from pytensor_spectral.symmetric import hermitian_embedding


SENSORS = 12
ANGLES = np.deg2rad([-12.0, 20.0])
NOISE_CORRELATION = 0.8


def steering(angles, m=SENSORS):
    """``(m, len(angles))`` steering vectors of the half-wavelength linear array."""
    return np.exp(1j * np.pi * np.arange(m)[:, None] * np.sin(angles)[None, :])


def noise_correlation(rho, m=SENSORS):
    """:math:`C(\\rho)_{ij} = \\rho^{|i-j|}`."""
    j = np.arange(m)
    return rho ** np.abs(j[:, None] - j[None, :])


def simulate(snapshots=400, amplitude=0.5, seed=0):
    """Sample covariance ``(re, im)`` of ``snapshots`` array snapshots."""
    rng = np.random.default_rng(seed)

    def gaussian(*shape):
        return (rng.normal(size=shape) + 1j * rng.normal(size=shape)) / np.sqrt(2)

    L = np.linalg.cholesky(noise_correlation(NOISE_CORRELATION))
    X = amplitude * steering(ANGLES) @ gaussian(len(ANGLES), snapshots)
    X = X + L @ gaussian(SENSORS, snapshots)
    R = X @ X.conj().T / snapshots
    return R.real, R.imag


def population_covariance(amplitude=0.5):
    """``(re, im)`` of :math:`a^2 A A^H + C(\\rho)`: its ``m - K`` noise eigenvalues are
    equal after whitening with the true :math:`\\rho`."""
    A = steering(ANGLES)
    R = amplitude**2 * A @ A.conj().T + noise_correlation(NOISE_CORRELATION)
    return R.real, R.imag


def whitening(rho, m=SENSORS):
    """Bidiagonal :math:`W` with :math:`W C(\\rho) W^\\top = I` (a PyTensor graph)."""
    scale = pt.concatenate([pt.ones(1), pt.full((m - 1,), 1 / pt.sqrt(1 - rho**2))])
    W = pt.eye(m) - rho * pt.eye(m, k=-1)
    return scale[:, None] * W


def whiten(R_re, R_im, rho):
    """Real and imaginary parts of :math:`W R W^\\top`."""
    W = whitening(rho, R_re.shape[-1])
    return W @ R_re @ W.T, W @ R_im @ W.T


def normalized_gap(R_re, R_im, k):
    """:math:`m (\\lambda_k - \\lambda_{k+1}) / \\operatorname{tr} R` of ``R_re + i R_im``."""
    m = R_re.shape[-1]
    return m * eigengap(R_re, k, im=R_im) / pt.trace(R_re)


def eigh_gap(R_re, R_im, k):
    """The same gap from ``pt.linalg.eigh`` of the real embedding (eigenvalue ``k`` of
    the Hermitian matrix is eigenvalue ``2k`` of the embedding, ascending order
    reversed): its gradient is NaN at exactly repeated eigenvalues where no rewrite
    removes the zero eigenvector cotangents (``FAST_COMPILE``)."""
    w = pt.linalg.eigh(hermitian_embedding(R_re, R_im))[0][::-1]
    return R_re.shape[-1] * (w[2 * k - 1] - w[2 * k]) / pt.trace(R_re)


def loss_and_grad(R_re, R_im, k=len(ANGLES), margin=2.0, gap=normalized_gap):
    """Compiled ``z -> (loss, dloss/dz, ρ̂)`` for the hinge loss of the module docstring."""
    z = pt.dscalar("z")
    rho = pt.sigmoid(z)
    loss = pt.maximum(0.0, margin - gap(*whiten(pt.as_tensor(R_re), R_im, rho), k))
    return pytensor.function([z], [loss, pytensor.grad(loss, z), rho])


def train(R_re, R_im, steps=40, learning_rate=2.0, grid=(0.1, 0.3, 0.5, 0.7, 0.9)):
    """Gradient descent on ``z`` from the best ``ρ̂`` of ``grid``, halving the step
    whenever it would not lower the loss (the loss has kinks); returns the history of
    ``(loss, ρ̂)`` of the accepted points."""
    f = loss_and_grad(R_re, R_im)
    starts = np.log(np.divide(grid, np.subtract(1.0, grid)))
    z = min(starts, key=lambda z: f(z)[0])
    loss, g, rho = f(z)
    history = [(float(loss), float(rho))]
    for _ in range(steps):
        if not np.isfinite(g):
            raise FloatingPointError(f"non-finite gradient at z = {z}")
        trial = f(z - learning_rate * g)
        if trial[0] < loss:
            z = z - learning_rate * g
            loss, g, rho = trial
            history.append((float(loss), float(rho)))
        else:
            learning_rate /= 2
    return history


def music_spectrum(R_re, R_im, rho, k=len(ANGLES), grid=None):
    """MUSIC pseudospectrum of the whitened covariance on a grid of angles (NumPy)."""
    grid = np.deg2rad(np.linspace(-90, 90, 721)) if grid is None else grid
    W = np.eye(SENSORS) - rho * np.eye(SENSORS, k=-1)
    W[1:] /= np.sqrt(1 - rho**2)
    R = W @ (R_re + 1j * R_im) @ W.T
    noise = np.linalg.eigh(R)[1][:, : SENSORS - k]
    a = W @ steering(grid)
    return grid, 1.0 / np.sum(np.abs(noise.conj().T @ a) ** 2, axis=0)


def peak_angles(grid, spectrum, k=len(ANGLES)):
    """The ``k`` highest local maxima of ``spectrum``, in degrees, ascending."""
    interior = (spectrum[1:-1] > spectrum[:-2]) & (spectrum[1:-1] > spectrum[2:])
    peaks = np.flatnonzero(interior) + 1
    best = peaks[np.argsort(spectrum[peaks])[-k:]]
    return np.sort(np.rad2deg(grid[best]))


def main(plot_path=None):
    """Train the whitening, report ρ̂ and the MUSIC peaks before and after."""
    R_re, R_im = simulate()
    history = train(R_re, R_im)
    rho = history[-1][1]
    print(f"true noise correlation {NOISE_CORRELATION}, learned ρ̂ = {rho:.3f}")
    print(f"hinge loss {history[0][0]:.3f} -> {history[-1][0]:.3f}")
    spectra = {}
    for label, r in (("unwhitened", 0.0), ("learned whitening", rho)):
        spectra[label] = music_spectrum(R_re, R_im, r)
        print(f"{label}: MUSIC peaks at {np.round(peak_angles(*spectra[label]), 2)}°")
    print(f"true angles {np.round(np.rad2deg(ANGLES), 2)}°")
    if plot_path is not None:
        _plot(spectra, plot_path)
    return history, spectra


def _plot(spectra, path):
    from pytensor_spectral.demo import pyplot, save_figure

    plt = pyplot()
    if plt is None:
        return
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for label, (grid, spectrum) in spectra.items():
        ax.plot(np.rad2deg(grid), 10 * np.log10(spectrum / spectrum.max()), label=label)
    for angle in np.rad2deg(ANGLES):
        ax.axvline(angle, color="grey", lw=0.8, ls=":")
    ax.set(xlabel="angle (degrees)", ylabel="MUSIC spectrum (dB)")
    ax.legend()
    fig.tight_layout()
    save_figure(fig, path)


if __name__ == "__main__":
    main(*sys.argv[1:])
