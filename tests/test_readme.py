"""The README shows real `--help` output (a pip-audit habit): if the CLI changes, the README must follow."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from scanner.cli import main

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCK = re.compile(r"<!-- help: divulge(?P<args>[^>]*?) -->\n```\n(?P<text>.*?)```", re.S)


def _blocks() -> list[tuple[str, str]]:
    return [(m["args"].strip(), m["text"]) for m in BLOCK.finditer(README.read_text(encoding="utf-8"))]


def test_readme_has_help_blocks() -> None:
    assert {args for args, _ in _blocks()} >= {"--help", "scan --help"}


@pytest.mark.parametrize(("args", "text"), _blocks(), ids=[a for a, _ in _blocks()])
def test_readme_help_matches_the_cli(args: str, text: str) -> None:
    assert _help(args) == text, f"README block for `divulge {args}` is stale: run python tests/test_readme.py"


def test_readme_test_command_is_what_ci_runs() -> None:
    ci = (README.parent / ".ci" / "run").read_text(encoding="utf-8")
    readme = README.read_text(encoding="utf-8")
    assert "make test" in readme and re.search(r"^make test$", ci, re.M)


def _help(args: str) -> str:
    return CliRunner().invoke(main, args.split(), prog_name="divulge", terminal_width=100).output.rstrip() + "\n"


if __name__ == "__main__":  # regenerate the README's help blocks from the CLI
    README.write_text(BLOCK.sub(lambda m: m.group(0).split("```")[0] + "```\n" + _help(m["args"].strip()) + "```",
                                README.read_text(encoding="utf-8")), encoding="utf-8")
