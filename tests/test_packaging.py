"""A non-editable install of the built wheel finds its catalogs, rules and templates."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_installs_and_runs(tmp_path: Path) -> None:
    wheel_dir = tmp_path / "wheel"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(wheel_dir), str(REPO)], check=True, timeout=300)
    wheels = list(wheel_dir.glob("divulge-*.whl"))
    assert len(wheels) == 1
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheels[0])],
                   check=True, timeout=300)
    # Dependencies come from the test venv's site-packages (already installed); our own code only from
    # the wheel: the test venv's editable hook lives in a .pth file, which PYTHONPATH does not run.
    env = dict(os.environ, PYTHONPATH=sysconfig.get_paths()["purelib"])
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    where = subprocess.run([str(py), "-c", "import scanner, scanner.rules, scanner.reports; "
                            "print(scanner.__file__); print(scanner.rules.__file__)"],
                           cwd=workdir, env=env, capture_output=True, text=True, check=True)
    assert str(env_dir) in where.stdout and str(REPO) not in where.stdout, where.stdout
    proc = subprocess.run([str(env_dir / "bin" / "divulge"), "static", str(REPO / "fixtures/apks/news_cn.apk"),
                           "--format", "json"], cwd=workdir, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["schema"] == "divulge/static/1"
    assert {"umeng-analytics", "jpush"} <= {s["id"] for s in report["sdks"]}
    files = subprocess.run([str(py), "-c", "from importlib.resources import files; "
                            "r = files('scanner.rules'); t = files('scanner.reports');"
                            "print(sum(1 for p in r.joinpath('sdks').iterdir()));"
                            "print(r.joinpath('catalogs/apis.yaml').is_file())"],
                           cwd=workdir, env=env, capture_output=True, text=True, check=True)
    sdk_files, apis = files.stdout.split()
    assert int(sdk_files) >= 5 and apis == "True"
    # The whole pipeline from the wheel: rule packs (both), schemas, regulation data, vocabularies, templates.
    out = tmp_path / "out"
    scan = subprocess.run([str(env_dir / "bin" / "divulge"), "scan", str(REPO / "fixtures/apks/news_cn.apk"),
                           "--policy", str(REPO / "fixtures/policies/news_cn_zh.html"),
                           "--traffic", str(REPO / "fixtures/captures/news_cn.har"),
                           "--device", str(REPO / "fixtures/devices/test-phone.yaml"),
                           "--format", "html,json,sarif,md,junit", "--lang", "zh", "-o", str(out), "--fail-on", "none"],
                          cwd=workdir, env=env, capture_output=True, text=True, timeout=300)
    assert scan.returncode == 0, scan.stderr
    findings = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    assert findings["schema"] == "divulge/findings/1" and findings["findings"]
    assert any(rule_id.startswith("DVG-POLICY-") for rule_id in findings["rule_pack"]["rule_ids"])
    assert "<html" in (out / "report.html").read_text(encoding="utf-8")
