"""With --sdk-db, divulge finds at least every tracker exodus-core finds with the same list."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.knowledge.sdks import load_catalog
from scanner.static import StaticOptions, analyze_apk

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "reference"
EXODUS_JSON = SHARED / "sdk-signatures" / "exodus-trackers.json"


def _apks() -> list[Path]:
    corpus = sorted((SHARED / "corpus" / "apks").glob("*.apk"))
    fixtures = sorted((REPO / "fixtures" / "apks").glob("*.apk"))
    return corpus + fixtures


@pytest.fixture(scope="module")
def exodus_catalog(shared_reference):
    return load_catalog(EXODUS_JSON)


@pytest.mark.parametrize("apk", _apks(), ids=lambda p: p.name)
def test_superset_of_exodus_core(apk: Path, exodus_catalog, require_tool, exodus_trackers) -> None:
    require_tool("dexdump")  # exodus-core lists classes with dexdump
    theirs = {t["id"] for t in exodus_trackers(apk)}
    report = analyze_apk(apk, StaticOptions(sdk_db=EXODUS_JSON), catalog=exodus_catalog)
    ours: set[int] = set()
    for hit in report.sdks:
        if hit.id.startswith("exodus-"):
            ours.add(int(hit.id.removeprefix("exodus-")))
        for evidence in hit.evidence:
            if evidence.basis == "exodus":
                ours.add(int(evidence.detail.split()[2]))
    assert theirs <= ours, f"exodus-core found {sorted(theirs - ours)} that divulge missed"


def test_exodus_merge_credits_our_sdk(exodus_catalog, fixture_apk) -> None:
    """An Exodus tracker whose classes belong to a catalog SDK is evidence on that SDK, not a duplicate."""
    report = analyze_apk(fixture_apk("news_cn"), catalog=exodus_catalog)
    ids = {h.id for h in report.sdks}
    assert "umeng-analytics" in ids
    umeng = next(h for h in report.sdks if h.id == "umeng-analytics")
    assert "exodus" in umeng.bases


def test_bad_exodus_file(tmp_path: Path) -> None:
    from scanner.errors import BadCatalog

    bad = tmp_path / "trackers.json"
    bad.write_text('{"not": "trackers"}')
    with pytest.raises(BadCatalog, match="not an Exodus tracker list"):
        load_catalog(bad)
    bad.write_text("{oops")
    with pytest.raises(BadCatalog, match="cannot read Exodus"):
        load_catalog(bad)


def test_an_imported_list_has_no_role(exodus_catalog) -> None:  # type: ignore[no-untyped-def]
    """Exodus lists say nothing of a tracker's role: its entries' role is unknown (None), which the rules read as
    a third party (docs/sdk-catalog.md, "Role"); the built-in entries keep theirs."""
    catalog = exodus_catalog
    imported = [e for e in catalog.entries.values() if e.source == "exodus"]
    assert imported and all(e.role is None and catalog.roles[e.id].role is None for e in imported)
    assert catalog.roles["appsflyer"].role == "third_party"


@pytest.mark.parametrize(("old", "new", "needle", "key"), [
    ("role: third_party", "role: third-party", "unknown role 'third-party'; a role is one of service_provider, "
     "third_party, depends (did you mean 'third_party'?)", "role"),
    ("role: third_party", "role: depends", "`role: depends` needs role_setting", "role"),
    ("role: third_party", "role: third_party\n  role_setting: the ads switch", "only go with `role: depends`",
     "role_setting"),
])
def test_a_bad_role_names_file_and_line(tmp_path: Path, old: str, new: str, needle: str, key: str) -> None:
    from scanner.errors import BadCatalog

    text = ("- id: first-sdk\n  name: First\n  owner: First Inc\n  country: US\n  categories: [analytics]\n"
            "  code: [com.first]\n  role: service_provider\n\n"
            "- id: acme-ads\n  name: Acme Ads\n  owner: Acme Inc\n  country: US\n  categories: [advertising]\n"
            "  code: [com.acme.ads]\n  role: third_party\n  role_source: https://acme.example/terms\n")
    bad = tmp_path / "extra.yaml"
    bad.write_text(text.replace(old, new), encoding="utf-8")
    with pytest.raises(BadCatalog) as info:
        load_catalog(bad)
    assert needle in info.value.message and info.value.path == str(bad)
    lines = bad.read_text(encoding="utf-8").splitlines()
    assert info.value.line is not None and lines[info.value.line - 1].lstrip().startswith(key + ":"), info.value
    assert info.value.line > 9, "the line is in the entry that is wrong, not the first one"
