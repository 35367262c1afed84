"""The load test, small: three browser sessions (an admin, a team lead, a member) click through the app while
one ingest runs in another process; no render fails and the idle Data page shows the new day."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests import load_sessions
from tests.browser import CHROMIUM

pytestmark = [pytest.mark.browser, pytest.mark.load]

if not Path(CHROMIUM).exists():
    if os.environ.get("GOODHART_REQUIRE_BROWSER"):
        raise RuntimeError(f"GOODHART_REQUIRE_BROWSER is set but there is no Chromium at {CHROMIUM}")
    pytest.skip(f"no Chromium at {CHROMIUM} (.ci/run installs Debian's)", allow_module_level=True)


def test_sessions_render_without_failures_while_an_ingest_publishes(tmp_path):
    args = load_sessions.parser().parse_args(
        [
            "--sessions=3",
            "--roles=Admin,Team lead,Member",
            "--ingests=1",
            "--users=200",
            "--days=30",
            "--minutes=0.5",
            "--warmup=8",
            "--think-min=1",
            "--think-max=2",
            "--stagger=0.5",
            "--timeout=60",
        ]
    )
    summary = load_sessions.run_load(args, tmp_path)
    assert summary["failed"] == 0, summary["failures"]
    assert summary["renders"] >= 6
    assert not summary["ingests_failed"], summary["ingests"]
    (ingest,) = summary["ingests"]
    assert ingest["shown_idle_after_s"] is not None and ingest["shown_idle_after_s"] < 60, ingest
    assert ingest["stale_clicks"] == 0
