"""The console's shape: `chainright/cli.py` only assembles, one module per command group under
`chainright/commands/`, shared helpers in `chainright/console.py`; imports point one way (no cycle,
no command module importing another, nothing importing the root), and every command module is
registered. Read from the source (every import, also those inside functions)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import typer

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "chainright"
ROOT_MODULE = "chainright.cli"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports (absolute names), wherever the import statement sits."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)  # from pkg import module
    return found


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: {m for m in _imports(path) if m in modules and m != name} for name, path in modules.items()}


def test_the_console_has_no_import_cycle() -> None:
    graph = _graph()
    state: dict[str, str] = {}

    def visit(module: str, trail: list[str]) -> None:
        state[module] = "open"
        for target in sorted(graph[module]):
            if state.get(target) == "open":
                raise AssertionError("import cycle: " + " -> ".join([*trail, module, target]))
            if target not in state:
                visit(target, [*trail, module])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [])


def test_nothing_imports_the_root_but_the_entry_points() -> None:
    importers = []
    for folder in ("chain", "record", "devnet", "bridge", "api", "bench", "did", "chainright"):
        for path in (ROOT / folder).rglob("*.py"):
            if ROOT_MODULE in _imports(path) and path != PACKAGE / "__main__.py":
                importers.append(str(path.relative_to(ROOT)))
    assert importers == []


def test_command_modules_share_through_console_only() -> None:
    graph = _graph()
    assert not {m for m in graph["chainright.console"] if m.startswith("chainright.commands")}
    assert ROOT_MODULE not in graph["chainright.console"]
    for module, targets in graph.items():
        if module.startswith("chainright.commands."):
            wrong = {t for t in targets if t.startswith("chainright.commands.") or t == ROOT_MODULE}
            assert not wrong, f"{module} imports {sorted(wrong)}: share through chainright.console"


def test_up_takes_its_role_grants_from_the_roles_table_not_the_demo() -> None:
    graph = _graph()
    assert "chainright.demo" not in graph["chainright.commands.up"]
    assert "chainright.roles" in graph["chainright.commands.up"]
    assert "chainright.roles" in graph["chainright.demo"]


def test_every_command_module_is_registered_once_in_the_root() -> None:
    from chainright import cli, commands

    files = sorted(p.stem for p in (PACKAGE / "commands").glob("*.py") if p.stem != "__init__")
    assert sorted(commands.__all__) == files, "chainright/commands/__init__.py's __all__ lists every module"
    registered = [typer_app for _name, typer_app in cli.COMMANDS]
    for stem in files:
        module = __import__(f"chainright.commands.{stem}", fromlist=["app"])
        assert isinstance(module.app, typer.Typer), stem
        assert registered.count(module.app) == 1, f"chainright/commands/{stem}.py is not in cli.COMMANDS"
    assert len(registered) == len(files)
    names = [name for name, _ in cli.COMMANDS if name is not None]
    assert len(names) == len(set(names))


def test_the_root_only_assembles() -> None:
    tree = ast.parse((PACKAGE / "cli.py").read_text())
    functions = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
    assert functions == ["_version", "root", "main"], functions


def test_the_root_loads_no_heavy_package_so_help_stays_fast() -> None:
    import subprocess
    import sys

    heavy = ["api", "record", "devnet", "bench", "web3", "ape", "sqlalchemy", "fastapi", "uvicorn"]
    code = ("import sys, chainright.cli; "
            f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({heavy!r})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120,
                         env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}, check=True)
    assert out.stdout.strip() == "[]", "import it inside the command function instead: " + out.stdout
