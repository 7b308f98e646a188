"""What a batch scans: a folder of APKs or a CSV of rows (app, declaration, captures) -> one AppJob per app."""

from __future__ import annotations

import csv
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from scanner.errors import DivulgeError

CSV_COLUMNS = ("id", "app", "declaration", "captures", "category", "device")
DECLARATION_NAMES = ("{s}.yaml", "{s}.yml", "{s}.csv", "{s}.privacy.yaml", "{s}/privacy.yaml", "{s}/privacy.yml",
                     "{s}/datasafety.csv",
                     # the privacy policy itself, as most audited apps have only that
                     "{s}.html", "{s}.htm", "{s}.md", "{s}.txt", "{s}.pdf", "{s}.docx",
                     "{s}/policy.html", "{s}/policy.htm", "{s}/policy.md", "{s}/policy.txt", "{s}/policy.pdf",
                     "{s}/policy.docx")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class BadBatchInput(DivulgeError):
    """The batch input (folder, CSV, --policies or --traffic) is malformed or names a missing file."""


@dataclass(frozen=True)
class AppJob:
    """One app to scan; `app_id` is the stable key of the store and the name of its result folder."""

    app_id: str
    apk: Path
    declaration: Path | None = None
    captures: tuple[Path, ...] = ()
    category: str | None = None
    device: Path | None = None  # device profile for the captures (overrides --device)
    source: str = ""  # where the job came from (CSV file:line or the folder), for error messages

    def input_files(self) -> list[tuple[str, Path]]:
        """(kind, path) of every file the scan reads, in a fixed order (the evidence manifest follows it)."""
        files = [("apk", self.apk)]
        if self.declaration is not None:
            files.append(("declaration", self.declaration))
        files.extend(("capture", c) for c in self.captures)
        return files


def safe_id(text: str) -> str:
    """An app id usable as a folder name on every OS: path separators and odd characters become '_'."""
    cleaned = _UNSAFE.sub("_", text.replace("\\", "/").replace("/", "__")).strip("._")
    return cleaned or "app"


def load_jobs(source: Path, *, policies: Path | None = None, traffic: Path | None = None) -> list[AppJob]:
    """A folder (every *.apk, *.apks, *.xapk, *.apkm, *.ipa below it) or a CSV file -> jobs in a stable order; BadBatchInput on any problem."""
    for name, folder in (("--policies", policies), ("--traffic", traffic)):
        if folder is not None and not folder.is_dir():
            raise BadBatchInput(f"{name} is not a folder", path=str(folder))
    if source.is_dir():
        jobs = _folder_jobs(source, policies, traffic)
    elif source.is_file() and source.suffix.lower() == ".csv":
        jobs = _csv_jobs(source, policies, traffic)
    elif source.exists():
        raise BadBatchInput("batch input must be a folder of APKs or a .csv file", path=str(source))
    else:
        raise BadBatchInput("no such file or folder", path=str(source))
    if not jobs:
        raise BadBatchInput("no apps to scan (no *.apk, *.apks, *.xapk, *.apkm or *.ipa files, or CSV rows)", path=str(source))
    return jobs


# A plain APK, or a bundle of split APKs as bundletool/SAI (.apks), APKPure (.xapk) and APKMirror (.apkm) save it;
# or an iOS app (.ipa), which the static stage reads as well (issue 17).
APP_SUFFIXES = frozenset({".apk", ".apks", ".xapk", ".apkm", ".ipa"})


def _folder_jobs(folder: Path, policies: Path | None, traffic: Path | None) -> list[AppJob]:
    apks = sorted(p for p in folder.rglob("*") if p.suffix.lower() in APP_SUFFIXES and p.is_file())
    jobs: list[AppJob] = []
    seen: dict[str, Path] = {}
    stems = Counter(apk.with_suffix("") for apk in apks)
    for apk in apks:
        rel = apk.relative_to(folder).with_suffix("").as_posix()
        # The same app saved as .apk and .xapk keeps both, told apart by the file type.
        app_id = safe_id(rel if stems[apk.with_suffix("")] == 1 else f"{rel}.{apk.suffix[1:].lower()}")
        if app_id in seen:
            raise BadBatchInput(f"two APKs map to the app id {app_id!r}: {seen[app_id]} and {apk}; rename one",
                                path=str(folder))
        seen[app_id] = apk
        jobs.append(AppJob(app_id=app_id, apk=apk.resolve(),
                           declaration=_match_declaration(policies, apk.stem, rel),
                           captures=_match_captures(traffic, apk.stem, rel), source=str(folder)))
    return jobs


def _match_declaration(policies: Path | None, stem: str, rel: str) -> Path | None:
    """The declaration named after the APK (weather.yaml, weather/privacy.yaml, …); two candidates is an error."""
    if policies is None:
        return None
    found: list[Path] = []
    for s in dict.fromkeys((rel, stem)):
        found = [policies / pattern.format(s=s) for pattern in DECLARATION_NAMES
                 if (policies / pattern.format(s=s)).is_file()]
        if found:
            break
    if len(found) > 1:
        names = ", ".join(str(p) for p in found)
        raise BadBatchInput(f"several declarations match app {stem!r}: {names}; keep one", path=str(policies))
    return found[0].resolve() if found else None


def _match_captures(traffic: Path | None, stem: str, rel: str) -> tuple[Path, ...]:
    """Captures of an app: every file in the folder named after it, or files named `<app>.<ext>`."""
    if traffic is None:
        return ()
    for s in dict.fromkeys((rel, stem)):
        folder = traffic / s
        if folder.is_dir():
            return tuple(sorted(p.resolve() for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")))
        files = sorted(p.resolve() for p in traffic.glob(f"{glob_escape(s)}.*") if p.is_file())
        if files:
            return tuple(files)
    return ()


def glob_escape(text: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", text)


def _csv_jobs(path: Path, policies: Path | None, traffic: Path | None) -> list[AppJob]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadBatchInput(f"cannot read CSV: {exc}", path=str(path)) from exc
    reader = csv.reader(text.splitlines())
    header = [h.strip().lower() for h in next(reader, [])]
    if "app" not in header:
        raise BadBatchInput(f"CSV header needs an 'app' column (columns: {', '.join(CSV_COLUMNS)})",
                            path=str(path), line=1)
    unknown = [h for h in header if h not in CSV_COLUMNS]
    if unknown:
        raise BadBatchInput(f"unknown CSV column {unknown[0]!r} (columns: {', '.join(CSV_COLUMNS)})",
                            path=str(path), line=1)
    base = path.parent
    jobs: list[AppJob] = []
    seen: dict[str, int] = {}
    for line, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row) or row[0].lstrip().startswith("#"):
            continue
        if len(row) > len(header):
            raise BadBatchInput(f"row has {len(row)} cells, the header {len(header)}", path=str(path), line=line)
        cells = {h: (row[i].strip() if i < len(row) else "") for i, h in enumerate(header)}
        where = {"path": str(path), "line": line}
        if not cells["app"]:
            raise BadBatchInput("empty 'app' cell", **where)  # type: ignore[arg-type]
        apk = _existing(base, cells["app"], "APK", path, line)
        app_id = safe_id(cells.get("id") or Path(cells["app"]).with_suffix("").as_posix())
        if app_id in seen:
            raise BadBatchInput(f"app id {app_id!r} already used on line {seen[app_id]}; add an 'id' column",
                                path=str(path), line=line)
        seen[app_id] = line
        declaration = (_existing(base, cells["declaration"], "declaration", path, line)
                       if cells.get("declaration") else _match_declaration(policies, apk.stem, apk.stem))
        if cells.get("captures"):
            captures = tuple(_existing(base, c.strip(), "capture", path, line)
                             for c in re.split(r"[;|]", cells["captures"]) if c.strip())
        else:
            captures = _match_captures(traffic, apk.stem, apk.stem)
        jobs.append(AppJob(app_id=app_id, apk=apk, declaration=declaration, captures=captures,
                           category=cells.get("category") or None,
                           device=_existing(base, cells["device"], "device profile", path, line)
                           if cells.get("device") else None, source=f"{path}:{line}"))
    return jobs


def _existing(base: Path, cell: str, what: str, csv_path: Path, line: int) -> Path:
    candidate = Path(cell).expanduser()
    resolved = candidate if candidate.is_absolute() else base / candidate
    if not resolved.is_file():
        raise BadBatchInput(f"{what} not found: {cell}", path=str(csv_path), line=line)
    return resolved.resolve()
