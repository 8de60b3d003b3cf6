"""Generate the PyTensor pull-request series from this package's modules.

    python upstream/generate.py [OUTDIR]      (default: upstream/patches)

Each pull request of `series.SERIES` becomes one ``git format-patch`` file against
PyTensor's tree: the package modules it carries, copied to their place in
`series.PLACEMENT` with only their imports (and the module paths they name) rewritten,
the hand-written tests under ``upstream/tests/``, generated ``__init__`` files, and edits
of PyTensor's own files (public names in ``pytensor/tensor/linalg/__init__.py``, their doc
entries in ``doc/library/tensor/linalg.rst``, the imports that register the backends and
rewrites). The base versions of the edited files come from the PyTensor sdist of
`series.PYTENSOR_VERSION` (downloaded once by pip, checked against `series.SDIST_SHA256`).
The imports are sorted by ruff with PyTensor's isort settings.
"""

import ast
import hashlib
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import textwrap
from pathlib import Path


HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import series  # noqa: E402


ROOT = HERE.parent
CACHE = HERE / ".cache"
EDITED = {
    "init": "pytensor/tensor/linalg/__init__.py",
    "doc": "doc/library/tensor/linalg.rst",
    "numba": "pytensor/link/numba/dispatch/linalg/__init__.py",
    "jax": "pytensor/link/jax/dispatch/linalg/__init__.py",
    "rewriting": "pytensor/tensor/rewriting/linalg/__init__.py",
}
ISORT = [
    "--config",
    "lint.isort.lines-after-imports = 2",
    "--config",
    'lint.isort.known-first-party = ["pytensor", "tests"]',
]
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "pytensor-spectral",
    "GIT_AUTHOR_EMAIL": "pytensor-spectral@users.noreply.github.com",
    "GIT_AUTHOR_DATE": "2026-12-01T00:00:00+00:00",
    "GIT_COMMITTER_NAME": "pytensor-spectral",
    "GIT_COMMITTER_EMAIL": "pytensor-spectral@users.noreply.github.com",
    "GIT_COMMITTER_DATE": "2026-12-01T00:00:00+00:00",
}


def sdist() -> Path:
    """The PyTensor sdist of the pinned version, downloaded by pip once and verified."""
    name = f"pytensor-{series.PYTENSOR_VERSION}.tar.gz"
    path = CACHE / name
    if not path.exists():
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary",
             "pytensor", f"pytensor=={series.PYTENSOR_VERSION}", "--dest", str(CACHE)],
            check=True,
        )  # fmt: skip
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != series.SDIST_SHA256:
        raise RuntimeError(f"{path}: sha256 {digest}, expected {series.SDIST_SHA256}")
    return path


def base_files() -> dict[str, str]:
    """The files the series edits, as released."""
    prefix = f"pytensor-{series.PYTENSOR_VERSION}/"
    with tarfile.open(sdist()) as tar:
        return {
            path: tar.extractfile(prefix + path).read().decode()
            for path in EDITED.values()
        }


def upstream_path(module: str) -> str:
    return series.PLACEMENT[module].replace(".", "/") + ".py"


def _package_module(name: str) -> str:
    return f"pytensor_spectral.{name}"


def _map_module(name: str) -> str:
    """Upstream name of ``name`` or of its longest mapped prefix (a module attribute)."""
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        head = ".".join(parts[:cut])
        if head in series.PLACEMENT:
            return ".".join([series.PLACEMENT[head], *parts[cut:]])
    raise KeyError(f"no placement for {name}")


def _import_lines(node: ast.ImportFrom | ast.Import) -> str | None:
    """The rewritten import statement, or ``None`` when it names no package module."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
        if not any(n.startswith("pytensor_spectral") for n in names):
            return None
        return "\n".join(f"import {_map_module(n)}" for n in names)
    if node.module is None or not node.module.startswith("pytensor_spectral"):
        return None
    if node.module == "pytensor_spectral":  # ``from pytensor_spectral import _schur``
        groups: dict[str, list[str]] = {}
        for alias in node.names:
            parent, _, name = _map_module(f"{node.module}.{alias.name}").rpartition(".")
            groups.setdefault(parent, []).append(name)
        return "\n".join(f"from {p} import {', '.join(ns)}" for p, ns in groups.items())
    names = ", ".join(
        a.name if a.asname is None else f"{a.name} as {a.asname}" for a in node.names
    )
    return f"from {_map_module(node.module)} import {names}"


MODULE_PATH = re.compile(r"\bpytensor_spectral(?:\.\w+)*")


def _map_text(text: str) -> str:
    """Module paths named in docstrings, comments and strings."""
    return MODULE_PATH.sub(lambda match: _map_module(match.group(0)), text)


def port(module: str) -> str:
    """The source of package module ``module`` with its imports rewritten."""
    source = (
        ROOT / "pytensor_spectral" / (module.replace(".", "/") + ".py")
    ).read_text()
    lines = source.splitlines(keepends=True)
    replacements = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            new = _import_lines(node)
            if new is not None:
                last = lines[node.end_lineno - 1]
                comment = last[last.index("#") :].rstrip("\n") if "#" in last else ""
                replacements.append(
                    (
                        node.lineno - 1,
                        node.end_lineno,
                        new + (f"  {comment}" if comment else ""),
                    )
                )
    for start, end, new in reversed(replacements):
        lines[start:end] = [new + "\n"]
    return _map_text("".join(lines))


def sort_imports(files: dict[str, str]) -> dict[str, str]:
    """``ruff check --select I --fix`` with PyTensor's isort settings."""
    with tempfile.TemporaryDirectory() as tmp:
        for path, text in files.items():
            target = Path(tmp, path)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        subprocess.run(
            [sys.executable, "-m", "ruff", "check", "--quiet", "--no-cache", "--isolated",
             *ISORT, "--select", "I", "--fix", "--exit-zero", tmp],
            check=True,
        )  # fmt: skip
        return {path: Path(tmp, path).read_text() for path in files}


def _init(doc: str, modules: list[str]) -> str:
    imports = "".join(f"import {m}\n" for m in sorted(modules))
    return f'"""{doc}"""\n' + (f"\n{imports}" if imports else "")


INIT_DOCS = {
    series.OPS: "Spectral operators of general and symmetric real matrices with exact derivatives.",
    series.KERNELS: "Numba kernels and implementations of the spectral operators.",
    series.JAX: "JAX implementations of the spectral operators.",
    series.REWRITES: "Rewrites of spectral quantities computed from dense decompositions.",
}


def _exports(prs: list[dict]) -> list[tuple[str, str, str]]:
    """``(upstream module, function, exported name)`` of the given pull requests."""
    return [
        (series.PLACEMENT[_package_module(module)], function, alias or function)
        for pr in prs
        for module, names in pr["exports"].items()
        for function, alias in names.items()
    ]


def _edit_linalg_init(text: str, exports) -> str:
    imports = "".join(
        f"from {module} import {function}"
        + (f" as {name}" if name != function else "")
        + "\n"
        for module, function, name in exports
    )
    head, sep, tail = text.partition("\n\n__all__ = [\n")
    names, close, rest = tail.partition("]\n")
    entries = sorted({*re.findall(r'"(\w+)"', names), *(name for *_, name in exports)})
    listed = "".join(f'    "{name}",\n' for name in entries)
    return head + "\n" + imports + sep + listed + close + rest


def _edit_doc(text: str, exports) -> str:
    entries = "".join(
        f".. autofunction:: pytensor.tensor.linalg.{name}\n" for *_, name in exports
    )
    return (
        text.rstrip("\n")
        + "\n\nSpectral\n========\n\n"
        + "Eigenvalues of general real matrices as real and imaginary parts, stability\n"
        + "measures and leading values, with exact first and second derivatives.\n\n"
        + entries
    )


def _add_import(text: str, line: str) -> str:
    return text.rstrip("\n") + "\n" + line + "\n"


def tree(k: int, base: dict[str, str]) -> dict[str, str]:
    """Every file the first ``k`` pull requests add or edit, as they leave it."""
    prs = series.SERIES[:k]
    files: dict[str, str] = {}
    for pr in prs:
        for module in pr["modules"]:
            files[upstream_path(_package_module(module))] = port(module)
        for test in pr["tests"]:
            files[test] = (HERE / test).read_text()
    modules = [
        series.PLACEMENT[_package_module(m)] for pr in prs for m in pr["modules"]
    ]
    for package, doc in INIT_DOCS.items():
        registered = [] if package == series.OPS else [
            m for m in modules if m.startswith(package + ".") and not m.rsplit(".", 1)[1].startswith("_")
        ]  # fmt: skip
        files[package.replace(".", "/") + "/__init__.py"] = _init(doc, registered)
    exports = _exports(prs)
    files[EDITED["init"]] = _edit_linalg_init(base[EDITED["init"]], exports)
    files[EDITED["doc"]] = _edit_doc(base[EDITED["doc"]], exports)
    files[EDITED["numba"]] = _add_import(
        base[EDITED["numba"]], f"import {series.KERNELS}"
    )
    files[EDITED["jax"]] = _add_import(base[EDITED["jax"]], f"import {series.JAX}")
    files[EDITED["rewriting"]] = _add_import(
        base[EDITED["rewriting"]], f"import {series.REWRITES}"
    )
    python = {p: t for p, t in files.items() if p.endswith(".py")}
    return {**base, **files, **sort_imports(python)}


def commit_message(pr: dict) -> str:
    description = (HERE / "prs" / f"{pr['name']}.md").read_text()
    summary = description.split("## Description", 1)[1].strip().split("\n\n", 1)[0]
    summary = textwrap.fill(summary, width=72, break_on_hyphens=False)
    return f"{pr['title']}\n\n{summary}\n\nGenerated from pytensor-spectral by upstream/generate.py.\n"


def _git(repo: Path, *args: str) -> str:
    env = {**os.environ, **GIT_IDENTITY}
    return subprocess.run(
        ["git", "-C", str(repo), *args],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    ).stdout


def generate(outdir: Path) -> list[Path]:
    base = base_files()
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp)
        _git(repo, "init", "--quiet")
        _git(repo, "config", "core.autocrlf", "false")
        for path, text in base.items():
            Path(repo, path).parent.mkdir(parents=True, exist_ok=True)
            Path(repo, path).write_text(text)
        _git(repo, "add", "--all")
        _git(repo, "commit", "--quiet", "-m", f"pytensor {series.PYTENSOR_VERSION}")
        for k, pr in enumerate(series.SERIES, start=1):
            for path, text in tree(k, base).items():
                Path(repo, path).parent.mkdir(parents=True, exist_ok=True)
                Path(repo, path).write_text(text)
            _git(repo, "add", "--all")
            _git(repo, "commit", "--quiet", "-m", commit_message(pr))
        outdir.mkdir(parents=True, exist_ok=True)
        for old in outdir.glob("*.patch"):
            old.unlink()
        _git(repo, "format-patch", "--quiet", "--no-signature", "--zero-commit", "--no-numbered",
             "-o", str(outdir), "HEAD~" + str(len(series.SERIES)))  # fmt: skip
    return _rename(outdir)


def _rename(outdir: Path) -> list[Path]:
    """``0001-Add-real-valued-….patch`` → ``01-real-eig.patch``."""
    paths = []
    for number, pr in enumerate(series.SERIES, start=1):
        (generated,) = outdir.glob(f"{number:04d}-*.patch")
        paths.append(generated.rename(outdir / f"{pr['name']}.patch"))
    return paths


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "patches"
    for path in generate(target):
        print(
            path.relative_to(target.parent)
            if path.is_relative_to(target.parent)
            else path
        )
