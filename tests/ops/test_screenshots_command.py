"""The README's screenshots come from a command in the repo: `scripts/screenshots`
runs a real demo (`manage.py serve`, its simulator and worker) and Chromium."""

import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]

# A demo server, its worker and Chromium, each started cold: on a loaded machine, minutes.
pytestmark = [pytest.mark.browser, pytest.mark.timeout(360)]


def test_the_screenshots_command_makes_desktop_and_phone_pngs_under_300_kb_of_a_set_and_of_create(tmp_path):
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "screenshots"), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    shots = (
        ("desktop.png", (1440, 900)),
        ("phone.png", (390, 844)),
        ("create.png", (1440, 900)),
        ("create-phone.png", (390, 844)),
    )
    for name, size in shots:
        path = tmp_path / name
        assert Image.open(path).size == size
        assert path.stat().st_size < 300_000
        assert f"{name}: " in done.stdout
    # The committed ones are what the README shows.
    readme = (ROOT / "README.md").read_text()
    for name, _size in shots:
        assert f"docs/screenshots/{name}" in readme
        assert (ROOT / "docs" / "screenshots" / name).stat().st_size < 300_000
    assert "make screenshots" in readme
