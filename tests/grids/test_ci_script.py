""".ci/run installs python3-venv when python3 is there but cannot make a venv (Debian 12)."""

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = (ROOT / ".ci" / "run").read_text()


def _venv_works(path_prefix: str = "") -> int:
    start = SCRIPT.index("venv_works() {")
    end = SCRIPT.index("\n}\n", start) + 3
    shell = f"{path_prefix}\n{SCRIPT[start:end]}\nvenv_works"
    return subprocess.run(["bash", "-c", shell], timeout=120, check=False).returncode


def test_probe_accepts_a_python_that_makes_venvs():
    assert _venv_works() == 0


def test_probe_refuses_python_without_the_venv_module(tmp_path):
    # Given a python3 like Debian's without python3-venv: "ensurepip is not available"
    fake = tmp_path / "python3"
    fake.write_text(
        '#!/bin/sh\nif [ "$1" = "-m" ] && [ "$2" = "venv" ]; then\n'
        '  echo "The virtual environment was not created successfully because ensurepip is not'
        ' available." >&2; exit 1\nfi\nexit 0\n'
    )
    fake.chmod(0o755)

    assert _venv_works(f'export PATH="{tmp_path}:$PATH"') == 1


def test_install_step_runs_when_the_probe_fails():
    condition = next(line for line in SCRIPT.splitlines() if line.startswith("if ! command -v npm"))

    assert "! venv_works" in condition
