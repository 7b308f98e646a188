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
    """Static analysis of an APK or IPA: permissions, SDKs, personal-data API calls and their callers, endpoints."""
    from scanner.reports.static_text import static_json, static_text
    from scanner.static import StaticOptions, analyze_apk

    report = analyze_apk(apk, StaticOptions(sdk_db=sdk_db))
    emit(static_json(report) if fmt == "json" else static_text(report), output)

# --- dynamic analysis (issue: traffic) ----------------------------------------------------------


@main.command("capture")
@click.option("-o", "--output", "session", required=True, type=click.Path(path_type=Path, file_okay=False),
              help="Session directory: flows, observations and marks are written there as they happen.")
@click.option("--listen-host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but loopback needs --proxy-auth.")
@click.option("--listen-port", default=8080, show_default=True, type=int, help="Port (0: any free port).")
@click.option("--mode", type=click.Choice(["forward", "sinkhole"]), default="forward", show_default=True,
              help="forward: relay to the real servers; sinkhole: answer everything here, nothing leaves.")
@click.option("--sinkhole-status", default=204, show_default=True, type=int, help="Status of sinkhole answers.")
@click.option("--device", type=click.Path(path_type=Path, dir_okay=False), help="Device profile YAML.")
@click.option("--first-party", multiple=True, help="First-party domain (repeatable); its subdomains count too.")
@click.option("--app", type=click.Path(path_type=Path, dir_okay=False),
              help="The app's APK: first-party domains from endpoints in its own code.")
@click.option("--proxy-auth", help="USER:PASSWORD clients must give (required off loopback).")
@click.option("--confdir", type=click.Path(path_type=Path, file_okay=False),
              help="mitmproxy confdir holding the CA [default: ~/.divulge/mitmproxy; SESSION/ca for a per-session CA].")
@click.option("--sdk-db", type=click.Path(path_type=Path, dir_okay=False), help="Extra SDK database (Exodus JSON).")
@handle_errors
def capture_cmd(session: Path, listen_host: str, listen_port: int, mode: str, sinkhole_status: int,
                device: Path | None, first_party: tuple[str, ...], app: Path | None, proxy_auth: str | None,
                confdir: Path | None, sdk_db: Path | None) -> None:
    """Run an intercepting proxy (mitmproxy) and record which personal data the device sends."""
    from scanner.dynamic.capture import CaptureOptions, run_capture

    first_party += _app_domains(app, sdk_db)
    options = CaptureOptions(output=session, listen_host=listen_host, listen_port=listen_port, mode=mode,
                             device=device, first_party=first_party, app=app, proxy_auth=proxy_auth,
                             sinkhole_status=sinkhole_status, confdir=confdir, sdk_db=sdk_db)
    sys.exit(run_capture(options, lambda text: click.echo(text, err=True)))


def _app_first_party(app: Path | None, sdk_db: Path | None) -> tuple[tuple[str, ...], Any]:
    """First-party domains from the app's own code and the app's names (package, label), when --app is given."""
    if app is None:
        return (), None
    from scanner.first_party import app_first_party
    from scanner.knowledge.sdks import shared_catalog

    domains, names = app_first_party(app, shared_catalog(sdk_db))
    return tuple(domains), names


def _app_domains(app: Path | None, sdk_db: Path | None) -> tuple[str, ...]:
    """First-party domains from the app's own code, when --app is given."""
    if app is None:
        return ()
    from scanner.first_party import first_party_from_apk
    from scanner.knowledge.sdks import shared_catalog

    return tuple(first_party_from_apk(app, shared_catalog(sdk_db)))


@main.command("mark")
@click.argument("name")
@click.option("--session", type=click.Path(path_type=Path, file_okay=False),
              help="Append the mark to this session's marks.jsonl instead of going through the proxy.")
@click.option("--proxy", default="127.0.0.1:8080", show_default=True, help="HOST:PORT of the running capture.")
@click.option("--proxy-auth", help="USER:PASSWORD when the capture proxy asks for it.")
@handle_errors
def mark_cmd(name: str, session: Path | None, proxy: str, proxy_auth: str | None) -> None:
    """Mark a moment in a running capture: consent, refuse, or any NAME."""
    from scanner.dynamic.capture import send_mark
    from scanner.dynamic.marks import append_mark, mark_name

    try:
        mark_name(name)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="NAME") from None
    if session is not None:
        mark = append_mark(session, name)
        click.echo(f"divulge: marked {mark.name} in {session}", err=True)
    else:
        click.echo(f"divulge: marked {send_mark(name, proxy, proxy_auth)} via {proxy}", err=True)


@main.command("addon-path")
def addon_path_cmd() -> None:
    """Print the path of the mitmproxy addon, for `mitmdump -s PATH --set divulge_device=...`."""
    from scanner.dynamic.capture import addon_path

    click.echo(str(addon_path()))


@main.command("traffic")
@click.argument("captures", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--device", type=click.Path(path_type=Path, dir_okay=False),
              help="Device profile YAML [default: the session's copy].")
@click.option("--first-party", multiple=True, help="First-party domain (repeatable); its subdomains count too.")
@click.option("--app", type=click.Path(path_type=Path, dir_okay=False),
              help="The app's APK: first-party domains from endpoints in its own code.")
@click.option("--capture-format", type=click.Choice(["session", "flows", "har"]),
              help="Format of the captures [default: recognised by content].")
@click.option("--sdk-db", type=click.Path(path_type=Path, dir_okay=False), help="Extra SDK database (Exodus JSON).")
@click.option("--package", help="The app's package name: hosts of domains named after it are first party "
              "(br.com.example.app: example.com.br) [default: the --app APK's].")
@click.option("--protocols", multiple=True, type=click.Path(path_type=Path, exists=True),
              help="Extra tracker protocol YAML file or folder (repeatable), beside rules/protocols.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), help="Write to this file.")
@handle_errors
def traffic_cmd(captures: tuple[Path, ...], device: Path | None, first_party: tuple[str, ...], app: Path | None,
                capture_format: str | None, sdk_db: Path | None, package: str | None, protocols: tuple[Path, ...],
                fmt: str, output: Path | None) -> None:
    """Which personal data went where: analyse divulge sessions, mitmproxy flow files and HAR files."""
    from scanner.dynamic.readers import CaptureFormat
    from scanner.dynamic.summary import TrafficFormat
    from scanner.dynamic.traffic import TrafficOptions, analyse_traffic

    domains, names = _app_first_party(app, sdk_db)
    if package:
        from scanner.knowledge.recipients import AppNames

        names = AppNames(package, names.label if names is not None else None)
    options = TrafficOptions(captures=captures, device=device, first_party=first_party, sdk_db=sdk_db,
                             app_domains=domains, app=names, protocols=protocols,
                             capture_format=CaptureFormat(capture_format) if capture_format else None)
    report = analyse_traffic(options)
    if fmt != "text" or output is not None:  # the text report lists its warnings itself
        for warning in report.warnings:
            click.echo(f"divulge: warning: {warning}", err=True)
    emit(TrafficFormat(fmt).render(report), output)


# --- declarations, rules and scan (issue: engine) -----------------------------------------------
SCAN_EPILOG = """\b
Exit codes:
  0  no finding at or above --fail-on (suppressed and baseline findings do not count)
  1  findings at or above --fail-on
  2  usage or input error (bad APK, capture, declaration, rule, config)
  3  internal error (a bug in divulge: please report it)
"""


@main.command("scan", epilog=SCAN_EPILOG)
@click.argument("apk", required=False, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--policy", type=click.Path(path_type=Path, dir_okay=False),
              help="What the app declares: privacy.yaml, a Play Data safety CSV, or its privacy policy (HTML, Markdown, text, PDF, .docx).")
@click.option("--traffic", multiple=True, type=click.Path(path_type=Path),
              help="Capture (session directory, flows, HAR) or traffic JSON (divulge/traffic/1); repeatable.")
@click.option("--runtime", multiple=True, type=click.Path(path_type=Path),
              help="Runtime events of `divulge monitor` (runtime.jsonl or its session directory); repeatable.")
@click.option("--device", type=click.Path(path_type=Path, dir_okay=False), help="Device profile YAML for the captures.")
@click.option("--first-party", multiple=True, help="First-party domain (repeatable); its subdomains count too.")
@click.option("--category", help="App type of the 2021 necessary-PI scope (id, number or Chinese name), e.g. news.")
@click.option("--rules", "rules_dirs", multiple=True, type=click.Path(path_type=Path, file_okay=False),
              help="Directory of extra rules (repeatable), loaded with the built-in pack.")
@click.option("--no-builtin-rules", is_flag=True, help="Run only the rules given with --rules.")
@click.option("--config", type=click.Path(path_type=Path, dir_okay=False),
              help="Settings file [default: ./.divulge.yml when present].")
@click.option("--baseline", type=click.Path(path_type=Path, dir_okay=False),
              help="Earlier findings JSON: findings in it do not fail the scan.")
@click.option("--fail-on", type=click.Choice(["info", "low", "medium", "high", "critical", "none"]),
              help="Lowest severity that makes the exit code 1 [default: high, or the config's].")
@click.option("--sdk-db", type=click.Path(path_type=Path, dir_okay=False), help="Extra SDK database (Exodus JSON).")
@click.option("--format", "formats", default="text", show_default=True,
              callback=lambda c, p, v: _report_formats(c, p, v),
              help="text or json (and html, sarif, md, junit); comma-separated with -o DIR.")
@click.option("--lang", type=click.Choice(["en", "zh"]), default="en", show_default=True, help="Report language.")
@click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write the reports into this directory instead of stdout.")
@handle_errors
def scan_cmd(apk: Path | None, policy: Path | None, traffic: tuple[Path, ...], runtime: tuple[Path, ...],
             device: Path | None, first_party: tuple[str, ...], category: str | None, rules_dirs: tuple[Path, ...],
             no_builtin_rules: bool, config: Path | None,
             baseline: Path | None, fail_on: str | None, sdk_db: Path | None, formats: list[Any], lang: str,
             out_dir: Path | None) -> None:
    """Compare what APK does (static facts, traffic) with what it declares; explain every gap."""
    from scanner.engine.suppress import find_config
    from scanner.scan import ScanOptions, failing_findings, run_scan, summarize

    if apk is None and not traffic and not runtime:
        raise click.UsageError("give an APK, --traffic captures and/or --runtime events")
    options = ScanOptions(apk=apk, policy=policy, traffic=traffic, runtime=runtime, device=device, category=category,
                          rules_dirs=rules_dirs, config=config or find_config(Path.cwd()), fail_on=fail_on,
                          baseline=baseline, sdk_db=sdk_db, builtin_rules=not no_builtin_rules, first_party=first_party)
    result = run_scan(options)
    write_report_dir(result, formats, lang, out_dir)
    summary = summarize(result)
    failing = failing_findings(result)
    counts = ", ".join(f"{n} {s}" for s, n in summary["by_severity"].items() if n) or "none"
    click.echo(f"divulge: {summary['total']} finding(s) ({counts}); {summary['suppressed']} suppressed, "
               f"{summary['in_baseline']} in baseline; {len(failing)} at or above --fail-on {result.fail_on or 'none'}",
               err=True)
    if failing:
        sys.exit(EXIT_FINDINGS)


@main.command("monitor")
@click.option("--device", "frida_device", default="local", show_default=True,
              help="Frida device: local, usb (a phone running frida-server), or HOST:PORT of a remote frida-server.")
@click.option("--pid", type=int, help="Attach to this process id.")
@click.option("--attach", "name", help="Attach to the running process (or app package) of this name.")
@click.option("--spawn", help="Start this program (or app package on a phone) with the hooks in place from its first "
                              "instruction; the command line is split like a shell's.")
@click.option("--duration", type=click.FloatRange(min=0.1), help="Stop after this many seconds [default: until the "
                                                                  "process ends or Ctrl-C].")
@click.option("-o", "--output", "session", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Session directory: runtime.jsonl is appended there (beside a capture's flows and marks).")
@handle_errors
def monitor_cmd(frida_device: str, pid: int | None, name: str | None, spawn: str | None, duration: float | None,
                session: Path) -> None:
    """Hook the personal-data APIs of a running app with Frida and record which code reads what, and when.

    Mark consent with `divulge mark SESSION consent` while it runs; `divulge scan --runtime SESSION` judges it."""
    import shlex
    import signal
    import threading

    from scanner.dynamic.monitor import MonitorTarget, run_monitor

    if sum(x is not None for x in (pid, name, spawn)) != 1:
        raise click.UsageError("give exactly one of --pid, --attach or --spawn")
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    target = MonitorTarget(device=frida_device, pid=pid, name=name, spawn=tuple(shlex.split(spawn)) if spawn else ())
    result = run_monitor(target, session, duration=duration, stop=stop)
    ended = f"; the process ended ({result.detached})" if result.detached else ""
    java = {True: "Java hooks active", False: "no Java VM: native hooks only", None: "the agent did not start"}
    click.echo(f"divulge: {result.events} personal-data read(s) recorded in {result.file} "
               f"({java[result.java]}){ended}", err=True)


@main.command("run")
@click.argument("apk", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--path", "consent_path", type=click.Choice(["accept", "refuse", "idle"]), required=True,
              help="Tap the dialog's accept or refuse button, or never answer it (idle).")
@click.option("-o", "--output", "session", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Session directory (give the same one to `divulge capture` / `divulge monitor`).")
@click.option("--serial", help="The phone's adb serial [default: the only device].")
@click.option("--adb", "adb_server", default="127.0.0.1:5037", show_default=True, help="The adb server.")
@click.option("--proxy", help="Set the phone's global HTTP proxy to HOST:PORT for the run (cleared afterwards).")
@click.option("--pre-consent", type=click.FloatRange(min=0), default=10.0, show_default=True,
              help="Seconds the app runs before the dialog is answered.")
@click.option("--dialog-timeout", type=click.FloatRange(min=0), default=30.0, show_default=True,
              help="Seconds to wait for the consent dialog to show.")
@click.option("--after", type=click.FloatRange(min=0), default=30.0, show_default=True,
              help="Seconds to keep the app running after the choice.")
@click.option("--monkey", type=click.IntRange(min=0), default=0, show_default=True,
              help="Random UI events (adb monkey, fixed seed) after the choice.")
@handle_errors
def run_cmd(apk: Path, consent_path: str, session: Path, serial: str | None, adb_server: str, proxy: str | None,
            pre_consent: float, dialog_timeout: float, after: float, monkey: int) -> None:
    """Install APK fresh on a phone over adb, launch it, and take one consent path, marking the moment.

    The screens (UI dump and screenshot) at each step are kept in SESSION/screens as evidence."""
    from scanner.dynamic.device_run import RunOptions, run_path
    from scanner.static.archive import open_app
    from scanner.static.manifest import load_androguard_apk

    package = load_androguard_apk(open_app(apk).base).get_package()
    record = run_path(RunOptions(apk=apk, package=package, path=consent_path, session=session, serial=serial,
                                 adb=adb_server, proxy=proxy, pre_consent_s=pre_consent,
                                 dialog_timeout_s=dialog_timeout, after_s=after, monkey_events=monkey))
    chosen = f"tapped {record.button['text']!r}" if record.button else "left the dialog unanswered"
    click.echo(f"divulge: {package}: {consent_path} path done, {chosen}; evidence in {session}", err=True)


@main.group("rules")
def rules_group() -> None:
    """List, show, validate and test rule packs."""


def _pack(rules_dirs: tuple[Path, ...], builtin: bool = True) -> Any:
    from scanner.engine.loader import load_pack

    return load_pack(list(rules_dirs), builtin=builtin)


@rules_group.command("list")
@click.option("--rules", "rules_dirs", multiple=True, type=click.Path(path_type=Path, file_okay=False),
              help="Extra rule directory (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@handle_errors
def rules_list_cmd(rules_dirs: tuple[Path, ...], fmt: str) -> None:
    """Every rule: id, severity, required inputs and title."""
    pack = _pack(rules_dirs)
    if fmt == "json":
        click.echo(dump_json([{"id": r.id, "severity": str(r.severity), "confidence": r.confidence,
                               "title": r.title, "requires": sorted(r.requires), "enabled": r.enabled,
                               "path": r.path} for r in pack.rules]), nl=False)
        return
    for r in pack.rules:
        off = "" if r.enabled else " (disabled)"
        click.echo(f"{r.id:20} {str(r.severity):8} {','.join(sorted(r.requires)) or '-':28} {r.title}{off}")
    click.echo(f"{len(pack.rules)} rules in {pack.name} {pack.version}", err=True)


@rules_group.command("show")
@click.argument("rule_id")
@click.option("--rules", "rules_dirs", multiple=True, type=click.Path(path_type=Path, file_okay=False))
@handle_errors
def rules_show_cmd(rule_id: str, rules_dirs: tuple[Path, ...]) -> None:
    """One rule in full: description, references, condition and where it lives."""
    import yaml

    from scanner.yaml_lines import suggest

    pack = _pack(rules_dirs)
    rule = pack.by_id().get(rule_id.upper())
    if rule is None:
        raise DivulgeError(f"no rule {rule_id!r}{suggest(rule_id.upper(), pack.by_id())}")
    click.echo(f"{rule.id}: {rule.title}" + (f"\n{rule.title_zh}" if rule.title_zh else ""))
    click.echo(f"severity {rule.severity}, confidence {rule.confidence}, needs: {', '.join(sorted(rule.requires)) or '-'}")
    click.echo(f"file: {rule.path}\n\n{rule.description}\n\nRemediation: {rule.remediation}\n\nReferences:")
    for ref in rule.references:
        click.echo(f"  - {ref.title}{' ' + ref.article if ref.article else ''}: {ref.url}")
    if rule.params:
        click.echo("\nParameters: " + ", ".join(f"{k}={v}" for k, v in rule.params.items()))
    # From the parsed rule, not a slice of its file: a file may hold several rules or "id:" in a condition.
    condition = {"match": rule.match, **({"corroborate": rule.corroborate} if rule.corroborate else {})}
    dumped = yaml.safe_dump(condition, allow_unicode=True, sort_keys=False, default_flow_style=None, width=100)
    click.echo("\nCondition:\n  " + dumped.rstrip().replace("\n", "\n  "))
    for variant in rule.variants:
        when = yaml.safe_dump(variant.condition, allow_unicode=True, default_flow_style=True, width=1000).strip()
        changes = [f"confidence {variant.confidence}"] if variant.confidence else []
        changes += ["its own message"] if variant.message else []
        changes += ["cites " + "; ".join(f"{r.title} {r.article or ''}".strip() for r in variant.references)
                    ] if variant.references is not None else []
        click.echo(f"\nVariant when {when}: " + (", ".join(changes) or "no change"))


@rules_group.command("validate")
@click.argument("directories", nargs=-1, type=click.Path(path_type=Path, file_okay=False))
@handle_errors
def rules_validate_cmd(directories: tuple[Path, ...]) -> None:
    """Check rule files against the schema and compile their conditions (default: the built-in pack)."""
    pack = _pack(directories, builtin=not directories)
    click.echo(f"{len(pack.rules)} rule(s) valid in {', '.join(pack.directories)}")


@rules_group.command("test")
@click.argument("directories", nargs=-1, type=click.Path(path_type=Path, file_okay=False))
@click.option("-v", "--verbose", is_flag=True, help="List every case, not only failures.")
@handle_errors
def rules_test_cmd(directories: tuple[Path, ...], verbose: bool) -> None:
    """Run each rule's must-fire and must-not-fire cases (default: the built-in pack); exit 1 on failure."""
    from scanner.ruletest import run_tests

    pack = _pack(directories, builtin=not directories)
    run = run_tests(pack.rules)
    for case in run.results:
        if verbose or not case.passed:
            status = "ok  " if case.passed else "FAIL"
            kind = "must fire" if case.must_fire else "must not fire"
            click.echo(f"{status} {case.rule_id} [{kind}] {case.name}" + (f"\n     {case.path}:{case.line}: {case.detail}"
                                                                         if not case.passed else ""))
    for problem in run.untested:
        click.echo(f"FAIL {problem}")
    failed = sum(not c.passed for c in run.results)
    click.echo(f"{len(run.results)} case(s), {failed} failed, {len(run.untested)} rule(s) without both kinds of case; "
               f"{len(pack.rules)} rule(s)", err=True)
    if not run.ok:
        sys.exit(EXIT_FINDINGS)


@rules_group.command("categories")
def rules_categories_cmd() -> None:
    """The 39 app types of the 2021 necessary-PI scope, with their necessary data types."""
    from scanner.knowledge.regulation import app_types

    for t in app_types().values():
        click.echo(f"{t.number:2} {t.id:22} {t.zh:10} {t.en}: {', '.join(t.necessary) or '(none)'}")


@main.group("policy")
def policy_group() -> None:
    """Declarations: draft, validate and convert them; read what a privacy policy text says."""


@policy_group.command("draft")
@click.argument("apk", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--traffic", multiple=True, type=click.Path(path_type=Path),
              help="Capture (session directory, flows, HAR) or traffic JSON showing what the app sends (repeatable).")
@click.option("--device", type=click.Path(path_type=Path, dir_okay=False), help="Device profile YAML for the captures.")
@click.option("--category", help="App type of the 2021 necessary-PI scope to write into the draft.")
@click.option("--sdk-db", type=click.Path(path_type=Path, dir_okay=False), help="Extra SDK database (Exodus JSON).")
@click.option("--format", "fmt", type=click.Choice(["yaml", "datasafety-csv"]), default="yaml", show_default=True)
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), help="Write to this file.")
@handle_errors
def policy_draft_cmd(apk: Path, traffic: tuple[Path, ...], device: Path | None, category: str | None,
                     sdk_db: Path | None, fmt: str, output: Path | None) -> None:
    """A draft declaration from what APK can do and (with --traffic) does: review it, then publish it."""
    from scanner.draft import DraftOptions, draft_declaration, render_draft

    draft = draft_declaration(DraftOptions(apk=apk, traffic=traffic, device=device, category=category, sdk_db=sdk_db))
    emit(render_draft(draft, fmt), output)


@policy_group.command("validate")
@click.argument("declaration", type=click.Path(path_type=Path, dir_okay=False))
@handle_errors
def policy_validate_cmd(declaration: Path) -> None:
    """Check a privacy.yaml or Data safety CSV; errors name the file and line."""
    from scanner.policy.declaration import load_declaration

    decl = load_declaration(declaration)
    active = [d for d in decl.data_types.values() if not d.denied]
    click.echo(f"{declaration}: valid {decl.kind}: {len(active)} data type(s), "
               f"{sum(1 for d in active if d.shared)} shared, {len(decl.parties)} third part(ies)")


@policy_group.command("convert")
@click.argument("declaration", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--to", "fmt", type=click.Choice(["yaml", "datasafety-csv"]), required=True)
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), help="Write to this file.")
@handle_errors
def policy_convert_cmd(declaration: Path, fmt: str, output: Path | None) -> None:
    """privacy.yaml <-> Play Data safety CSV (third parties and `not_collected` have no place in the CSV)."""
    from scanner.policy.datasafety_csv import dump_datasafety_csv
    from scanner.policy.declaration import dump_privacy_yaml, load_declaration

    decl = load_declaration(declaration)
    if fmt == "datasafety-csv":
        if decl.parties or any(d.denied for d in decl.data_types.values()):
            click.echo("divulge: warning: the Data safety CSV cannot hold third parties or `not_collected`; "
                       "they are left out", err=True)
        emit(dump_datasafety_csv(decl), output)
    else:
        emit(dump_privacy_yaml(decl, header=f"converted from {declaration.name} by divulge {__version__}"), output)


# --- reports (issue: reports) --------------------------------------------------------------------
REPORT_FORMATS_HELP = "Comma-separated: html, json, sarif, md, junit, text, pia, pia-html, pia-json."


def write_report_dir(result: Any, formats: list[Any], lang: str, out_dir: Path | None) -> None:
    """Render formats and save them under fixed names in out_dir (one format without -o goes to stdout).

    Shared by `divulge scan` and `divulge report`; the writers only return strings."""
    from scanner.reports import report_file_name, write_reports

    if out_dir is None and len(formats) > 1:
        raise click.UsageError("several formats need -o DIR")
    texts = write_reports(result, formats, lang)
    for fmt in formats:
        emit(texts[fmt.value], None if out_dir is None else out_dir / report_file_name(fmt))


def _report_formats(ctx: click.Context, param: click.Parameter, value: str) -> list[Any]:
    from scanner.reports import parse_formats

    try:
        return parse_formats(value)
    except DivulgeError as exc:
        raise click.BadParameter(exc.message) from None


@main.command("report")
@click.argument("findings", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "formats", default="html", show_default=True, callback=_report_formats,
              help=REPORT_FORMATS_HELP)
@click.option("--lang", type=click.Choice(["en", "zh"]), default="en", show_default=True,
              help="Language of the report's fixed strings and finding texts.")
@click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Directory for report.html, findings.json, findings.sarif, summary.md, junit.xml, report.txt, pia.md, pia.html, pia.json.")
@handle_errors
def report_cmd(findings: Path, formats: list[Any], lang: str, out_dir: Path | None) -> None:
    """Re-render saved FINDINGS.json (from `divulge scan --format json`) without re-scanning.

    `--format pia` (Markdown), `pia-html` and `pia-json` draft a personal-information impact assessment."""
    from scanner.batch.evidence import check_recorded_output
    from scanner.reports import load_findings

    result = load_findings(findings)
    check_recorded_output(findings)  # findings of a batch or evidence folder must match their manifest
    write_report_dir(result, formats, lang, out_dir)


# --- batch and evidence (issue: batch) ----------------------------------------------------------
BATCH_EPILOG = """\b
INPUT is a folder of APKs (declarations and captures matched by file name from --policies and --traffic)
or a CSV with columns app, declaration, captures (';'-separated), id, category, device.
Results: OUT/apps/<id>/ (reports + evidence.json), OUT/dashboard.html, OUT/findings.csv, the SQLite store.
\b
Exit codes:
  0  batch done; no app has a finding at or above --fail-on (apps that could not be scanned do not count)
  1  some app has findings at or above --fail-on
  2  usage or input error (bad INPUT, CSV line, store in use)
  3  internal error
"""


@main.command("batch", epilog=BATCH_EPILOG)
@click.argument("source", metavar="INPUT", type=click.Path(exists=True, path_type=Path))
@click.option("--policies", type=click.Path(file_okay=False, path_type=Path),
              help="Folder of declarations named after the APKs (NAME.yaml, NAME.csv, NAME/privacy.yaml).")
@click.option("--traffic", type=click.Path(file_okay=False, path_type=Path),
              help="Folder of captures named after the APKs (NAME.har, NAME.*, or NAME/ with several).")
@click.option("--workers", type=click.IntRange(min=1), help="Parallel worker processes [default: number of CPUs].")
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), help="SQLite store [default: OUT/batch.sqlite].")
@click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("divulge-batch"),
              show_default=True, help="Result folder.")
@click.option("--resume", is_flag=True, help="Finish an interrupted batch: skip apps already in the store.")
@click.option("--retry-errors", is_flag=True, help="With --resume: scan apps that failed before again.")
@click.option("--fresh", is_flag=True, help="Empty the store first and scan everything again.")
@click.option("--timeout", "timeout_s", type=click.FloatRange(min=1), default=600, show_default=True,
              help="Seconds one app may take before its worker is killed.")
@click.option("--memory-mb", type=click.IntRange(min=0), default=4096, show_default=True,
              help="Address-space limit of one worker in MB (0: none).")
@click.option("--engine", type=click.Choice(["local", "dask"]), default="local", show_default=True)
@click.option("--scheduler", metavar="ADDR", help="Dask scheduler address for --engine dask, e.g. tcp://10.0.0.5:8786.")
@click.option("--rules", "rules_dirs", multiple=True, type=click.Path(file_okay=False, path_type=Path),
              help="Extra rule directory (repeatable).")
@click.option("--config", type=click.Path(dir_okay=False, path_type=Path), help="Settings file for every app.")
@click.option("--device", type=click.Path(dir_okay=False, path_type=Path), help="Device profile for the captures.")
@click.option("--category", help="App type of the 2021 necessary-PI scope for apps without one in the CSV.")
@click.option("--format", "formats", default="html,json,pia-html", show_default=True,
              help="Report formats per app (html, json, sarif, md, junit, text, pia, pia-html, pia-json).")
@click.option("--lang", type=click.Choice(["en", "zh"]), default="en", show_default=True)
@click.option("--fail-on", type=click.Choice(["info", "low", "medium", "high", "critical", "none"]), default="none",
              show_default=True, help="Exit 1 when any app has a finding at or above this severity.")
@click.option("--json-summary", is_flag=True, help="Print the summary as JSON on stdout.")
@handle_errors
def batch_cmd(source: Path, policies: Path | None, traffic: Path | None, workers: int | None, db: Path | None,
              out_dir: Path, resume: bool, retry_errors: bool, fresh: bool, timeout_s: float, memory_mb: int,
              engine: str, scheduler: str | None, rules_dirs: tuple[Path, ...], config: Path | None,
              device: Path | None, category: str | None, formats: str, lang: str, fail_on: str,
              json_summary: bool) -> None:
    """Scan many apps in parallel, resumably, into a SQLite store, evidence manifests and a dashboard."""
    import os

    from rich.console import Console

    from scanner.batch import BatchOptions, run_batch
    from scanner.batch.appscan import ScanSettings
    from scanner.batch.console import ProgressBar, print_summary
    from scanner.batch.runner import summary_json
    from scanner.batch.workers import Limits
    from scanner.model import Severity
    from scanner.reports import parse_formats

    if resume and fresh:
        raise click.UsageError("--resume and --fresh exclude each other")
    settings = ScanSettings(formats=tuple(f.value for f in parse_formats(formats)), lang=lang, rules=rules_dirs,
                            config=config, device=device, category=category,
                            fail_on=None if fail_on == "none" else fail_on)
    options = BatchOptions(source=source, out=out_dir, db=db, policies=policies, traffic=traffic,
                           workers=workers or os.cpu_count() or 1,
                           resume=resume, fresh=fresh, retry_errors=retry_errors,
                           limits=Limits(timeout_s=timeout_s, memory_mb=memory_mb or None), settings=settings,
                           engine=engine, scheduler=scheduler,
                           fail_on=None if fail_on == "none" else Severity.parse(fail_on), argv=tuple(sys.argv))
    console = Console(stderr=True, soft_wrap=True)
    with ProgressBar(console) as bar:
        summary = run_batch(options, bar.update)
    print_summary(console, summary)
    if json_summary:
        click.echo(summary_json(summary), nl=False)
    if summary.interrupted:
        sys.exit(130)
    if summary.apps_at_or_above_fail_on:
        sys.exit(EXIT_FINDINGS)


@main.command("verify")
@click.argument("directory", metavar="DIR", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--inputs-root", type=click.Path(file_okay=False, path_type=Path),
              help="Where the APKs, declarations and captures are now, if they moved since the scan.")
@handle_errors
def verify_cmd(directory: Path, inputs_root: Path | None) -> None:
    """Check the evidence manifests of a batch or app result folder; say exactly what changed.

    Exit 0 when every manifest, input and output is as recorded, 1 when anything changed, 2 when DIR holds no
    evidence."""
    from rich.console import Console

    from scanner.batch.console import print_verdicts
    from scanner.batch.evidence import verify_tree

    verdicts = verify_tree(directory, inputs_root=inputs_root)
    print_verdicts(Console(soft_wrap=True), verdicts)
    if any(not v.ok for v in verdicts):
        sys.exit(EXIT_FINDINGS)

# --- policy text (issue: policy) -----------------------------------------------------------------


@policy_group.command("extract")
@click.argument("policy", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["yaml", "json"]), default="yaml", show_default=True)
@click.option("--vocabulary", type=click.Path(path_type=Path, file_okay=False),
              help="Extra vocabulary YAML files (same format as rules/vocabulary/), merged with the built-in one.")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), help="Write to this file.")
@handle_errors
def policy_extract_cmd(policy: Path, fmt: str, vocabulary: Path | None, output: Path | None) -> None:
    """Read a privacy policy (HTML, Markdown or text; English or Chinese): what it says is collected, shared and
    denied, the SDKs it lists, each with the sentence or table row it came from."""
    from scanner.policy.text import ExtractOptions, load_policy_text, render_extraction

    declaration = load_policy_text(policy, ExtractOptions(vocabulary_dir=vocabulary))
    emit(render_extraction(declaration, fmt), output)
    inferred = sorted(k for k, v in declaration.data_types.items() if v.confidence == "inferred")
    click.echo(f"divulge: {policy.name}: {declaration.language}, {len(declaration.data_types)} data types, "
               f"{len(declaration.parties)} third parties"
               + (f"; inferred from vague terms: {', '.join(inferred)}" if inferred else ""), err=True)


if __name__ == "__main__":  # pragma: no cover
    main()
