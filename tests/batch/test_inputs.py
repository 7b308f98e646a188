"""Batch inputs: a folder of APKs with declarations and captures matched by name, or a CSV; bad input names its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.batch.inputs import BadBatchInput, load_jobs, safe_id


def touch(path: Path, text: str = "x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_folder_matches_declarations_and_captures(tmp_path: Path) -> None:
    touch(tmp_path / "apks" / "weather.apk")
    touch(tmp_path / "apks" / "sub" / "shop.apk")
    touch(tmp_path / "policies" / "weather.yaml")
    touch(tmp_path / "policies" / "shop" / "privacy.yaml")
    touch(tmp_path / "traffic" / "weather.har")
    touch(tmp_path / "traffic" / "weather.flows")
    touch(tmp_path / "traffic" / "shop" / "a.har")
    jobs = load_jobs(tmp_path / "apks", policies=tmp_path / "policies", traffic=tmp_path / "traffic")
    by_id = {j.app_id: j for j in jobs}
    assert sorted(by_id) == ["sub__shop", "weather"]
    assert by_id["weather"].declaration == (tmp_path / "policies" / "weather.yaml").resolve()
    assert [p.name for p in by_id["weather"].captures] == ["weather.flows", "weather.har"]
    assert by_id["sub__shop"].declaration == (tmp_path / "policies" / "shop" / "privacy.yaml").resolve()
    assert [p.name for p in by_id["sub__shop"].captures] == ["a.har"]


def test_two_declarations_for_one_app_is_an_error(tmp_path: Path) -> None:
    touch(tmp_path / "apks" / "weather.apk")
    touch(tmp_path / "p" / "weather.yaml")
    touch(tmp_path / "p" / "weather.csv")
    with pytest.raises(BadBatchInput, match="several declarations match app 'weather'"):
        load_jobs(tmp_path / "apks", policies=tmp_path / "p")


def test_csv_rows(tmp_path: Path) -> None:
    touch(tmp_path / "a.apk")
    touch(tmp_path / "b.apk")
    touch(tmp_path / "decl" / "a.yaml")
    touch(tmp_path / "cap" / "a1.har")
    touch(tmp_path / "cap" / "a2.har")
    (tmp_path / "apps.csv").write_text(
        "app,declaration,captures,category,id\n"
        "a.apk,decl/a.yaml,cap/a1.har; cap/a2.har,news,first\n"
        "# a comment row\n"
        "\n"
        "b.apk,,,,\n")
    jobs = load_jobs(tmp_path / "apps.csv")
    assert [j.app_id for j in jobs] == ["first", "b"]
    assert jobs[0].declaration == (tmp_path / "decl" / "a.yaml").resolve()
    assert [c.name for c in jobs[0].captures] == ["a1.har", "a2.har"]
    assert jobs[0].category == "news" and jobs[1].declaration is None
    assert jobs[0].source.endswith("apps.csv:2")


@pytest.mark.parametrize(("csv_text", "message"), [
    ("apk,declaration\nx.apk,\n", "apps.csv:1: CSV header needs an 'app' column"),
    ("app,colour\na.apk,red\n", "apps.csv:1: unknown CSV column 'colour'"),
    ("app,declaration\na.apk,\nmissing.apk,\n", "apps.csv:3: APK not found: missing.apk"),
    ("app,declaration\na.apk,nope.yaml\n", "apps.csv:2: declaration not found: nope.yaml"),
    ("app\na.apk\na.apk\n", "apps.csv:3: app id 'a' already used on line 2"),
    ("app\n\n", "no apps to scan"),
])
def test_bad_csv_names_file_and_line(tmp_path: Path, csv_text: str, message: str) -> None:
    touch(tmp_path / "a.apk")
    (tmp_path / "apps.csv").write_text(csv_text)
    with pytest.raises(BadBatchInput) as info:
        load_jobs(tmp_path / "apps.csv")
    assert message in str(info.value)


def test_empty_folder_and_missing_input(tmp_path: Path) -> None:
    with pytest.raises(BadBatchInput, match="no apps to scan"):
        load_jobs(tmp_path)
    with pytest.raises(BadBatchInput, match="no such file or folder"):
        load_jobs(tmp_path / "nope")


def test_safe_id() -> None:
    assert safe_id("a/b c/../d") == "a__b_c__..__d"
    assert safe_id("...") == "app"


def test_privacy_policy_files_are_declarations_too(tmp_path: Path) -> None:
    touch(tmp_path / "apks" / "weather.apk")
    touch(tmp_path / "apks" / "shop.xapk")
    touch(tmp_path / "p" / "weather.pdf")
    touch(tmp_path / "p" / "shop" / "policy.html")
    by_id = {j.app_id: j for j in load_jobs(tmp_path / "apks", policies=tmp_path / "p")}
    assert by_id["weather"].declaration == (tmp_path / "p" / "weather.pdf").resolve()
    assert by_id["shop"].declaration == (tmp_path / "p" / "shop" / "policy.html").resolve()
