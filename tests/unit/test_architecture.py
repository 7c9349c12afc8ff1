"""The house's rules, read from the code's own imports (ast, nothing imported or run):

- imports point down the floors: did, chain -> record, devnet -> bridge -> api -> bench -> chainright;
- no module imports a private name (``_x``) of another package, and no router imports another router;
- no import cycle between modules (imports inside functions count: they are the same dependency);
- every package ``__init__`` declares ``__all__`` naming only what it defines or imports;
- every top-level folder's README names each of its modules.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]

# package -> the packages it may import (its floors below). Nothing may import chainright.
MAY_IMPORT: dict[str, set[str]] = {
    "did": set(),
    "chain": set(),
    "record": {"chain", "did"},
    "devnet": {"chain"},
    "bridge": {"chain", "did"},
    "api": {"chain", "record", "bridge", "did"},
    "bench": {"chain", "record", "devnet", "bridge", "api", "did"},
    "chainright": {"chain", "record", "devnet", "bridge", "api", "bench", "did"},
    "scripts": {"chain", "chainright"},
}
PACKAGES = tuple(MAY_IMPORT)


def _modules() -> Iterator[tuple[str, Path]]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield _dotted(path), path


def _dotted(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(module: str, path: Path) -> Iterator[tuple[str, list[str], int]]:
    """(imported module, names taken from it, line) for every import in the file."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, [], node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            yield base, [a.name for a in node.names], node.lineno


def _project(name: str) -> bool:
    return name.split(".")[0] in PACKAGES


MODULES = dict(_modules())


def test_imports_point_down_the_floors_only() -> None:
    wrong = []
    for module, path in MODULES.items():
        mine = module.split(".")[0]
        for target, _, line in _imports(module, path):
            theirs = target.split(".")[0]
            if _project(target) and theirs != mine and theirs not in MAY_IMPORT[mine]:
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {target} ({mine} may import {sorted(MAY_IMPORT[mine])})")
    assert not wrong, "\n".join(wrong)


def test_no_private_name_crosses_a_package_and_no_router_imports_a_router() -> None:
    wrong = []
    for module, path in MODULES.items():
        mine = module.split(".")[0]
        for target, names, line in _imports(module, path):
            if not _project(target):
                continue
            where = f"{path.relative_to(ROOT)}:{line}"
            if target.split(".")[0] != mine:
                private = [n for n in names if n.startswith("_") and not n.startswith("__")]
                private += [p for p in target.split(".") if p.startswith("_") and not p.startswith("__")]
                if private:
                    wrong.append(f"{where} takes private {private} from {target}")
            if module.startswith("api.routers.") and target.startswith("api.routers.") and target != module:
                wrong.append(f"{where}: router {module} imports router {target}")
            if module.startswith("api.routers.") and target == "api.routers" and names:
                wrong.append(f"{where}: router {module} imports routers {names}")
    assert not wrong, "\n".join(wrong)


def _resolve(target: str, names: list[str]) -> set[str]:
    """The project modules an import statement depends on (``from pkg import mod`` names a module)."""
    found = set()
    if target in MODULES:
        found.add(target)
    for name in names:
        if f"{target}.{name}" in MODULES:
            found.add(f"{target}.{name}")
    if not found:
        parts = target.split(".")
        while parts and ".".join(parts) not in MODULES:
            parts.pop()
        if parts:
            found.add(".".join(parts))
    return found


def test_no_import_cycle_between_modules() -> None:
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for module, path in MODULES.items():
        for target, names, _ in _imports(module, path):
            if _project(target):
                # a package's own __init__ re-exporting its modules is not a dependency cycle
                graph[module] |= {t for t in _resolve(target, names) if t != module
                                  and not (path.name == "__init__.py" and t.startswith(module + "."))}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def strongconnect(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    import sys

    sys.setrecursionlimit(10_000)
    for v in graph:
        if v not in index:
            strongconnect(v)
    assert not cycles, "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_every_package_declares_all_and_offers_what_it_names() -> None:
    wrong = []
    for path in MODULES.values():
        if path.name != "__init__.py" or "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text())
        declared = None
        bound: set[str] = set()
        body = list(tree.body)
        body += [n for node in tree.body if isinstance(node, ast.If) for n in node.body]  # TYPE_CHECKING
        for node in body:
            if isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for t in targets:
                    if isinstance(t, ast.Name):
                        bound.add(t.id)
                        if t.id == "__all__" and node.value is not None:
                            declared = [ast.literal_eval(e) for e in node.value.elts]  # type: ignore[attr-defined]
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                bound.add(node.name)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                bound |= {(a.asname or a.name).split(".")[0] for a in node.names}
        if declared is None:
            wrong.append(f"{path.relative_to(ROOT)} has no __all__")
            continue
        submodules = {p.stem for p in path.parent.glob("*.py")} | {d.name for d in path.parent.iterdir()
                                                                   if (d / "__init__.py").exists()}
        missing = [n for n in declared if n not in bound and n not in submodules]
        if missing:
            wrong.append(f"{path.relative_to(ROOT)}: __all__ names {missing}, which it neither defines nor imports")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("package", [p for p in PACKAGES if p != "scripts"] + ["scripts"])
def test_the_folder_readme_names_every_module(package: str) -> None:
    readme = (ROOT / package / "README.md").read_text()
    missing = []
    for module, path in MODULES.items():
        if module.split(".")[0] != package or path.name == "__init__.py" or "versions" in path.parts:
            continue
        relative = path.relative_to(ROOT / package).as_posix()
        if f"`{relative}`" not in readme and f"`{path.name}`" not in readme:
            missing.append(relative)
    assert not missing, f"{package}/README.md does not name: {', '.join(missing)}"
