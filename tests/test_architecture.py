"""The rooms of the package and the one direction of data flow between them, checked over the source."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
STAGES = ("static", "dynamic", "policy", "engine")
# Service layer (orchestration) and the CLI: they may import every room; no room imports them.
SERVICES = ("scan", "draft", "ruletest", "first_party", "batch", "cli")


def _modules(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def _imported_rooms(path: Path) -> set[str]:
    rooms = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + ([f"{node.module}.{a.name}" for a in node.names] if node.module == "scanner" else [])
        for name in names:
            parts = name.split(".")
            if parts[0] == "scanner" and len(parts) > 1:
                rooms.add(parts[1])
    return rooms


def _room(path: Path) -> str:
    if path.is_relative_to(REPO / "reports"):
        return "reports"
    return path.relative_to(REPO / "scanner").parts[0].removesuffix(".py")


ALL = _modules(REPO / "scanner") + _modules(REPO / "reports")


@pytest.mark.parametrize("path", ALL, ids=lambda p: str(p.relative_to(REPO)))
def test_import_directions(path: Path) -> None:
    room = _room(path)
    imported = _imported_rooms(path) - {room}
    if room in STAGES or room == "reports":
        forbidden = imported & set(STAGES + SERVICES + ("reports",))
        assert not forbidden, f"{room} must not import {sorted(forbidden)}: go through scanner.knowledge or a service"
    if room in ("knowledge", "model"):
        forbidden = imported & set(STAGES + SERVICES + ("reports",))
        assert not forbidden, f"{room} imports no stage, found {sorted(forbidden)}"


def test_checker_sees_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from scanner.static.analyze import analyze_apk\nfrom scanner import engine\n")
    assert _imported_rooms(bad) == {"static", "engine"}


@pytest.mark.parametrize("path", ALL, ids=lambda p: str(p.relative_to(REPO)))
def test_module_says_what_it_holds(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    doc = ast.get_docstring(tree)
    if path.name == "__init__.py" and not tree.body:
        return
    assert doc, f"{path.relative_to(REPO)} starts with no line saying what it holds"
