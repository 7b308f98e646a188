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
