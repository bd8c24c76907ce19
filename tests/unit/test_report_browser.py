"""The generated page in a real browser: headless Chromium renders and screenshots it.

Also writes reports/screenshot-example.png (git-ignored) for a human look.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from fixtures.report import trend
from fixtures.report.render import write_report
from fixtures.report.sample import sample_run
from tests.report.links import check_links

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def screenshot(page: Path, png: Path, profile: Path) -> None:
    """Render ``page`` with headless Chromium into ``png`` (1280x2000)."""
    subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-quic",
            f"--user-data-dir={profile}",
            f"--screenshot={png}",
            "--window-size=1280,2000",
            page.resolve().as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_page_renders_in_chromium(tmp_path: Path, pytestconfig: pytest.Config):
    reports = tmp_path / "reports"
    for day, takeover in enumerate([11.0, 13.5]):  # earlier runs, for the trend section
        write_report(
            sample_run(takeover, seed=day, started=1_795_000_000.0 + day * 86400),
            reports / f"lab-earlier-{day}",
        )
    past = trend.load_runs([reports], cluster="lab")
    page = write_report(sample_run(), reports / "lab-20261124T170000Z", past=past)

    relative = check_links(page)  # every relative href/src is a file of the run dir
    assert any(link.startswith("evidence/") for link in relative)

    png = tmp_path / "page.png"
    screenshot(page, png, tmp_path / "chromium-profile")
    assert png_size(png) == (1280, 2000)
    assert png.stat().st_size > 20_000  # a blank page compresses to a few KB

    keep = pytestconfig.rootpath / "reports"
    if keep.is_dir():
        shutil.copyfile(png, keep / "screenshot-example.png")
