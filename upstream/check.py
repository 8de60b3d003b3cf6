"""Apply the generated pull-request series to PyTensor's tree and run its tests there.

    upstream/check [WORKDIR]        (default: /tmp/pytensor-spectral-upstream-check)

1. The tree: PyTensor's package source, docs and build files from the sdist of
   `series.PYTENSOR_VERSION`, its test tree from the source snapshot in
   ``../shared/upstream/`` (the sdist has no tests; see that folder's README).
2. ``git am`` of ``upstream/patches/*.patch`` in order, one commit each.
3. A throwaway virtual environment with the patched PyTensor installed (editable) and the
   test requirements, pinned to the versions of the running environment.
4. For each pull request, at its commit: its own tests in the NUMBA, CVM and FAST_COMPILE
   modes, and PyTensor's existing tests of what it touches (default mode); then all the
   series' tests once more at the last commit.

Prints one line per pull request and exits non-zero on any failure other than
`series.KNOWN_FAILURES`.
"""

import os
import shutil
import subprocess
import sys
import tarfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path


HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import series  # noqa: E402
from generate import GIT_IDENTITY, sdist  # noqa: E402


SNAPSHOT = HERE.parent.parent / "shared" / "upstream" / "pytensor-src-f857e69.tar.gz"
MODES = ("NUMBA", "CVM", "FAST_COMPILE")
TEST_REQUIREMENTS = [
    "pytest",
    "pytest-xdist",
    "pytest-mock",
    "pytest-benchmark",
    "jax",
    "jaxlib",
]
FROM_SDIST = (
    "pytensor",
    "doc",
    "pyproject.toml",
    "setup.py",
    "setup.cfg",
    "MANIFEST.in",
)


def run(*args, cwd=None, env=None, log=None) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True
    )
    if log is not None:
        log.write_text(result.stdout + result.stderr)
    return result


def git(tree: Path, *args: str) -> str:
    result = run("git", "-C", tree, *args, env={**os.environ, **GIT_IDENTITY})
    if result.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)}: {result.stderr}")
    return result.stdout.strip()


def build_tree(work: Path) -> Path:
    tree = work / "pytensor"
    tree.mkdir()
    with tarfile.open(SNAPSHOT) as tar:
        tar.extractall(tree, filter="data")
    with tarfile.open(sdist()) as tar:
        tar.extractall(work / "sdist", filter="data")
    released = work / "sdist" / f"pytensor-{series.PYTENSOR_VERSION}"
    for name in FROM_SDIST:
        target = tree / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
        source = released / name
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, target)
    git(tree, "init", "--quiet")
    git(tree, "add", "--all")
    git(
        tree,
        "commit",
        "--quiet",
        "-m",
        f"PyTensor {series.PYTENSOR_VERSION} + test tree",
    )
    return tree


def apply_series(tree: Path) -> dict[str, str | None]:
    """``{pull request: commit}`` (``None`` where ``git am`` failed)."""
    commits: dict[str, str | None] = {}
    for pr in series.SERIES:
        patch = HERE / "patches" / f"{pr['name']}.patch"
        result = run(
            "git",
            "-C",
            tree,
            "am",
            "--quiet",
            patch,
            env={**os.environ, **GIT_IDENTITY},
        )
        if result.returncode != 0:
            run("git", "-C", tree, "am", "--abort")
            commits[pr["name"]] = None
            break
        commits[pr["name"]] = git(tree, "rev-parse", "HEAD")
    return commits


def pinned(requirements: list[str]) -> list[str]:
    """``name==version`` as installed in the running environment, where it is."""
    from importlib.metadata import PackageNotFoundError, version

    out = []
    for name in requirements:
        try:
            out.append(f"{name}=={version(name)}")
        except PackageNotFoundError:
            out.append(name)
    return out


def make_env(work: Path, tree: Path) -> Path:
    env_dir = work / "venv"
    run(sys.executable, "-m", "venv", env_dir).check_returncode()
    python = env_dir / "bin" / "python"
    runtime = pinned(["numpy", "scipy", "numba", "llvmlite"])
    result = run(
        python, "-m", "pip", "install", "--quiet", "-e", tree, *runtime,
        *pinned(TEST_REQUIREMENTS), log=work / "logs" / "install.log",
    )  # fmt: skip
    if result.returncode != 0:
        raise RuntimeError(
            f"installing the patched PyTensor failed: see {work}/logs/install.log"
        )
    return python


def pytest(python: Path, tree: Path, tests: list[str], mode: str | None, log: Path):
    """``(passed, failed node ids)`` of one pytest run."""
    env = {**os.environ, "PYTENSOR_FLAGS": f"mode={mode}" if mode else ""}
    env.pop("PYTHONPATH", None)
    report = log.with_suffix(".xml")
    run(
        python, "-m", "pytest", "-q", "-n", "2", "-p", "no:cacheprovider",
        "-o", "addopts=", f"--junitxml={report}", *tests, cwd=tree, env=env, log=log,
    )  # fmt: skip
    if not report.exists():
        return 0, [f"{' '.join(tests)} (no report: see {log})"]
    passed, failed = 0, []
    for case in ET.parse(report).getroot().iter("testcase"):
        outcome = [
            child.tag for child in case if child.tag in ("failure", "error", "skipped")
        ]
        if "failure" in outcome or "error" in outcome:
            failed.append(_node_id(case))
        elif not outcome:
            passed += 1
    return passed, failed


def _node_id(case) -> str:
    """``path::[Class::]name`` of a junit test case, whose ``classname`` is the dotted
    module path followed by the class name for methods."""
    parts = case.get("classname", "").split(".")
    classes = []
    while parts and parts[-1][:1].isupper():
        classes.insert(0, parts.pop())
    return "::".join(["/".join(parts) + ".py", *classes, case.get("name", "")])


def main(work: Path) -> int:
    start = time.monotonic()
    if work.exists():
        shutil.rmtree(work)
    (work / "logs").mkdir(parents=True)
    tree = build_tree(work)
    commits = apply_series(tree)
    python = make_env(work, tree)
    ok = True
    lines = []
    for pr in series.SERIES:
        commit = commits.get(pr["name"])
        if commit is None:
            lines.append(f"{pr['name']}: NOT APPLIED")
            ok = False
            continue
        git(tree, "checkout", "--quiet", commit)
        own = [
            t
            for t in pr["tests"]
            if t.endswith(".py") and not t.endswith("__init__.py")
        ]
        counts, failures = [], []
        for mode in MODES:
            passed, failed = pytest(
                python, tree, own, mode, work / "logs" / f"{pr['name']}-{mode}.log"
            )
            counts.append(f"{mode} {passed}")
            failures += [f"{mode}: {f}" for f in failed]
        passed, failed = pytest(
            python,
            tree,
            pr["existing_tests"],
            None,
            work / "logs" / f"{pr['name']}-existing.log",
        )
        known = [f for f in failed if f in series.KNOWN_FAILURES]
        failures += [f"existing: {f}" for f in failed if f not in series.KNOWN_FAILURES]
        ok &= not failures
        status = "tests passed" if not failures else f"FAILED {len(failures)}"
        lines.append(
            f"{pr['name']}: applied; own tests passed: {', '.join(counts)}; PyTensor's "
            f"tests: {passed} passed, {len(known)} known failures; {status}"
        )
        lines += [f"    {f}" for f in failures]
    git(
        tree,
        "checkout",
        "--quiet",
        "master" if "master" in git(tree, "branch") else "main",
    )
    every = [
        t for pr in series.SERIES for t in pr["tests"] if not t.endswith("__init__.py")
    ]
    passed, failed = pytest(
        python, tree, every, None, work / "logs" / "series-final.log"
    )
    ok &= not failed
    lines.append(
        f"all series tests at the last commit: {passed} passed, {len(failed)} failed"
    )
    lines += [f"    {f}" for f in failed]
    print("\n".join(lines))
    print(
        f"{'OK' if ok else 'FAILED'} in {time.monotonic() - start:.0f} s; logs in {work}/logs"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(
        main(
            Path(
                sys.argv[1]
                if len(sys.argv) > 1
                else "/tmp/pytensor-spectral-upstream-check"
            )
        )
    )
