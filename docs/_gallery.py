"""Helpers of the Sphinx-Gallery configuration (importable by name, so the
configuration stays picklable)."""

from pathlib import Path


PLOTS = Path(__file__).parent / "_build" / "example_plots"


def reset_argv(gallery_conf, script_vars):
    """Command line of each example: the path its figure is saved to (the figure also
    stays open, which is what the gallery's image scraper collects)."""
    PLOTS.mkdir(parents=True, exist_ok=True)
    return [str(PLOTS / (Path(script_vars["src_file"]).stem + ".png"))]
