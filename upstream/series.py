"""The pull-request series: where each package module goes in PyTensor's tree, and which
pull request carries it.

Read by `upstream/generate.py`; the modules are copied with only their imports (and the
module paths they name) changed.
"""

PYTENSOR_VERSION = "3.3.8"
"""The release the series is generated against and checked on (``pytensor>=3.3,<4``)."""

SDIST_SHA256 = "3e1737d99cdb185c8fa9e9011451ba3e765f685b2c77534f25eae2bad53a0b13"
"""Of ``pytensor-3.3.8.tar.gz`` on PyPI: the base files the patches edit come from it."""

OPS = "pytensor.tensor.linalg.spectral"
KERNELS = "pytensor.link.numba.dispatch.linalg.spectral"
JAX = "pytensor.link.jax.dispatch.linalg.spectral"
REWRITES = "pytensor.tensor.rewriting.linalg.spectral"

PLACEMENT = {
    "pytensor_spectral": OPS,
    "pytensor_spectral._graph": f"{OPS}._graph",
    "pytensor_spectral.eig": f"{OPS}.eig",
    "pytensor_spectral.abscissa": f"{OPS}.abscissa",
    "pytensor_spectral.ssa": f"{OPS}.ssa",
    "pytensor_spectral.numerical_abscissa": f"{OPS}.numerical_abscissa",
    "pytensor_spectral.iterative": f"{OPS}.iterative",
    "pytensor_spectral.implicit": f"{OPS}.implicit",
    "pytensor_spectral.symmetric": f"{OPS}.symmetric",
    "pytensor_spectral.svd": f"{OPS}.svd",
    "pytensor_spectral.eigengap": f"{OPS}.eigengap",
    "pytensor_spectral._lapack": f"{KERNELS}._lapack",
    "pytensor_spectral._schur": f"{KERNELS}._schur",
    "pytensor_spectral._hessenberg": f"{KERNELS}._hessenberg",
    "pytensor_spectral._lyapunov": f"{KERNELS}._lyapunov",
    "pytensor_spectral._quasi_triangular": f"{KERNELS}._quasi_triangular",
    "pytensor_spectral._lanczos": f"{KERNELS}._lanczos",
    "pytensor_spectral._leading": f"{KERNELS}._leading",
    "pytensor_spectral._symmetric": f"{KERNELS}._symmetric",
    "pytensor_spectral._eigengap": f"{KERNELS}._eigengap",
    "pytensor_spectral.pseudospectra": f"{OPS}.pseudospectra",
    "pytensor_spectral._pseudospectra": f"{KERNELS}._pseudospectra",
    "pytensor_spectral.link.numba": KERNELS,
    "pytensor_spectral.link.jax": JAX,
    "pytensor_spectral.rewriting": REWRITES,
    **{
        f"pytensor_spectral.link.numba.{name}": f"{KERNELS}.{name}"
        for name in (
            "basic",
            "eig",
            "abscissa",
            "ssa",
            "numerical_abscissa",
            "symmetric",
            "svd",
            "eigengap",
            "pseudospectra",
        )
    },
    **{
        f"pytensor_spectral.link.jax.{name}": f"{JAX}.{name}"
        for name in (
            "basic",
            "eig",
            "abscissa",
            "ssa",
            "numerical_abscissa",
            "symmetric",
            "svd",
            "eigengap",
            "pseudospectra",
        )
    },
    **{
        f"pytensor_spectral.rewriting.{name}": f"{REWRITES}.{name}"
        for name in ("_match", "eig", "abscissa", "complex_eig", "leading", "gradient")
    },
}
"""Package module → PyTensor module. The packages themselves (``pytensor_spectral``,
``.link.numba``, …) are not copied: their ``__init__`` files are generated."""

SERIES = [
    {
        "name": "01-real-eig",
        "title": "Add real-valued eig/eigvals of general real matrices with Schur-form derivatives",
        "modules": [
            "_graph",
            "_lapack",
            "_schur",
            "eig",
            "link.numba.basic",
            "link.numba.eig",
            "link.jax.basic",
            "link.jax.eig",
            "rewriting._match",
            "rewriting.eig",
        ],
        "exports": {"eig": {"eig": "real_eig", "eigvals": "real_eigvals"}},
        "tests": [
            "tests/tensor/linalg/spectral/__init__.py",
            "tests/tensor/linalg/spectral/test_eig.py",
            "tests/link/numba/linalg/spectral/__init__.py",
            "tests/link/numba/linalg/spectral/test_eig.py",
            "tests/link/jax/linalg/spectral/__init__.py",
            "tests/link/jax/linalg/spectral/test_eig.py",
        ],
        "existing_tests": [
            "tests/tensor/linalg/test_doc_api.py",
            "tests/tensor/linalg/test_decomposition/test_eigen.py",
            "tests/link/numba/linalg/test_decomposition.py::test_Eig",
            "tests/link/numba/linalg/test_decomposition.py::test_Eigh",
        ],
    },
    {
        "name": "02-spectral-abscissa",
        "title": "Add spectral_abscissa and spectral_radius with exact gradients",
        "modules": [
            "_hessenberg",
            "abscissa",
            "link.numba.abscissa",
            "link.jax.abscissa",
            "rewriting.abscissa",
            "rewriting.complex_eig",
        ],
        "exports": {"abscissa": {"spectral_abscissa": None, "spectral_radius": None}},
        "tests": [
            "tests/tensor/linalg/spectral/test_abscissa.py",
            "tests/tensor/rewriting/linalg/spectral/__init__.py",
            "tests/tensor/rewriting/linalg/spectral/test_complex_eig.py",
            "tests/link/numba/linalg/spectral/test_abscissa.py",
            "tests/link/jax/linalg/spectral/test_abscissa.py",
        ],
        "existing_tests": [
            "tests/tensor/rewriting/linalg/test_decomposition.py",
        ],
    },
    {
        "name": "03-smoothed-spectral-abscissa",
        "title": "Add the smoothed spectral abscissa",
        "modules": [
            "_quasi_triangular",
            "_lyapunov",
            "ssa",
            "link.numba.ssa",
            "link.jax.ssa",
        ],
        "exports": {"ssa": {"ssa": "smoothed_spectral_abscissa"}},
        "tests": [
            "tests/tensor/linalg/spectral/test_ssa.py",
            "tests/link/numba/linalg/spectral/test_ssa.py",
        ],
        "existing_tests": [
            "tests/tensor/linalg/test_doc_api.py",
        ],
    },
    {
        "name": "04-leading-values",
        "title": "Add numerical abscissa and Lanczos leading values with rewrites of dense decompositions",
        "modules": [
            "_symmetric",
            "_lanczos",
            "_leading",
            "numerical_abscissa",
            "iterative",
            "implicit",
            "symmetric",
            "svd",
            "link.numba.numerical_abscissa",
            "link.numba.symmetric",
            "link.numba.svd",
            "link.jax.numerical_abscissa",
            "link.jax.symmetric",
            "link.jax.svd",
            "rewriting.leading",
            "rewriting.gradient",
        ],
        "exports": {
            "numerical_abscissa": {
                "numerical_abscissa": None,
                "jacobian_numerical_abscissa": None,
            },
            "symmetric": {"leading_eigvalsh": None},
            "svd": {"leading_singular_triplet": None, "spectral_norm": None},
        },
        "tests": [
            "tests/tensor/linalg/spectral/test_leading.py",
            "tests/tensor/rewriting/linalg/spectral/test_leading.py",
            "tests/link/numba/linalg/spectral/test_leading.py",
            "tests/link/jax/linalg/spectral/test_leading.py",
        ],
        "existing_tests": [
            "tests/tensor/rewriting/linalg/test_decomposition.py",
            "tests/link/numba/linalg/test_decomposition.py::test_SVD",
            "tests/tensor/linalg/test_summary.py",
        ],
    },
    {
        "name": "05-eigengap",
        "title": "Add a stable eigengap of symmetric matrices",
        "modules": [
            "_eigengap",
            "eigengap",
            "link.numba.eigengap",
            "link.jax.eigengap",
        ],
        "exports": {"eigengap": {"eigengap": None}},
        "tests": [
            "tests/tensor/linalg/spectral/test_eigengap.py",
            "tests/link/numba/linalg/spectral/test_eigengap.py",
        ],
        "existing_tests": [
            "tests/tensor/linalg/test_doc_api.py",
        ],
    },
    {
        "name": "06-pseudospectra",
        "title": "Add the pseudospectral abscissa and the distance to instability",
        "modules": [
            "_pseudospectra",
            "pseudospectra",
            "link.numba.pseudospectra",
            "link.jax.pseudospectra",
        ],
        "exports": {
            "pseudospectra": {
                "pseudospectral_abscissa": None,
                "distance_to_instability": None,
            }
        },
        "tests": [
            "tests/tensor/linalg/spectral/test_pseudospectra.py",
            "tests/link/numba/linalg/spectral/test_pseudospectra.py",
            "tests/link/jax/linalg/spectral/test_pseudospectra.py",
        ],
        "existing_tests": [
            "tests/tensor/linalg/test_doc_api.py",
        ],
    },
]
"""In dependency order. ``exports``: package module → {function: name in
``pytensor.tensor.linalg`` (``None``: the same name)}; ``tests``: files under
``upstream/`` in PyTensor's test layout; ``existing_tests``: PyTensor's own tests of what
the pull request touches (pytest node ids in its tree)."""

KNOWN_FAILURES = [
    "tests/tensor/rewriting/linalg/test_decomposition.py::test_eigh_of_diag[alloc_diag]",
    "tests/tensor/rewriting/linalg/test_decomposition.py::test_eigh_of_diag[eye_mul]",
    "tests/tensor/rewriting/linalg/test_decomposition.py::test_svd_of_diag[alloc_diag_with_uv]",
    "tests/tensor/rewriting/linalg/test_decomposition.py::test_svd_of_diag[eye_mul_no_uv]",
    "tests/tensor/rewriting/linalg/test_decomposition.py::test_eig_to_eigh",
]
"""The snapshot's test tree against 3.3.8: expected graphs changed in 3.3.x
(``../shared/upstream/README.md``); unrelated to the series."""
