"""The `divulge` command line: parse options, call a service, map errors to exit codes. No domain logic."""

from __future__ import annotations

import functools
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from scanner import __version__
from scanner.errors import DivulgeError

# Exit codes: documented in README and `divulge --help`; stable.
EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3

F = TypeVar("F", bound=Callable[..., Any])

log = logging.getLogger("divulge")


def handle_errors[F: Callable[..., Any]](func: F) -> F:
    """The one place where errors become exit codes: DivulgeError -> 2, anything unexpected -> 3."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except DivulgeError as exc:
            click.echo(f"divulge: error: {exc}", err=True)
            sys.exit(EXIT_USAGE)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:  # an internal bug: say so, keep the traceback for --debug
            log.debug("internal error", exc_info=True)
            click.echo(f"divulge: internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)",
                       err=True)
            sys.exit(EXIT_INTERNAL)

    return wrapper  # type: ignore[return-value]


def emit(text: str, output: Path | None) -> None:
    """Write a report to a file or stdout; the CLI, not the writers, decides where output goes."""
    if output is None:
        click.echo(text, nl=not text.endswith("\n"))
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
        click.echo(f"divulge: wrote {output}", err=True)


def dump_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


EPILOG = """\b
Exit codes:
  0  success; no finding at or above --fail-on
  1  findings at or above --fail-on
  2  usage or input error (bad APK, capture, declaration, rule, config)
  3  internal error (a bug in divulge: please report it)
"""


@click.group(epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="divulge")
@click.option("--debug", is_flag=True, help="Log diagnostics and tracebacks to stderr.")
def main(debug: bool) -> None:
    """divulge: does this app collect and share more personal data than it says?"""
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


# --- static analysis (issue: foundation) --------------------------------------------------------


@main.command("static")
@click.argument("apk", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--sdk-db", type=click.Path(path_type=Path, dir_okay=False),
              help="Also load an Exodus tracker JSON (or an SDK catalog YAML in divulge's format).")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), help="Write to this file.")
@handle_errors
def static_cmd(apk: Path, fmt: str, sdk_db: Path | None, output: Path | None) -> None:
    """Static analysis of an APK: permissions, SDKs, personal-data API calls and their callers, endpoints."""
    from scanner.reports.static_text import static_json, static_text
    from scanner.static import StaticOptions, analyze_apk

    report = analyze_apk(apk, StaticOptions(sdk_db=sdk_db))
    emit(static_json(report) if fmt == "json" else static_text(report), output)

# --- dynamic analysis (issue: traffic) ----------------------------------------------------------
# --- declarations, rules and scan (issue: engine) -----------------------------------------------
# --- reports (issue: reports) --------------------------------------------------------------------
# --- batch and evidence (issue: batch) ----------------------------------------------------------
# --- policy text (issue: policy) -----------------------------------------------------------------


if __name__ == "__main__":  # pragma: no cover
    main()
