"""The documentation site builds with warnings as errors, every example of the gallery
runs, and the pages and figures it promises are there."""

import subprocess
import sys
from pathlib import Path


ROOT = Path(__file__).parents[1]
FIGURES = {  # example -> figures its gallery page must show
    "stabilize_feedback": 1,
    "robust_feedback": 1,
    "statespace_var": 1,
    "compartment_pk": 1,
    "music_eigengap": 1,
    "stable_var": 0,
    "stable_vector_field": 0,
}


def test_documentation_builds_with_warnings_as_errors(tmp_path):
    html = tmp_path / "html"
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q"]
    # run every example even where an earlier build in docs/gallery is up to date
    command += ["-D", "sphinx_gallery_conf.run_stale_examples=True"]
    command += ["-b", "html", "-d", str(tmp_path / "doctrees"), "docs", str(html)]
    result = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=1800, check=False
    )
    assert result.returncode == 0, result.stderr[-6000:]
    pages = {p.stem for p in ROOT.glob("docs/*.md")} | {"api"}
    assert all((html / f"{page}.html").is_file() for page in pages)
    api = (html / "api.html").read_text()
    for name in ("eig", "eigengap", "spectral_radius", "symmetric.hermitian_embedding"):
        assert f'id="pytensor_spectral.{name}"' in api, name
    examples = {p.stem for p in ROOT.glob("examples/*.py")}
    assert examples == set(FIGURES)
    for name, count in FIGURES.items():
        assert (html / "gallery" / f"{name}.html").is_file()
        images = list((html / "_images").glob(f"sphx_glr_{name}_0*.png"))
        assert len(images) == count, name
