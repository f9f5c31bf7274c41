"""Every package the code imports is declared in pyproject.toml: src/ in the core dependencies or an
extra, the tests, eval and benchmark scripts in the dev extra; nothing declared goes unused; torch
is a range in the package and pinned (CPU build) only in constraints.txt, which the set-up uses."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

from conftest import ROOT
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PROJECT = PYPROJECT["project"]
# Declared though never imported by name: torch (sentence-transformers' backend, declared to range
# it), python-multipart (FastAPI's form parser), lxml_html_clean (see pyproject), tools run as
# commands.
USED_WITHOUT_IMPORT = {"torch", "python-multipart", "lxml-html-clean", "ruff", "mypy", "types-pyyaml"}
SCRIPTS = [ROOT / d for d in ("tests", "eval", "benchmarks", "examples", "scripts")]
# Modules the tests and scripts import from each other (conftest, quotes_eval…), not from a package.
LOCAL_MODULES = {p.stem for folder in SCRIPTS for p in folder.glob("*.py")}


def requirement_names(reqs: list[str]) -> set[str]:
    return {canonicalize_name(Requirement(r).name) for r in reqs}


def declared(extras: tuple[str, ...] | list[str] | set[str]) -> set[str]:
    """The core dependencies and those of the extras, following backlist[...] self-references."""
    names = requirement_names(PROJECT["dependencies"])
    todo, seen = list(extras), set()
    while todo:
        extra = todo.pop()
        if extra in seen:
            continue
        seen.add(extra)
        for req in map(Requirement, PROJECT["optional-dependencies"][extra]):
            if req.name == "backlist":
                todo += req.extras
            else:
                names.add(canonicalize_name(req.name))
    return names


def imported_modules(*folders: Path) -> dict[str, set[str]]:
    """Top-level module name -> files importing it (function-local imports included)."""
    found: dict[str, set[str]] = {}
    for folder in folders:
        for path in folder.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    found.setdefault(name.split(".")[0], set()).add(str(path.relative_to(ROOT)))
    return {m: f for m, f in found.items()
            if m not in sys.stdlib_module_names and m not in ("backlist", "__future__")}


def undeclared(modules: dict[str, set[str]], allowed: set[str]) -> list[str]:
    dists = importlib.metadata.packages_distributions()
    problems = []
    for module, files in sorted(modules.items()):
        owners = {canonicalize_name(d) for d in dists.get(module, [])}
        if not owners:
            problems.append(f"{module} (imported in {sorted(files)[0]}) is not installed")
        elif not owners & allowed:
            problems.append(f"{module} (imported in {sorted(files)[0]}) comes from {sorted(owners)}, "
                            f"which pyproject.toml does not declare")
    return problems


def test_the_package_declares_every_package_it_imports():
    modules = imported_modules(ROOT / "src" / "backlist")
    assert {"numpy", "typer", "fastapi"} <= modules.keys()  # the walk saw lazy imports too
    assert not undeclared(modules, declared(tuple(PROJECT["optional-dependencies"]))), \
        undeclared(modules, declared(tuple(PROJECT["optional-dependencies"])))


def test_tests_and_scripts_import_only_what_dev_declares():
    modules = imported_modules(*SCRIPTS)
    for name in LOCAL_MODULES:
        modules.pop(name, None)
    assert "pytest" in modules
    problems = undeclared(modules, declared(("dev",)))
    assert not problems, problems


def test_nothing_declared_goes_unused():
    dists = importlib.metadata.packages_distributions()
    modules = imported_modules(ROOT / "src", *SCRIPTS)
    used = {canonicalize_name(d) for m in modules for d in dists.get(m, [])}
    unused = declared(tuple(PROJECT["optional-dependencies"])) - used - USED_WITHOUT_IMPORT
    # psycopg[binary] is imported as psycopg; its C speed-up package rides along in the extra
    assert not unused, f"declared but never imported: {sorted(unused)}"


def test_torch_is_a_range_in_the_package_and_pinned_to_the_cpu_build_in_constraints():
    torch = [Requirement(r) for r in PROJECT["dependencies"] if Requirement(r).name == "torch"]
    assert len(torch) == 1 and all(s.operator in (">=", ">", "<", "<=", "!=")
                                   for s in torch[0].specifier), torch
    pins = [Requirement(line) for line in (ROOT / "constraints.txt").read_text().splitlines()
            if line.strip() and not line.startswith("#")]
    pinned = {p.name: str(p.specifier) for p in pins}
    assert re.fullmatch(r"==2\.\d+\.\d+\+cpu", pinned["torch"]), pinned
    assert torch[0].specifier.contains(pinned["torch"][2:])
    # the set-up that README and CI use installs with those constraints, and everything
    setup = (ROOT / "scripts" / "setup.sh").read_text()
    assert 'pip install -c constraints.txt -e ".[dev]"' in setup
    extras = PROJECT["optional-dependencies"]
    assert declared(["dev"]) >= declared(["all"]) == declared(set(extras) - {"dev"})


def test_ci_runs_the_readmes_developer_command_and_the_writer_installs_with_the_constraints():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first = readme.split("\n## ", 1)[0]
    commands = re.findall(r"```bash\n(.+?)\n```", first, flags=re.S)
    assert commands == ["pip install -c constraints.txt -e . && backlist demo",
                        "bash scripts/setup.sh && pytest"]
    ci = [line for line in (ROOT / ".ci" / "run").read_text().splitlines()
          if line and not line.startswith(("#", "set ", "cd "))]
    assert ci == [commands[1]]
