"""The fuzzing harness shared by tests/fuzz (hypothesis, short fixed budget) and bench/fuzz.py (≥10,000 mutants).

Each *kind* is one reader a user can hand a file to: a list of real seed inputs and the function the CLI calls
with such a file. A mutant is written to disk and given to that function; the outcome is one of

* ``ok``        the reader accepted it (or skipped its damaged parts with warnings);
* ``rejected``  a DivulgeError whose message is one line naming the file: what the CLI prints with exit 2;
* ``internal``  any other exception, or a DivulgeError that is not one line naming the file: a bug;
* ``hang``      the per-input time limit passed.
"""

from __future__ import annotations

import copy
import io
import json
import random
import re
import shutil
import signal
import tempfile
import traceback
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from scanner.errors import DivulgeError

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "fixtures"
REFERENCE_TRAFFIC = REPO.parent / "shared" / "reference" / "traffic"  # read in place, never copied into the repo

OUTCOMES = ("ok", "rejected", "internal", "hang")


class FuzzTimeout(BaseException):
    """Raised by the alarm: a BaseException so that no `except Exception` in a reader can swallow it."""


@dataclass
class Outcome:
    kind: str
    status: str
    detail: str = ""  # the message, or the exception and the innermost frame for an internal error


@dataclass
class Kind:
    """One reader: where its seeds come from, how mutants are stored, and the call the CLI makes."""

    name: str
    seeds: Callable[[Path], list[bytes]]  # given a scratch dir (for generated seeds)
    run: Callable[[Path], Any]  # the reader, on the file (or session dir) built by `place`
    suffix: str = ""
    structured: str = ""  # json | jsonl | yaml | tnet | zip: how the structural mutator parses a seed
    place: Callable[[Path, bytes, str], Path] | None = None  # build the input path from mutant bytes
    _seed_cache: list[bytes] = field(default_factory=list)

    def seed_bytes(self, scratch: Path) -> list[bytes]:
        if not self._seed_cache:
            self._seed_cache.extend(self.seeds(scratch))
        return self._seed_cache


# --- seeds -------------------------------------------------------------------------------------------------


def _files(*patterns: str, root: Path = FIXTURES) -> Callable[[Path], list[bytes]]:
    def seeds(_: Path) -> list[bytes]:
        found = sorted({p for pattern in patterns for p in root.glob(pattern) if p.is_file()})
        return [p.read_bytes() for p in found]
    return seeds


def _reference(*patterns: str) -> list[bytes]:
    if not REFERENCE_TRAFFIC.is_dir():
        return []
    return [p.read_bytes() for pattern in patterns for p in sorted(REFERENCE_TRAFFIC.glob(pattern))]


def _har_seeds(scratch: Path) -> list[bytes]:
    return _files("captures/*.har")(scratch) + _reference("*.har")


def _flow_seeds(scratch: Path) -> list[bytes]:
    return _files("captures/*.flows")(scratch) + _reference("*.mitm")


def _member(apk: str, name: str) -> Callable[[Path], list[bytes]]:
    def seeds(_: Path) -> list[bytes]:
        with zipfile.ZipFile(FIXTURES / "apks" / apk) as archive:
            return [archive.read(name)]
    return seeds


def _tls_seed(_: Path) -> list[bytes]:
    lines = [{"time": 1714550400.5, "kind": "handshake_failed", "host": "pinned.example", "port": 443,
              "reason": "The client does not trust the proxy's certificate for pinned.example"},
             {"time": 1714550401.0, "kind": "closed_without_request", "host": "api.example", "port": 443}]
    return [("\n".join(json.dumps(line) for line in lines) + "\n").encode()]


def _traffic_json_seed(_: Path) -> list[bytes]:
    from scanner.dynamic.summary import TrafficFormat
    from scanner.dynamic.traffic import TrafficOptions, analyse_traffic

    report = analyse_traffic(TrafficOptions(captures=(FIXTURES / "captures" / "weather.har",),
                                            device=FIXTURES / "devices" / "test-phone.yaml"))
    return [TrafficFormat("json").render(report).encode()]


def _baseline_seed(_: Path) -> list[bytes]:
    from scanner.model import to_jsonable
    from scanner.scan import ScanOptions, findings_document, run_scan

    result = run_scan(ScanOptions(apk=FIXTURES / "apks" / "weather.apk",
                                  policy=FIXTURES / "declarations" / "weather.privacy.yaml"))
    return [json.dumps(to_jsonable(findings_document(result)), indent=1).encode()]


CONFIG_SEED = b"""\
fail_on: high
category: news
rules:
  disable: [DVG-DECL-001]
  severity: {DVG-NEC-003: info}
  params: {DVG-FREQ-001: {max_per_minute: 2, min_count: 5}}
suppress:
  - rule: DVG-SDK-001
    sdk: jpush
    justification: JPush is removed in 7.4, shipping on 2025-07-01
    expires: 2025-07-31
"""


def _policy_pdf_seed(_: Path) -> list[bytes]:
    """A small real PDF with a text layer (what pypdf extracts), built by hand: no printer needed."""
    text = ("Privacy Policy. We collect your email address and precise location. "
            "We share your device identifiers with advertising partners.")
    stream = f"BT /F1 11 Tf 40 760 Td ({text}) Tj ET".encode()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.writelines(b"%010d 00000 n \n" % offset for offset in offsets)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return [out.getvalue()]


def _policy_docx_seed(_: Path) -> list[bytes]:
    ns = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    paragraphs = ["Privacy Policy", "We collect your email address and precise location.",
                  "We share device identifiers with advertising partners such as Google AdMob."]
    body = "".join(f"<w:p><w:r><w:t>{p}</w:t></w:r></w:p>" for p in paragraphs)
    table = ("<w:tbl><w:tr><w:tc><w:p><w:r><w:t>SDK</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>Data</w:t>"
             "</w:r></w:p></w:tc></w:tr><w:tr><w:tc><w:p><w:r><w:t>Firebase</w:t></w:r></w:p></w:tc><w:tc><w:p>"
             "<w:r><w:t>device ID</w:t></w:r></w:p></w:tc></w:tr></w:tbl>")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                         'package/2006/content-types"><Override PartName="/word/document.xml" ContentType="application/'
                         'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
        archive.writestr("word/document.xml", f'<?xml version="1.0"?><w:document {ns}><w:body>{body}{table}'
                         "</w:body></w:document>")
    return [out.getvalue()]


# --- placing a mutant --------------------------------------------------------------------------------------


def _as_file(work: Path, data: bytes, suffix: str) -> Path:
    path = work / f"input{suffix}"
    path.write_bytes(data)
    return path


def _in_apk(apk: str, member: str) -> Callable[[Path, bytes, str], Path]:
    """The mutant replaces one member of a real APK: the manifest's binary XML, or a dex file."""
    def place(work: Path, data: bytes, suffix: str) -> Path:
        path = work / "input.apk"
        with zipfile.ZipFile(FIXTURES / "apks" / apk) as source, zipfile.ZipFile(path, "w") as target:
            for info in source.infolist():
                target.writestr(info, data if info.filename == member else source.read(info))
        return path
    return place


def _in_session(name: str) -> Callable[[Path, bytes, str], Path]:
    """The mutant replaces one file of a real session directory (marks, TLS log, runtime events)."""
    def place(work: Path, data: bytes, suffix: str) -> Path:
        session = work / "session"
        base = FIXTURES / ("runtime/sdk-before-consent" if name == "runtime.jsonl" else "captures/weather.session")
        shutil.copytree(base, session)
        (session / name).write_bytes(data)
        return session
    return place


def _in_rule_dir(work: Path, data: bytes, suffix: str) -> Path:
    rules = work / "rules"
    rules.mkdir()
    # A one-rule file must be named after its id: keep the seed's name, or every mutant stops at that check.
    found = re.search(rb"^id:\s*['\"]?([A-Za-z0-9-]{1,100})\b", data, re.MULTILINE)
    (rules / f"{found.group(1).decode() if found else 'DVG-FUZZ-001'}.yaml").write_bytes(data)
    return rules


# --- the readers, called as the CLI calls them ----------------------------------------------------------------


def _static(path: Path) -> Any:
    from scanner.static import StaticOptions, analyze_apk

    return analyze_apk(path, StaticOptions())


def _traffic(path: Path) -> Any:
    from scanner.dynamic.traffic import TrafficOptions, analyse_traffic

    return analyse_traffic(TrafficOptions(captures=(path,), device=FIXTURES / "devices" / "test-phone.yaml"))


def _session_and_runtime(path: Path) -> Any:
    from scanner.dynamic.runtime import read_runtime
    from scanner.knowledge.sdks import shared_catalog

    if (path / "flows.mitm").exists():
        return _traffic(path)
    return read_runtime(path, shared_catalog())


def _traffic_json(path: Path) -> Any:
    from scanner.traffic_json import load_traffic_json

    return load_traffic_json(path)


def _declaration(path: Path) -> Any:
    from scanner.policy.declaration import load_declaration

    return load_declaration(path)


def _device(path: Path) -> Any:
    from scanner.dynamic.device import load_device_profile

    return load_device_profile(path)


def _config(path: Path) -> Any:
    from scanner.engine.loader import load_pack
    from scanner.engine.suppress import apply_rule_settings, check_rule_ids
    from scanner.scan import scan_config

    config = scan_config(path)
    pack = load_pack([], builtin=True)
    check_rule_ids(config, pack.rules)
    return apply_rule_settings(pack.rules, config)


def _baseline(path: Path) -> Any:
    from scanner.engine.suppress import load_baseline

    return load_baseline(path)


def _rules(path: Path) -> Any:
    from scanner.engine.loader import load_pack

    return load_pack([path], builtin=False)


RULE_SEEDS = ("DVG-COLLECT-001.yaml", "DVG-SDK-001.yaml", "DVG-APPS-001.yaml")

KINDS: dict[str, Kind] = {k.name: k for k in [
    Kind("apk", _files("apks/weather.apk", "apks/stubbed.apk"), _static, ".apk", "zip"),
    Kind("bundle", _files("apks/splitdemo.apks", "apks/splitdemo.xapk"), _static, ".xapk", "zip"),
    Kind("axml", _member("weather.apk", "AndroidManifest.xml"), _static,
         place=_in_apk("weather.apk", "AndroidManifest.xml")),
    Kind("dex", _member("weather.apk", "classes.dex"), _static, place=_in_apk("weather.apk", "classes.dex")),
    Kind("har", _har_seeds, _traffic, ".har", "json"),
    Kind("flows", _flow_seeds, _traffic, ".flows", "tnet"),
    Kind("marks", _files("captures/*.session/marks.jsonl"), _session_and_runtime, structured="jsonl",
         place=_in_session("marks.jsonl")),
    Kind("tls_failures", _tls_seed, _session_and_runtime, structured="jsonl", place=_in_session("tls_failures.jsonl")),
    Kind("runtime", _files("runtime/*/runtime.jsonl"), _session_and_runtime, structured="jsonl",
         place=_in_session("runtime.jsonl")),
    Kind("traffic_json", _traffic_json_seed, _traffic_json, ".traffic.json", "json"),
    Kind("privacy_yaml", _files("declarations/*.privacy.yaml"), _declaration, ".yaml", "yaml"),
    Kind("datasafety_csv", _files("declarations/weather.datasafety.csv"), _declaration, ".csv"),
    Kind("policy_html", _files("policies/social_en.html", "policies/map_zh.html"), _declaration, ".html"),
    Kind("policy_md", _files("policies/game_en.md"), _declaration, ".md"),
    Kind("policy_txt", _files("policies/banking_en.txt"), _declaration, ".txt"),
    Kind("policy_pdf", _policy_pdf_seed, _declaration, ".pdf"),
    Kind("policy_docx", _policy_docx_seed, _declaration, ".docx", "zip"),
    Kind("device", _files("devices/test-phone.yaml"), _device, ".yaml", "yaml"),
    Kind("config", lambda _: [CONFIG_SEED], _config, ".divulge.yml", "yaml"),
    Kind("baseline", _baseline_seed, _baseline, ".json", "json"),
    Kind("rules", _files(*(f"../rules/packs/builtin/{name}" for name in RULE_SEEDS)), _rules, structured="yaml",
         place=_in_rule_dir),
]}


# --- mutation --------------------------------------------------------------------------------------------------

_INTERESTING = [b"\x00", b"\x01", b"\x1b", b"\x7f", b"\xff\xff\xff\xff", b"\xef\xbb\xbf", b"\xc3", b"\xed\xa0\x80", b'"', b"'", b"{", b"}",
    b"[", b"]", b":", b",", b"\n", b"\r", b"\t", b"-1", b"0", b"99999999999999999999", b"1e999", b"NaN", b"null",
    b"&", b"<", b">", b"%", b"*", b"!!python/object:os.system", b"&a [*a, *a]", b"\x80\x00\x00\x00"]

_ODD_VALUES: list[Any] = [None, 0, -1, 2**63, 1e308, float("nan"), "", "x" * 300, "\x00", [], {}, [None], {"": None},
                          True, "1970-01-01T00:00:00", "http://", "::::", "-" * 40]


def mutate_bytes(data: bytes, rng: random.Random, corpus: list[bytes]) -> bytes:
    """One to four byte-level edits: flips, interesting tokens, deletions, duplications, truncation, splices."""
    buf = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        pos = rng.randrange(len(buf) + 1)
        op = rng.randrange(8)
        if op == 0 and buf:
            buf[min(pos, len(buf) - 1)] ^= 1 << rng.randrange(8)
        elif op == 1 and buf:
            buf[min(pos, len(buf) - 1)] = rng.randrange(256)
        elif op == 2:
            buf[pos:pos] = rng.choice(_INTERESTING)
        elif op == 3:
            del buf[pos:pos + rng.randint(1, 64)]
        elif op == 4:
            chunk = buf[pos:pos + rng.randint(1, 256)]
            buf[pos:pos] = chunk * rng.randint(1, 8)
        elif op == 5:
            del buf[pos:]
        elif op == 6 and corpus:
            other = rng.choice(corpus)
            start = rng.randrange(len(other) + 1)
            buf[pos:pos + rng.randint(0, 64)] = other[start:start + rng.randint(1, 256)]
        else:
            buf[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
    return bytes(buf)


def _walk(value: Any, rng: random.Random) -> Any:
    """Pick a container inside a parsed document and break one thing in it (drop a key, swap a type)."""
    containers = []

    def collect(node: Any) -> None:
        if isinstance(node, (dict, list)) and len(containers) < 5000:
            containers.append(node)
            for child in (node.values() if isinstance(node, dict) else node):
                collect(child)

    collect(value)
    if not containers:
        return rng.choice(_ODD_VALUES)
    target = rng.choice(containers)
    if isinstance(target, dict) and target:
        key = rng.choice(list(target))
        choice = rng.randrange(4)
        if choice == 0:
            del target[key]
        elif choice == 1:
            target[key] = copy.deepcopy(rng.choice(_ODD_VALUES))
        elif choice == 2:
            target[rng.choice(["", "x", key * 2 if isinstance(key, str) else "k"])] = target[key]
        else:
            target[key] = [target[key]] if rng.random() < 0.5 else {"v": target[key]}
    elif isinstance(target, list) and target:
        index = rng.randrange(len(target))
        choice = rng.randrange(3)
        if choice == 0:
            del target[index]
        elif choice == 1:
            target[index] = copy.deepcopy(rng.choice(_ODD_VALUES))
        else:
            target.extend(copy.deepcopy(target[index:index + 1]) * rng.randint(1, 3))
    return value


def mutate_structured(data: bytes, how: str, rng: random.Random) -> bytes | None:
    """A structure-aware edit that keeps the syntax valid, so the reader's checks past parsing are reached."""
    try:
        if how == "json":
            doc = json.loads(data.decode("utf-8-sig"))
            return json.dumps(_walk(doc, rng), default=str).encode()
        if how == "jsonl":
            lines = data.decode("utf-8", "replace").splitlines()
            if not lines:
                return None
            index = rng.randrange(len(lines))
            lines[index] = json.dumps(_walk(json.loads(lines[index]), rng), default=str)
            return ("\n".join(lines) + "\n").encode()
        if how == "yaml":
            doc = yaml.safe_load(data.decode("utf-8"))
            return yaml.safe_dump(_walk(doc, rng), allow_unicode=True).encode()
        if how == "tnet":
            from mitmproxy.io import tnetstring

            stream, flows = io.BytesIO(data), []
            while stream.tell() < len(data) and len(flows) < 200:
                flows.append(tnetstring.load(stream))
            index = rng.randrange(len(flows))
            flows[index] = _walk(_to_text_keys(flows[index]), rng)
            out = io.BytesIO()
            for flow in flows:
                tnetstring.dump(_to_bytes_keys(flow), out)
            return out.getvalue()
        if how == "zip":
            source = zipfile.ZipFile(io.BytesIO(data))
            names = source.namelist()
            victim = rng.choice(names)
            out = io.BytesIO()
            with zipfile.ZipFile(out, "w") as target:
                for info in source.infolist():
                    blob = source.read(info)
                    if info.filename == victim:
                        blob = mutate_bytes(blob, rng, [])
                    target.writestr(info, blob)
            return out.getvalue()
    except (ValueError, TypeError, yaml.YAMLError, zipfile.BadZipFile, KeyError, RecursionError):
        return None  # the seed is itself not parseable this way (a broken reference HAR): use byte edits
    return None


def _to_text_keys(value: Any) -> Any:
    # tnetstring keys come back as bytes or str depending on the flow format version; _walk wants hashable keys.
    if isinstance(value, dict):
        return {k: _to_text_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_text_keys(v) for v in value]
    return value


def _to_bytes_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {(k.encode() if isinstance(k, str) else k): _to_bytes_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_bytes_keys(v) for v in value]
    if isinstance(value, float) and value != value:
        return 0.0  # tnetstring writes NaN but cannot read it back, which would only test the writer
    return value


def mutant(kind: Kind, scratch: Path, rng: random.Random) -> bytes:
    seeds = kind.seed_bytes(scratch)
    seed = rng.choice(seeds)
    if kind.structured and rng.random() < 0.5:
        edited = mutate_structured(seed, kind.structured, rng)
        if edited is not None:
            return edited
    return mutate_bytes(seed, rng, seeds)


# --- running one input ---------------------------------------------------------------------------------------


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    def expire(signum: int, frame: Any) -> None:
        raise FuzzTimeout()

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def attempt(kind: Kind, data: bytes, *, limit: float = 10.0) -> Outcome:
    """Run one input through its reader in a fresh scratch directory and classify what happened."""
    with tempfile.TemporaryDirectory(prefix=f"fuzz-{kind.name}-") as tmp:
        work = Path(tmp)
        path = kind.place(work, data, kind.suffix) if kind.place else _as_file(work, data, kind.suffix)
        try:
            with time_limit(limit):
                kind.run(path)
        except FuzzTimeout:
            return Outcome(kind.name, "hang", f"over {limit:g} s")
        except DivulgeError as exc:
            message = str(exc)
            if "\n" in message or path.name not in message:
                return Outcome(kind.name, "internal", f"not one line naming the file: {message[:300]!r}")
            return Outcome(kind.name, "rejected", message.replace(str(work), "…"))
        except RecursionError as exc:
            return Outcome(kind.name, "internal", f"RecursionError: {exc}")
        except Exception as exc:  # the property under test: anything else is a bug to report with its frame
            frame = traceback.extract_tb(exc.__traceback__)[-1]
            where = f"{Path(frame.filename).name}:{frame.lineno}"
            return Outcome(kind.name, "internal", f"{type(exc).__name__}: {str(exc)[:200]} at {where}")
    return Outcome(kind.name, "ok")
