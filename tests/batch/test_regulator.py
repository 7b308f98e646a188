"""The batch's regulator view (issue 18): per-app PIA drafts linked from the dashboard, and apps x finding families
x SDK owners' countries in the dashboard and regulator-summary.csv."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from scanner.batch.dashboard import rule_family


def test_rule_family() -> None:
    assert rule_family("DVG-XBORDER-002") == "DVG-XBORDER" and rule_family("DVG-SDK-001") == "DVG-SDK"
    assert rule_family("ACME-CUSTOM") == "ACME-CUSTOM"  # a custom id without a number stays whole


def test_regulator_summary_and_pia_drafts(tmp_path: Path, make_input, run_divulge, db_rows) -> None:
    source = make_input(tmp_path / "in", good=("shopping", "news_cn", "hostile"), bad=("not-a-zip",))
    out = tmp_path / "out"
    # The default formats include the per-app PIA draft.
    proc = run_divulge("batch", str(source), "-o", str(out), "--workers", "1", "--timeout", "60")
    assert proc.returncode == 0, proc.stderr
    for app in ("shopping", "news_cn", "hostile"):
        assert "data-tbc" in (out / "apps" / app / "pia.html").read_text(encoding="utf-8")
    html = (out / "dashboard.html").read_text(encoding="utf-8")
    assert 'id="regulator"' in html and 'href="regulator-summary.csv"' in html
    for app in ("shopping", "news_cn", "hostile"):
        assert f'href="apps/{app}/pia.html"' in html
    assert "&lt;script&gt;" in html and "<script>alert(" not in html  # the hostile label, in the new table too
    with (out / "regulator-summary.csv").open(newline="", encoding="utf-8") as handle:
        table = {r["app_id"]: r for r in csv.DictReader(handle)}
    assert set(table) == {"shopping", "news_cn", "hostile"}, "apps that could not be scanned have no row"
    db = out / "batch.sqlite"
    for app, row in table.items():
        stored = dict(db_rows(db, f"SELECT rule_id, COUNT(*) FROM findings WHERE app_id='{app}' GROUP BY rule_id"))
        families = {k: int(v) for k, v in row.items() if k.startswith("DVG-")}
        assert sum(families.values()) == sum(stored.values())
        for rule, n in stored.items():
            assert families[rule_family(rule)] >= n
        assert row["pia"] == f"apps/{app}/pia.html"
    # The countries of the SDK owners: the Chinese app's are Chinese, the shopping app's American and Israeli.
    countries = {a: dict(re.findall(r"([A-Z?]{1,2}):(\d+)", r["sdk_owner_countries"])) for a, r in table.items()}
    assert set(countries["news_cn"]) == {"CN"} and {"US", "IL"} <= set(countries["shopping"])
    # One column per family of the rules that fired in any app, no more.
    fired = {rule_family(r) for (r,) in db_rows(db, "SELECT DISTINCT rule_id FROM findings")}
    assert {k for k in next(iter(table.values())) if k.startswith("DVG-")} == fired and len(fired) >= 3
