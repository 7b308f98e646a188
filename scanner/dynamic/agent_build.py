"""Build the Frida agent bundle: `python -m scanner.dynamic.agent_build` (or `make agent`).

The agent (agent/agent.js) imports frida-java-bridge, which Frida 17 no longer carries inside its runtime; the
bundle holds both, compiled by Frida's own compiler, so `divulge monitor` needs neither npm nor network. The
bundle is committed; agent.bundle.digest records the sources it was built from, and a test fails when it is stale.
frida-java-bridge is LGPL-2.0 with the WxWindows exception, which allows shipping it compiled.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

AGENT_DIR = Path(__file__).resolve().parent / "agent"
SOURCES = ("agent.js", "package.json")
BUNDLE = AGENT_DIR / "agent.bundle.js"
DIGEST = AGENT_DIR / "agent.bundle.digest"


def source_digest() -> str:
    digest = hashlib.sha256()
    for name in SOURCES:
        digest.update(name.encode() + b"\0" + (AGENT_DIR / name).read_bytes() + b"\0")
    return digest.hexdigest()


def build() -> Path:
    import frida

    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("agent_build: npm is needed to fetch frida-java-bridge (apt-get install npm)")
    with tempfile.TemporaryDirectory(prefix="divulge-agent-") as tmp:
        root = Path(tmp)
        for name in SOURCES:
            shutil.copyfile(AGENT_DIR / name, root / name)
        subprocess.run([npm, "install", "--no-audit", "--no-fund", "--silent"], cwd=root, check=True)
        compiler = frida.Compiler()
        bundle = compiler.build("agent.js", project_root=str(root), source_maps="omitted", compression="terser")
    BUNDLE.write_text(bundle, encoding="utf-8")
    DIGEST.write_text(source_digest() + "\n", encoding="utf-8")
    return BUNDLE


if __name__ == "__main__":
    path = build()
    print(f"agent_build: wrote {path} ({path.stat().st_size:,} bytes)", file=sys.stderr)
