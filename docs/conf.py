"""Sphinx configuration: ``sphinx-build -W -b html docs docs/_build/html``."""

import sys
from pathlib import Path


sys.path.insert(0, str(Path(__file__).parent))

project = "pytensor-spectral"
author = "pytensor-spectral developers"
extensions = [
    "myst_parser",
    "numpydoc",
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "sphinx_gallery.gen_gallery",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = [
    "_build",
    "benchmark_results/*",
    "gallery/*.ipynb",
    "gallery/*.py",
    "gallery/*.zip",
]
default_role = "py:obj"  # `name` links to the API reference where it can
myst_enable_extensions = ["dollarmath"]
myst_heading_anchors = 3
numpydoc_show_class_members = False
numpydoc_validation_checks = set()
html_theme = "pydata_sphinx_theme"
html_title = "pytensor-spectral"
html_theme_options = {"navigation_with_keys": False}
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "gallery",
    "filename_pattern": r".*\.py",  # run every example
    "reset_argv": "_gallery.reset_argv",
    "abort_on_example_error": True,
    "download_all_examples": False,
    "show_memory": False,
    "remove_config_comments": True,
}
