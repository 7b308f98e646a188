"""`divulge static` on every fixture app agrees with the app's ground truth (fixtures/apps/*/expected.yaml)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from scanner.knowledge.sdks import load_catalog
from scanner.model import SdkStatus
from scanner.static import analyze_apk

REPO = Path(__file__).resolve().parents[2]
APPS = sorted(p.parent for p in (REPO / "fixtures" / "apps").glob("*/expected.yaml"))


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


@pytest.fixture(scope="module")
def reports(catalog):
    cache: dict[str, object] = {}

    def get(app: Path):
        if app.name not in cache:
            cache[app.name] = analyze_apk(REPO / "fixtures" / "apks" / f"{app.name}.apk", catalog=catalog)
        return cache[app.name]

    return get


@pytest.mark.parametrize("app", APPS, ids=lambda p: p.name)
def test_identity_and_permissions(app: Path, reports) -> None:
    expected = yaml.safe_load((app / "expected.yaml").read_text(encoding="utf-8"))
    report = reports(app)
    assert report.app.package == expected["package"]
    assert report.app.label == expected["label"]
    assert report.app.target_sdk == expected["target_sdk"]
    assert {p.name for p in report.permissions} == set(expected["permissions"])
    assert report.dex_files == expected["dex_files"]
    for perm in report.permissions:
        if perm.name in ("android.permission.READ_PHONE_STATE", "android.permission.ACCESS_FINE_LOCATION"):
            assert perm.protection_level == "dangerous" and perm.data_types
    man = expected.get("manifest", {})
    for key, value in man.get("meta_data", {}).items():
        assert report.manifest.meta_data.get(key) == str(value)
    for comp in man.get("components", []):
        got = [c for c in report.manifest.components if c.name == comp["name"]]
        assert got and got[0].exported == comp["exported"], comp


@pytest.mark.parametrize("app", APPS, ids=lambda p: p.name)
def test_sdks_status_and_basis(app: Path, reports) -> None:
    expected = yaml.safe_load((app / "expected.yaml").read_text(encoding="utf-8"))
    hits = {h.id: h for h in reports(app).sdks}
    for sdk_id, want in (expected.get("sdks") or {}).items():
        assert sdk_id in hits, f"{sdk_id} not found; found {sorted(hits)}"
        assert hits[sdk_id].status == SdkStatus(want["status"]), (sdk_id, hits[sdk_id].evidence)
        want_bases = {e["basis"] for e in want.get("evidence", [])}
        assert want_bases <= set(hits[sdk_id].bases), (sdk_id, hits[sdk_id].evidence)
    for sdk_id in expected.get("not_sdks") or []:
        assert sdk_id not in hits or hits[sdk_id].status == SdkStatus.REFERENCED and app.name == "reference_only"


@pytest.mark.parametrize("app", APPS, ids=lambda p: p.name)
def test_api_uses_attributed_to_callers(app: Path, reports) -> None:
    expected = yaml.safe_load((app / "expected.yaml").read_text(encoding="utf-8"))
    got = {(u.api, u.caller, u.sdk, u.data_type, u.identifier) for u in reports(app).api_uses}
    for use in expected.get("api_uses") or []:
        key = (use["api"], use["caller"], use["sdk"], use["data_type"], use.get("identifier"))
        assert key in got, f"missing {key}; have {sorted(got)}"


@pytest.mark.parametrize("app", APPS, ids=lambda p: p.name)
def test_endpoints_attributed(app: Path, reports) -> None:
    expected = yaml.safe_load((app / "expected.yaml").read_text(encoding="utf-8"))
    got = {e.url: e.sdk for e in reports(app).endpoints}
    for endpoint in expected.get("endpoints") or []:
        assert endpoint["url"] in got, f"{endpoint['url']} not among {sorted(got)}"
        assert got[endpoint["url"]] == endpoint["sdk"]


def test_referenced_only_is_not_present(reports) -> None:
    report = reports(REPO / "fixtures" / "apps" / "reference_only")
    admob = next(h for h in report.sdks if h.id == "google-admob")
    assert admob.status == SdkStatus.REFERENCED and admob.bases == ["reference"]


def test_cli_json_schema(fixture_apk) -> None:
    proc = subprocess.run([str(Path(sys.executable).with_name("divulge")), "static", str(fixture_apk("shopping")),
                           "--format", "json"], capture_output=True, text=True, timeout=120, check=True)
    doc = json.loads(proc.stdout)
    assert doc["schema"] == "divulge/static/1"
    assert set(doc["app"]) >= {"package", "version_name", "version_code", "min_sdk", "target_sdk", "sha256"}
    assert all(set(p) >= {"name", "protection_level", "data_types"} for p in doc["permissions"])
    assert all(set(s) >= {"id", "name", "owner", "categories", "evidence", "status"} for s in doc["sdks"])
    assert all(set(u) >= {"api", "data_type", "caller", "sdk"} for u in doc["api_uses"])
    assert "exported_components" in doc["manifest"]
    text = subprocess.run([str(Path(sys.executable).with_name("divulge")), "static", str(fixture_apk("shopping"))],
                          capture_output=True, text=True, timeout=120, check=True).stdout
    assert "Third-party SDKs" in text and "org.divulge.fixture.shopping" in text
