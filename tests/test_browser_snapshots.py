"""Serving while data arrives, in a real Chromium against `streamlit run`: an ingest in another process never
shows a lock error, and an idle page shows the new data soon after the ingest finishes, without a click."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.browser import CHROMIUM, chromium_page, streamlit_server, wait_for_app
from tests.test_snapshots import files, run_ingest  # noqa: F401 (files is a fixture)

pytestmark = pytest.mark.browser

if not Path(CHROMIUM).exists():
    if os.environ.get("GOODHART_REQUIRE_BROWSER"):
        raise RuntimeError(f"GOODHART_REQUIRE_BROWSER is set but there is no Chromium at {CHROMIUM}")
    pytest.skip(f"no Chromium at {CHROMIUM} (.ci/run installs Debian's)", allow_module_level=True)

EMPTY = "The database holds no usage yet"


def test_an_idle_page_shows_data_ingested_by_another_process(tmp_path, files):  # noqa: F811
    db = tmp_path / "usage.duckdb"
    org = run_ingest(db, files[:2])  # teams and people only: the app's "no usage yet" page
    assert org.wait(120) == 0, org.stderr.read().decode()
    with streamlit_server(db) as url, chromium_page() as page:
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(url)
        page.get_by_text(EMPTY).wait_for(timeout=60_000)
        writer = run_ingest(db, files)  # holds the database read-write while the page is open
        while writer.poll() is None:
            text = page.inner_text("body")
            assert "Cannot open the database" not in text and "Conflicting lock" not in text
            time.sleep(0.2)
        assert writer.returncode == 0, writer.stderr.read().decode()
        finished = time.perf_counter()
        wait_for_app(page, timeout_ms=60_000)  # the Overview's metrics and charts, with nobody clicking
        shown_s = time.perf_counter() - finished
        print(f"new data shown {shown_s:.1f} s after the ingest finished")
        assert shown_s < 60
        assert page.get_by_text(EMPTY).count() == 0
        assert page.locator('[data-testid="stException"]').count() == 0
        assert not errors, errors
