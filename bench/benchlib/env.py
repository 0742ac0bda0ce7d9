"""The benchmark's own virtualenv (bench/.venv) and the load tool (wrk from Debian)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent
REPO = BENCH.parent
VENV = BENCH / ".venv"
VENV_PYTHON = VENV / "bin" / "python"
STAMP = VENV / ".bench-installed"


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for path in (BENCH / "requirements.txt", REPO / "pyproject.toml"):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def in_venv() -> bool:
    return Path(sys.prefix).resolve() == VENV.resolve()


def ensure_venv() -> None:
    """Create bench/.venv and install the pinned peers and tools plus authgate (editable) into it."""
    if STAMP.exists() and STAMP.read_text() == _fingerprint():
        return
    print("Installing the benchmark's virtualenv in bench/.venv ...", flush=True)
    if not VENV_PYTHON.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    pip = [str(VENV_PYTHON), "-m", "pip", "install", "--quiet"]
    subprocess.run(pip + ["--upgrade", "pip"], check=True)
    subprocess.run(pip + ["-r", str(BENCH / "requirements.txt"), "-e", str(REPO)], check=True)
    STAMP.write_text(_fingerprint())


def reexec_in_venv() -> None:
    """Run this same command again with the benchmark's interpreter."""
    ensure_venv()
    os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), *sys.argv])


def ensure_wrk() -> str:
    path = shutil.which("wrk")
    if path:
        return path
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        sys.exit("wrk is not installed: install it (Debian: apt-get install wrk) and run again.")
    print("Installing wrk (apt-get install wrk) ...", flush=True)
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    return shutil.which("wrk") or sys.exit("apt-get did not install wrk")


def ensure_taskset() -> bool:
    return shutil.which("taskset") is not None
