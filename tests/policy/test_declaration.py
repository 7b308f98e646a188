"""privacy.yaml: read, write back, and bad declarations get file, line and the reason."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest

from scanner.errors import BadDeclaration
from scanner.knowledge.regulation import app_types, schema
from scanner.model import DATA_TYPES, PURPOSES
from scanner.policy.declaration import dump_privacy_yaml, load_declaration, parse_privacy_yaml

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "declarations"

GOOD = """\
schema: divulge/privacy/1
app:
  package: com.example.news
  category: 新闻资讯类
data_types:
  device_id:
    collected: true
    purposes: [analytics]
  precise_location:
    collected: true
    shared: true
    purposes: [advertising]
not_collected: [contacts]
third_parties:
  - name: Umeng Analytics
    sdk: umeng-analytics
    data_types: [device_id]
"""


def test_reads_every_part() -> None:
    decl = parse_privacy_yaml(GOOD, "p.yaml")
    assert decl.package == "com.example.news" and decl.category_cn == "news"
    assert decl.declares_collected("device_id") and decl.declares_shared("precise_location")
    assert not decl.declares_shared("device_id")
    assert decl.data_types["contacts"].denied and not decl.declares_collected("contacts")
    assert decl.data_types["device_id"].source == "p.yaml:6"
    assert decl.parties[0].sdk_id == "umeng-analytics" and decl.parties[0].source == "p.yaml:15"


def test_a_party_role_is_read_and_written_back() -> None:
    """`role` under third_parties: what the developer says the party is (issue 19); `depends` is no answer."""
    text = GOOD.replace("    sdk: umeng-analytics\n", "    sdk: umeng-analytics\n    role: service_provider\n")
    decl = parse_privacy_yaml(text, "p.yaml")
    assert decl.parties[0].role == "service_provider"
    assert parse_privacy_yaml(dump_privacy_yaml(decl), "q.yaml").parties[0].role == "service_provider"
    assert parse_privacy_yaml(GOOD, "p.yaml").parties[0].role is None
    with pytest.raises(BadDeclaration):
        parse_privacy_yaml(GOOD.replace("    sdk: umeng-analytics\n", "    sdk: umeng-analytics\n    role: depends\n"),
                           "p.yaml")


def test_round_trip_through_yaml() -> None:
    decl = parse_privacy_yaml(GOOD, "p.yaml")
    again = parse_privacy_yaml(dump_privacy_yaml(decl), "q.yaml")
    strip = lambda d: {k: (v.collected, v.shared, v.purposes, v.denied) for k, v in d.data_types.items()}  # noqa: E731
    assert strip(again) == strip(decl)
    assert [(p.name, p.sdk_id, p.data_types) for p in again.parties] == [(p.name, p.sdk_id, p.data_types) for p in decl.parties]


@pytest.mark.parametrize(("old", "new", "line", "needle"), [
    ("  precise_location:", "  location:", 9, "unknown data type 'location'"),
    ("purposes: [analytics]", "purposes: [analytic]", 8, "unknown purpose 'analytic'"),
    ("category: 新闻资讯类", "category: newspaper", 4, "unknown app category (2021 necessary-PI scope type) 'newspaper'"),
    ("  package:", "  pakage:", 3, "unknown key 'pakage'"),
    ("    collected: true\n    purposes: [analytics]", "    shared: false", 6, "neither collected nor shared"),
    ("not_collected: [contacts]", "not_collected: [device_id]", 13, "both declared"),
    ("    collected: true\n    shared: true", "    collected: yes please\n    shared: true", 10, "expected boolean"),
    ("  - name: Umeng Analytics\n", "  - nam: Umeng Analytics\n", 15, "unknown key 'nam'"),
    ("    sdk: umeng-analytics\n", "    sdk: umeng-analytics\n    role: processor\n", 17, "'processor'"),
])
def test_bad_declarations_name_file_line_and_reason(tmp_path: Path, old: str, new: str, line: int, needle: str) -> None:
    assert old in GOOD
    path = tmp_path / "privacy.yaml"
    path.write_text(GOOD.replace(old, new), encoding="utf-8")
    with pytest.raises(BadDeclaration) as info:
        load_declaration(path)
    assert info.value.path == str(path)
    assert info.value.line == line, str(info.value)
    assert needle in str(info.value)


def test_suggestions_for_misspelt_data_types(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("data_types:\n  device_ids: {collected: true}\n", encoding="utf-8")
    with pytest.raises(BadDeclaration, match="did you mean 'device_id'"):
        load_declaration(path)


@pytest.mark.parametrize(("text", "needle"), [
    ("", "empty declaration"),
    ("- just\n- a list\n", "expected a mapping"),
    ("data_types: {device_id: {collected: true}}\ndata_types: {}\n", "duplicate key 'data_types'"),
    ("data_types: [\n", "invalid YAML"),
])
def test_malformed_files(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(BadDeclaration, match=needle):
        load_declaration(path)


def test_unsupported_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(BadDeclaration, match="no such file"):
        load_declaration(tmp_path / "nope.yaml")
    (tmp_path / "p.json").write_text("{}", encoding="utf-8")
    with pytest.raises(BadDeclaration, match="JSON declaration is not supported"):
        load_declaration(tmp_path / "p.json")


def test_binary_junk_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_bytes(b"\xff\xfe\x00junk\x89PNG")
    with pytest.raises(BadDeclaration, match="not UTF-8"):
        load_declaration(path)


def test_schema_enums_match_the_model() -> None:
    privacy = schema("privacy.schema.json")
    jsonschema.Draft202012Validator.check_schema(privacy)
    types = privacy["properties"]["data_types"]["propertyNames"]["enum"]
    purposes = privacy["properties"]["third_parties"]["items"]["properties"]["purposes"]["items"]["enum"]
    assert sorted(types) == sorted(DATA_TYPES) and sorted(purposes) == sorted(PURPOSES)
    categories = privacy["properties"]["app"]["properties"]["category"]["enum"]
    assert {t.id for t in app_types().values()} | {t.zh for t in app_types().values()} == set(categories)


@pytest.mark.parametrize("name", ["shopping", "news_cn", "weather", "utility"])
def test_fixture_declarations_load(name: str) -> None:
    yaml_decl = load_declaration(FIXTURES / f"{name}.privacy.yaml")
    csv_decl = load_declaration(FIXTURES / f"{name}.datasafety.csv")
    assert yaml_decl.package == f"org.divulge.fixture.{name}"
    active = {k for k, v in yaml_decl.data_types.items() if not v.denied}
    assert set(csv_decl.data_types) == active
    for key in active:
        assert csv_decl.data_types[key].collected == yaml_decl.data_types[key].collected
        assert sorted(csv_decl.data_types[key].purposes) == sorted(yaml_decl.data_types[key].purposes)
