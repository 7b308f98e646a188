"""Google Play Data safety CSV (the file Play Console exports and imports) <-> Declaration.

Rows are `Question ID, Response ID, Response value, Answer requirement, Human-friendly question label`.
Per data type, `PSL_DATA_TYPES_<CATEGORY>,PSL_<TYPE>` selects it and `PSL_DATA_USAGE_RESPONSES:PSL_<TYPE>:<SUB>` rows
say collected/shared, ephemeral, optional/required and the collection and sharing purposes.  Answers that are
not about data types (account creation, deletion, encryption in transit) are kept in `form_answers` so an
import followed by an export loses nothing the model can hold.  Play has no list of third parties: those are
lost on export, which the CLI says.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Callable
from pathlib import Path

from scanner.errors import BadDeclaration
from scanner.model import DATA_TYPES, PURPOSES, Declaration, DeclaredDataType, data_type_from_psl

log = logging.getLogger(__name__)

HEADER = ("Question ID (machine readable)", "Response ID (machine readable)", "Response value",
          "Answer requirement", "Human-friendly question label")

USAGE = "PSL_DATA_USAGE_RESPONSES"
SUB_SHARING = "PSL_DATA_USAGE_COLLECTION_AND_SHARING"
SUB_EPHEMERAL = "PSL_DATA_USAGE_EPHEMERAL"
SUB_CONTROL = "DATA_USAGE_USER_CONTROL"
SUB_COLLECTION_PURPOSE = "DATA_USAGE_COLLECTION_PURPOSE"
SUB_SHARING_PURPOSE = "DATA_USAGE_SHARING_PURPOSE"
ONLY_COLLECTED = "PSL_DATA_USAGE_ONLY_COLLECTED"
ONLY_SHARED = "PSL_DATA_USAGE_ONLY_SHARED"
BOTH = "PSL_DATA_USAGE_BOTH_COLLECTED_AND_SHARED"  # older exports
CONTROL_OPTIONAL = "PSL_DATA_USAGE_USER_CONTROL_OPTIONAL"
CONTROL_REQUIRED = "PSL_DATA_USAGE_USER_CONTROL_REQUIRED"

# Our data-type category -> the Play question id that lists its types.
CATEGORY_QUESTIONS: dict[str, str] = {
    "personal_info": "PSL_DATA_TYPES_PERSONAL", "financial_info": "PSL_DATA_TYPES_FINANCIAL",
    "location": "PSL_DATA_TYPES_LOCATION", "search_and_browsing": "PSL_DATA_TYPES_SEARCH_AND_BROWSING",
    "email_and_text": "PSL_DATA_TYPES_EMAIL_AND_TEXT", "photos_and_videos": "PSL_DATA_TYPES_PHOTOS_AND_VIDEOS",
    "audio": "PSL_DATA_TYPES_AUDIO", "health_and_fitness": "PSL_DATA_TYPES_HEALTH_AND_FITNESS",
    "contacts": "PSL_DATA_TYPES_CONTACTS", "calendar": "PSL_DATA_TYPES_CALENDAR",
    "app_performance": "PSL_DATA_TYPES_APP_PERFORMANCE", "files_and_docs": "PSL_DATA_TYPES_FILES_AND_DOCS",
    "app_activity": "PSL_DATA_TYPES_APP_ACTIVITY", "device_or_other_ids": "PSL_DATA_TYPES_IDENTIFIERS",
}
_CATEGORY_LABELS: dict[str, str] = {
    "personal_info": "Personal info", "financial_info": "Financial info", "location": "Location",
    "search_and_browsing": "Web browsing", "email_and_text": "Messages", "photos_and_videos": "Photos and videos",
    "audio": "Audio files", "health_and_fitness": "Health and fitness", "contacts": "Contacts",
    "calendar": "Calendar", "app_performance": "App info and performance", "files_and_docs": "Files and docs",
    "app_activity": "App activity", "device_or_other_ids": "Device or other IDs",
}
# Purposes in the order Play Console lists them.
PURPOSE_ORDER = ("app_functionality", "analytics", "developer_communications", "fraud_prevention_security",
                 "advertising", "personalization", "account_management")

# Questions that are not about data types: (question id, response id or "", requirement, our short label).
TOP_QUESTIONS: tuple[tuple[str, str, str, str], ...] = (
    ("PSL_DATA_COLLECTION_COLLECTS_PERSONAL_DATA", "", "REQUIRED", "Does the app collect or share user data?"),
    ("PSL_DATA_COLLECTION_ENCRYPTED_IN_TRANSIT", "", "MAYBE_REQUIRED", "Is all collected data encrypted in transit?"),
    ("PSL_SUPPORTED_ACCOUNT_CREATION_METHODS", "PSL_ACM_USER_ID_PASSWORD", "MULTIPLE_CHOICE", "Account creation / Username and password"),
    ("PSL_SUPPORTED_ACCOUNT_CREATION_METHODS", "PSL_ACM_USER_ID_OTHER_AUTH", "MULTIPLE_CHOICE", "Account creation / Username and other authentication"),
    ("PSL_SUPPORTED_ACCOUNT_CREATION_METHODS", "PSL_ACM_USER_ID_PASSWORD_OTHER_AUTH", "MULTIPLE_CHOICE", "Account creation / Username, password and other authentication"),
    ("PSL_SUPPORTED_ACCOUNT_CREATION_METHODS", "PSL_ACM_OAUTH", "MULTIPLE_CHOICE", "Account creation / OAuth"),
    ("PSL_SUPPORTED_ACCOUNT_CREATION_METHODS", "PSL_ACM_OTHER", "MULTIPLE_CHOICE", "Account creation / Other"),
    ("PSL_SUPPORTED_ACCOUNT_CREATION_METHODS", "PSL_ACM_NONE", "MULTIPLE_CHOICE", "Account creation / None"),
    ("PSL_ACM_SPECIFY", "", "MAYBE_REQUIRED", "Account creation method, described"),
    ("PSL_ACCOUNT_DELETION_URL", "", "MAYBE_REQUIRED", "Account deletion link"),
    ("PSL_SUPPORT_DATA_DELETION_BY_USER", "DATA_DELETION_YES", "SINGLE_CHOICE", "Users can request data deletion / Yes"),
    ("PSL_SUPPORT_DATA_DELETION_BY_USER", "DATA_DELETION_NO", "SINGLE_CHOICE", "Users can request data deletion / No"),
    ("PSL_SUPPORT_DATA_DELETION_BY_USER", "DATA_DELETION_NO_AUTO_DELETED", "SINGLE_CHOICE", "Users can request data deletion / No, deleted within 90 days"),
    ("PSL_DATA_DELETION_URL", "", "MAYBE_REQUIRED", "Data deletion link"),
    ("PSL_DATA_COLLECTION_COMPLIES_FAMILY_POLICY", "", "OPTIONAL", "Show the Families policy commitment"),
    ("PSL_INDEPENDENTLY_VALIDATED", "", "OPTIONAL", "Independent security review (MASA) completed"),
    ("PSL_UPI_BADGE_OPT_IN", "", "OPTIONAL", "Show the independent review badge"),
    ("PSL_HAS_OUTSIDE_APP_ACCOUNTS", "", "OPTIONAL", "Users can log in with accounts created outside the app"),
    ("PSL_OUTSIDE_APP_ACCOUNT_TYPES", "PSL_LOGIN_WITH_OUTSIDE_APP_ID", "MULTIPLE_CHOICE", "Outside accounts / Out-of-app identification"),
    ("PSL_OUTSIDE_APP_ACCOUNT_TYPES", "PSL_LOGIN_THROUGH_EMPLOYMENT_OR_ENTERPRISE_ACCOUNT", "MULTIPLE_CHOICE", "Outside accounts / Employment or enterprise accounts"),
    ("PSL_OUTSIDE_APP_ACCOUNT_TYPES", "PSL_OUTSIDE_APP_ACCOUNT_TYPE_OTHER", "MULTIPLE_CHOICE", "Outside accounts / Other"),
    ("PSL_OUTSIDE_APP_ACCOUNT_TYPE_SPECIFY", "", "MAYBE_REQUIRED", "Outside accounts, described"),
)
_TOP_IDS = {q for q, _, _, _ in TOP_QUESTIONS}
_CHOICE = {"MULTIPLE_CHOICE", "SINGLE_CHOICE"}


def _answer_key(question: str, response: str) -> str:
    return f"{question}:{response}" if response else question


def _bool(value: str, *, path: str, line: int, what: str) -> bool | None:
    text = value.strip().lower()
    if text == "":
        return None
    if text in ("true", "false"):
        return text == "true"
    raise BadDeclaration(f"{what}: expected TRUE or FALSE, got {value!r}", path=path, line=line)


def _purpose(response: str, *, path: str, line: int) -> str:
    purpose = response.removeprefix("PSL_").lower()
    if purpose not in PURPOSES:
        raise BadDeclaration(f"unknown purpose {response!r}; one of: "
                             + ", ".join("PSL_" + p.upper() for p in PURPOSES), path=path, line=line)
    return purpose


def _data_type(psl: str, *, path: str, line: int) -> str:
    try:
        return data_type_from_psl(psl)
    except KeyError:
        import difflib

        close = difflib.get_close_matches(psl, ["PSL_" + d.upper() for d in DATA_TYPES], n=2)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise BadDeclaration(f"unknown data type {psl!r}{hint}", path=path, line=line) from None


# Play Console's export is ~140 KB (one row per data type x question); far larger is not a Data safety form.
MAX_CSV_BYTES = 16 * 1024 * 1024


def load_datasafety_csv(path: Path) -> Declaration:
    try:
        size = path.stat().st_size
        if size > MAX_CSV_BYTES:
            raise BadDeclaration(f"file is too large for a Data safety CSV ({size:,} bytes > {MAX_CSV_BYTES:,})",
                                 path=str(path))
        raw = path.read_bytes()
    except OSError as exc:
        raise BadDeclaration(f"cannot read: {exc.strerror or exc}", path=str(path)) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadDeclaration("not UTF-8 text", path=str(path)) from None
    return parse_datasafety_csv(text, str(path))


def parse_datasafety_csv(text: str, path: str = "<datasafety.csv>") -> Declaration:
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise BadDeclaration("empty file: expected the Play Data safety CSV header", path=path, line=1) from None
    except csv.Error as exc:
        raise BadDeclaration(f"not a CSV file: {exc}", path=path, line=1) from None
    if tuple(h.strip() for h in header[:3]) != HEADER[:3]:
        raise BadDeclaration("not a Play Data safety CSV: the header must start with "
                             f"{', '.join(HEADER[:3])!r}", path=path, line=1)
    declaration = Declaration(kind="datasafety-csv", path=path)
    selected: dict[str, int] = {}
    usage: dict[str, DeclaredDataType] = {}

    def entry(data_type: str, line: int) -> DeclaredDataType:
        if data_type not in usage:
            usage[data_type] = DeclaredDataType(data_type=data_type, source=f"{path}:{line}")
        return usage[data_type]

    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) < 3:
                raise BadDeclaration(f"expected at least 3 columns, got {len(row)}", path=path, line=line)
            question, response, value = row[0].strip(), row[1].strip(), row[2]
            requirement = row[3].strip() if len(row) > 3 else ""
            if question.startswith(USAGE + ":"):
                parts = question.split(":")
                if len(parts) != 3:
                    raise BadDeclaration(f"malformed question id {question!r}: expected "
                                         f"{USAGE}:PSL_<DATA TYPE>:<QUESTION>", path=path, line=line)
                data_type = _data_type(parts[1], path=path, line=line)
                _usage_row(entry, data_type, parts[2], response, value, path=path, line=line)
            elif question.startswith("PSL_DATA_TYPES_"):
                data_type = _data_type(response, path=path, line=line)
                if CATEGORY_QUESTIONS[DATA_TYPES[data_type].category] != question:
                    raise BadDeclaration(f"data type {response!r} does not belong to {question!r}", path=path,
                                         line=line)
                if _bool(value, path=path, line=line, what=f"{response} selected"):
                    selected[data_type] = line
            else:
                if question not in _TOP_IDS:
                    # A question this version does not know: keep it for export and say so, never drop it.
                    log.warning("%s:%d: unknown Data safety question %r kept as is", path, line, question)
                if value.strip() == "":
                    continue
                if requirement in _CHOICE:
                    _bool(value, path=path, line=line, what=_answer_key(question, response))
                declaration.form_answers[_answer_key(question, response)] = value.strip()
    except csv.Error as exc:
        raise BadDeclaration(f"malformed CSV: {exc}", path=path, line=reader.line_num) from None

    for data_type, line in selected.items():
        item = usage.get(data_type)
        if item is None or not (item.collected or item.shared):
            raise BadDeclaration(f"data type PSL_{data_type.upper()} is selected but not answered as collected "
                                 "or shared", path=path, line=line)
        item.source = f"{path}:{line}"
    for data_type, item in usage.items():
        if not (item.collected or item.shared):
            if item.purposes or item.shared_purposes:
                raise BadDeclaration(f"data type PSL_{data_type.upper()} has purposes but is neither collected "
                                     "nor shared", path=path, line=int(str(item.source).rsplit(":", 1)[1]))
            continue
        if data_type not in selected:
            log.warning("%s: PSL_%s is answered as collected/shared but not selected in its category; "
                        "taken as declared", path, data_type.upper())
        declaration.data_types[data_type] = item
    declaration.data_types = {k: declaration.data_types[k] for k in DATA_TYPES if k in declaration.data_types}
    return declaration


def _usage_row(get: Callable[[str, int], DeclaredDataType], data_type: str, sub: str, response: str, value: str,
               *, path: str, line: int) -> None:
    is_set = _bool(value, path=path, line=line, what=f"{data_type} {sub} {response}".strip()) \
        if sub != SUB_EPHEMERAL or value.strip() else None
    if sub == SUB_SHARING:
        if response not in (ONLY_COLLECTED, ONLY_SHARED, BOTH):
            raise BadDeclaration(f"unknown answer {response!r} to {sub}", path=path, line=line)
        if is_set:
            item = get(data_type, line)
            item.collected = item.collected or response in (ONLY_COLLECTED, BOTH)
            item.shared = item.shared or response in (ONLY_SHARED, BOTH)
    elif sub == SUB_EPHEMERAL:
        if is_set is not None:
            get(data_type, line).ephemeral = is_set
    elif sub == SUB_CONTROL:
        if response not in (CONTROL_OPTIONAL, CONTROL_REQUIRED):
            raise BadDeclaration(f"unknown answer {response!r} to {sub}", path=path, line=line)
        if is_set:
            get(data_type, line).optional = response == CONTROL_OPTIONAL
    elif sub in (SUB_COLLECTION_PURPOSE, SUB_SHARING_PURPOSE):
        purpose = _purpose(response, path=path, line=line)
        if is_set:
            item = get(data_type, line)
            target = item.purposes if sub == SUB_COLLECTION_PURPOSE else item.shared_purposes
            if purpose not in target:
                target.append(purpose)
    else:
        raise BadDeclaration(f"unknown data usage question {sub!r}", path=path, line=line)


def _chosen(flag: bool) -> str:
    return "TRUE" if flag else ""


def _flag(value: bool | None) -> str:
    return "" if value is None else ("TRUE" if value else "FALSE")


def dump_datasafety_csv(declaration: Declaration) -> str:
    """The Data safety CSV for a declaration, every question row present, in Play Console's order."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    declared = {k: v for k, v in declaration.data_types.items() if (v.collected or v.shared) and not v.denied}
    answers = dict(declaration.form_answers)
    answers["PSL_DATA_COLLECTION_COLLECTS_PERSONAL_DATA"] = "TRUE" if declared else "FALSE"
    for question, response, requirement, label in TOP_QUESTIONS:
        writer.writerow([question, response, answers.pop(_answer_key(question, response), ""), requirement, label])
    for key, value in answers.items():  # answers to questions this version does not know: kept, not dropped
        question, _, response = key.partition(":")
        writer.writerow([question, response, value, "", ""])
    for category, question in CATEGORY_QUESTIONS.items():
        for data_type, info in DATA_TYPES.items():
            if info.category == category:
                writer.writerow([question, info.psl_id, _chosen(data_type in declared), "MULTIPLE_CHOICE",
                                 f"{_CATEGORY_LABELS[category]} / {info.label}"])
    for data_type, info in DATA_TYPES.items():
        item = declared.get(data_type)
        prefix = f"{USAGE}:{info.psl_id}"
        label = f"Data usage and handling ({info.label})"
        writer.writerow([f"{prefix}:{SUB_SHARING}", ONLY_COLLECTED, _chosen(bool(item and item.collected)),
                         "MULTIPLE_CHOICE", f"{label} / Collected"])
        writer.writerow([f"{prefix}:{SUB_SHARING}", ONLY_SHARED, _chosen(bool(item and item.shared)),
                         "MULTIPLE_CHOICE", f"{label} / Shared"])
        writer.writerow([f"{prefix}:{SUB_EPHEMERAL}", "", _flag(item.ephemeral) if item else "", "MAYBE_REQUIRED",
                         f"{label} / Processed ephemerally?"])
        writer.writerow([f"{prefix}:{SUB_CONTROL}", CONTROL_OPTIONAL, _chosen(bool(item and item.optional is True)),
                         "SINGLE_CHOICE", f"{label} / Users can choose"])
        writer.writerow([f"{prefix}:{SUB_CONTROL}", CONTROL_REQUIRED, _chosen(bool(item and item.optional is False)),
                         "SINGLE_CHOICE", f"{label} / Required"])
        collect_purposes = item.purposes if item and item.collected else []
        # privacy.yaml may give one purpose list for both: Play asks twice, so reuse it for sharing.
        share_purposes = (item.shared_purposes or item.purposes) if item and item.shared else []
        for sub, purposes, verb in ((SUB_COLLECTION_PURPOSE, collect_purposes, "collected"),
                                    (SUB_SHARING_PURPOSE, share_purposes, "shared")):
            for purpose in PURPOSE_ORDER:
                writer.writerow([f"{prefix}:{sub}", "PSL_" + purpose.upper(), _chosen(purpose in purposes),
                                 "MULTIPLE_CHOICE", f"{label} / Why {verb}: {PURPOSES[purpose]}"])
    return buffer.getvalue()
