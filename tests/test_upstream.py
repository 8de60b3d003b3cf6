"""The PyTensor pull-request series in ``upstream/``: generated output is current, every
package module has a place in it, and each pull request needs only earlier ones."""

import ast
import importlib.util
import sys
from pathlib import Path

import pytest


UPSTREAM = Path(__file__).resolve().parents[1] / "upstream"
PACKAGE = UPSTREAM.parent / "pytensor_spectral"


def _load(name):
    spec = importlib.util.spec_from_file_location(
        f"upstream_{name}", UPSTREAM / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(UPSTREAM))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(UPSTREAM))
    return module


series = _load("series")


def _package_modules() -> set[str]:
    modules = set()
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE).with_suffix("")
        if relative.name != "__init__" and relative.name != "demo":
            modules.add(".".join(relative.parts))
    return modules


def _imported_package_modules(module: str) -> set[str]:
    tree = ast.parse((PACKAGE / (module.replace(".", "/") + ".py")).read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
            "pytensor_spectral"
        ):
            if node.module == "pytensor_spectral":
                found |= {alias.name for alias in node.names}
            else:
                found.add(node.module.removeprefix("pytensor_spectral."))
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", None) == "LazyModule"
        ):
            found.add(node.args[0].value.removeprefix("pytensor_spectral."))
    return found


def test_every_module_is_in_exactly_one_pull_request():
    carried = [m for pr in series.SERIES for m in pr["modules"]]
    assert len(carried) == len(set(carried))
    assert set(carried) == _package_modules()
    for module in carried:
        assert f"pytensor_spectral.{module}" in series.PLACEMENT


def test_pull_requests_depend_only_on_earlier_ones():
    available: set[str] = set()
    for pr in series.SERIES:
        available |= set(pr["modules"])
        for module in pr["modules"]:
            missing = _imported_package_modules(module) - available
            assert not missing, (
                f"{pr['name']}: {module} imports {missing} of a later PR"
            )


def test_every_pull_request_has_its_description_and_tests():
    for pr in series.SERIES:
        description = (UPSTREAM / "prs" / f"{pr['name']}.md").read_text()
        assert "## Description" in description
        for test in pr["tests"]:
            assert (UPSTREAM / test).exists(), test


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_generated_patches_are_current(tmp_path):
    generate = _load("generate")
    generated = generate.generate(tmp_path)
    committed = sorted((UPSTREAM / "patches").glob("*.patch"))
    assert [p.name for p in generated] == [p.name for p in committed]
    for new, old in zip(generated, committed, strict=True):
        assert new.read_text() == old.read_text(), (
            f"{old.name} is stale: run upstream/generate.py"
        )
