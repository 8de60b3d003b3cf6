"""Graph rewrites of this package, registered under the ``"spectral"`` tag (importing
the package registers them; ``mode.excluding("spectral")`` turns all of them off).

* `~pytensor_spectral.rewriting.eig`: `Eigvals` instead of `SchurEig` where no gradient
  needs the Schur vectors.
* `~pytensor_spectral.rewriting.abscissa`: ``max`` of real parts of eigenvalues →
  `spectral_abscissa`.
* `~pytensor_spectral.rewriting.leading`: leading values of dense symmetric
  decompositions and SVDs → Lanczos subgraphs.
* `~pytensor_spectral.rewriting.gradient`: PyTensor's gradients of leading values
  (built from dense decompositions) → outer products of the Lanczos vectors.
* `~pytensor_spectral.rewriting.complex_eig`: PyTensor's complex ``Eig`` → this package's
  real-valued eigenvalues, where only order-free real functions of them are used.
"""

import pytensor_spectral.rewriting.abscissa
import pytensor_spectral.rewriting.complex_eig
import pytensor_spectral.rewriting.eig
import pytensor_spectral.rewriting.gradient
import pytensor_spectral.rewriting.leading  # noqa: F401
