"""Play Data safety CSV: the Play Console template imports; our export has its shape and round-trips."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from scanner.errors import BadDeclaration
from scanner.model import DATA_TYPES, Declaration, DeclaredDataType
from scanner.policy.datasafety_csv import HEADER, dump_datasafety_csv, load_datasafety_csv, parse_datasafety_csv


def _template(shared_reference: Path) -> Path:
    return shared_reference / "playstore" / "play_data_safety_csv_template.csv"


def _declaration() -> Declaration:
    decl = Declaration(kind="test", path=None)
    decl.data_types["device_id"] = DeclaredDataType("device_id", collected=True, shared=True, purposes=["analytics"],
                                                     shared_purposes=["advertising"], optional=False, ephemeral=False)
    decl.data_types["precise_location"] = DeclaredDataType("precise_location", collected=True, optional=True,
                                                            purposes=["app_functionality"], ephemeral=True)
    decl.data_types["contacts"] = DeclaredDataType("contacts", shared=True, shared_purposes=["app_functionality"])
    decl.form_answers["PSL_DATA_COLLECTION_ENCRYPTED_IN_TRANSIT"] = "TRUE"
    decl.form_answers["PSL_SUPPORT_DATA_DELETION_BY_USER:DATA_DELETION_YES"] = "TRUE"
    return decl


def test_empty_template_imports_as_nothing_declared(shared_reference: Path) -> None:
    decl = load_datasafety_csv(_template(shared_reference))
    assert decl.data_types == {} and decl.kind == "datasafety-csv"


def test_export_uses_only_question_and_response_ids_of_the_template(shared_reference: Path) -> None:
    with _template(shared_reference).open(encoding="utf-8") as handle:
        template = {(r[0], r[1]) for r in csv.reader(handle)}
    rows = list(csv.reader(io.StringIO(dump_datasafety_csv(_declaration()))))
    assert tuple(rows[0]) == HEADER
    ours = {(r[0], r[1]) for r in rows[1:]}
    assert ours <= template, sorted(ours - template)[:5]
    assert len(ours) >= len(template) - 1 - 5  # every question the template asks (minus its duplicated rows)


def test_round_trip_keeps_everything_the_model_holds() -> None:
    decl = _declaration()
    again = parse_datasafety_csv(dump_datasafety_csv(decl), "x.csv")
    for key, item in decl.data_types.items():
        got = again.data_types[key]
        assert (got.collected, got.shared, got.purposes, got.shared_purposes, got.optional, got.ephemeral) == \
            (item.collected, item.shared, item.purposes, item.shared_purposes, item.optional, item.ephemeral), key
    assert again.form_answers == {**decl.form_answers, "PSL_DATA_COLLECTION_COLLECTS_PERSONAL_DATA": "TRUE"}
    assert list(again.data_types) == [k for k in DATA_TYPES if k in decl.data_types]


def test_filled_template_imports(shared_reference: Path, tmp_path: Path) -> None:
    """Fill the real template the way Play Console does (TRUE in the Response value column) and read it back."""
    with _template(shared_reference).open(encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    chosen = {("PSL_DATA_TYPES_LOCATION", "PSL_APPROX_LOCATION"),
              ("PSL_DATA_USAGE_RESPONSES:PSL_APPROX_LOCATION:PSL_DATA_USAGE_COLLECTION_AND_SHARING", "PSL_DATA_USAGE_ONLY_COLLECTED"),
              ("PSL_DATA_USAGE_RESPONSES:PSL_APPROX_LOCATION:DATA_USAGE_COLLECTION_PURPOSE", "PSL_APP_FUNCTIONALITY"),
              ("PSL_DATA_USAGE_RESPONSES:PSL_APPROX_LOCATION:DATA_USAGE_USER_CONTROL", "PSL_DATA_USAGE_USER_CONTROL_OPTIONAL")}
    for row in rows[1:]:
        if (row[0], row[1]) in chosen:
            row[2] = "true"
        if row[0] == "PSL_DATA_USAGE_RESPONSES:PSL_APPROX_LOCATION:PSL_DATA_USAGE_EPHEMERAL":
            row[2] = "TRUE"
    path = tmp_path / "filled.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    decl = load_datasafety_csv(path)
    item = decl.data_types["approx_location"]
    assert list(decl.data_types) == ["approx_location"]
    assert item.collected and not item.shared and item.purposes == ["app_functionality"]
    assert item.optional is True and item.ephemeral is True


def _csv(*rows: str) -> str:
    return ",".join(HEADER) + "\n" + "\n".join(rows) + "\n"


@pytest.mark.parametrize(("text", "line", "needle"), [
    ("a,b,c\n", 1, "not a Play Data safety CSV"),
    (_csv("PSL_DATA_TYPES_LOCATION,PSL_PRECISE_LOCATON,TRUE,MULTIPLE_CHOICE,x"), 2, "unknown data type 'PSL_PRECISE_LOCATON'"),
    (_csv("PSL_DATA_TYPES_LOCATION,PSL_PRECISE_LOCATION,yes,MULTIPLE_CHOICE,x"), 2, "expected TRUE or FALSE"),
    (_csv("PSL_DATA_TYPES_PERSONAL,PSL_PRECISE_LOCATION,TRUE,MULTIPLE_CHOICE,x"), 2, "does not belong to"),
    (_csv("", "PSL_DATA_USAGE_RESPONSES:PSL_EMAIL:DATA_USAGE_COLLECTION_PURPOSE,PSL_ADS,TRUE,MULTIPLE_CHOICE,x"), 3, "unknown purpose 'PSL_ADS'"),
    (_csv("PSL_DATA_USAGE_RESPONSES:PSL_EMAIL:WHAT,X,TRUE,MULTIPLE_CHOICE,x"), 2, "unknown data usage question 'WHAT'"),
    (_csv("PSL_DATA_TYPES_PERSONAL,PSL_EMAIL,TRUE,MULTIPLE_CHOICE,x"), 2, "selected but not answered as collected or shared"),
    ("", 1, "empty file"),
])
def test_bad_csv_names_line_and_reason(text: str, line: int, needle: str) -> None:
    with pytest.raises(BadDeclaration) as info:
        parse_datasafety_csv(text, "ds.csv")
    assert info.value.line == line and needle in str(info.value), str(info.value)
