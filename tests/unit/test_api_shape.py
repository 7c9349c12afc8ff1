"""The API's shape, read from its source (no app, no chain).

Routes take the application's services as ``Annotated`` dependencies (api/deps.py) instead of
reaching into ``request.app.state``; no router imports another router (shared wire models live in
api/schemas/); and turning a revert into a 422 while estimating gas happens in one place
(api/simulate.py)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
PROVIDERS = {"probe_of", "bridge_store", "bridge_status_store"}
"""Functions that are themselves dependency providers (they may read ``app.state``)."""


def _modules(root: Path, *folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (root / folder).glob("*.py") if p.name != "__init__.py")


def router_imports(root: Path) -> list[str]:
    """``module -> router`` for every import of a router module from a router module."""
    found = []
    for path in _modules(root, "api/routers"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                if node.module == "api.routers":
                    names = [f"api.routers.{a.name}" for a in node.names]
                elif node.module.startswith("api.routers."):
                    names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names if a.name.startswith("api.routers.")]
            found += [f"{path.stem} -> {n}" for n in names]
    return found


def app_state_reads(root: Path) -> list[str]:
    """``module:function`` for every ``<x>.app.state`` read in a route module outside a provider."""
    found = []
    for path in _modules(root, "api/routers", "api/web"):
        tree = ast.parse(path.read_text())
        for fn in ast.walk(tree):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) or fn.name in PROVIDERS:
                continue
            for node in ast.walk(fn):
                if (isinstance(node, ast.Attribute) and node.attr == "state"
                        and isinstance(node.value, ast.Attribute) and node.value.attr == "app"):
                    found.append(f"{path.stem}:{fn.name}")
    return sorted(set(found))


def gas_estimates(root: Path) -> list[str]:
    """Modules of api/ that call ``estimate_gas`` on a node themselves."""
    found = []
    for path in sorted((root / "api").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "estimate_gas" and isinstance(node.func.value, ast.Attribute)
                    and node.func.value.attr == "eth"):
                found.append(str(path.relative_to(root)))
    return sorted(set(found))


def test_no_router_imports_another_router():
    assert router_imports(ROOT) == []


def test_routes_take_the_apps_services_as_dependencies_not_from_app_state():
    assert app_state_reads(ROOT) == []


def test_reverts_become_422s_in_one_place():
    assert gas_estimates(ROOT) == ["api/simulate.py"]
