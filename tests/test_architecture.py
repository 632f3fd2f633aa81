"""The package's layering, as docs/architecture.md draws it: every module is on the map,
and no module imports one on a higher floor (nor a sibling outside audit/ and evaluation/)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "tabgan"
MAP = ROOT / "docs" / "architecture.md"
SIBLINGS_ALLOWED = ("audit", "evaluation")  # subpackages whose modules share a floor


def _floors() -> dict[str, int]:
    rows = re.findall(r"^\| (\d+) \| `([\w.]+)` \|", MAP.read_text(encoding="utf-8"), re.M)
    floors: dict[str, int] = {}
    for floor, name in rows:
        full = "tabgan" if name == "tabgan" else f"tabgan.{name}"
        assert full not in floors, f"{name} is on the map twice"
        floors[full] = int(floor)
    return floors


def _modules() -> dict[str, tuple[Path, bool]]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        is_pkg = parts[-1] == "__init__"
        if is_pkg:
            parts.pop()
        out[".".join(parts)] = (path, is_pkg)
    return out


def _imports(module: str, path: Path, is_pkg: bool, known: set[str]) -> set[str]:
    """The package's modules that ``module`` imports, lazily or not."""
    base = module.split(".") if is_pkg else module.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = base[: len(base) - (node.level - 1)]
                prefix = ".".join(anchor + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            names = [prefix] + [f"{prefix}.{a.name}" for a in node.names]
        else:
            continue
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name and name != module and not module.startswith(name + "."):
                found.add(name)
    return found


def test_every_module_is_on_the_map_once():
    floors, modules = _floors(), _modules()
    assert sorted(set(modules) - set(floors)) == [], "modules missing from docs/architecture.md"
    assert sorted(set(floors) - set(modules)) == [], "docs/architecture.md names absent modules"


def test_no_module_imports_upwards():
    floors, modules = _floors(), _modules()
    wrong = []
    for module, (path, is_pkg) in modules.items():
        for target in _imports(module, path, is_pkg, set(modules)):
            if floors[target] < floors[module]:
                continue
            sub = module.split(".")[1] if "." in module else None
            siblings = (sub in SIBLINGS_ALLOWED and floors[target] == floors[module]
                        and target.startswith(f"tabgan.{sub}"))
            if not siblings:
                wrong.append(f"{module} (floor {floors[module]}) imports {target} "
                             f"(floor {floors[target]})")
    assert wrong == []


@pytest.mark.parametrize("module", ["tabgan.transformer", "tabgan.critic", "tabgan.training"])
def test_the_model_never_imports_privacy_fitting_or_the_estimator(module):
    modules = _modules()
    path, is_pkg = modules[module]
    reached = _imports(module, path, is_pkg, set(modules))
    assert not {m for m in reached if m.startswith("tabgan.privacy")
                or m in ("tabgan.fitting", "tabgan.synthesizer")}
