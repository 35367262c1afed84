"""The load test, small: three sessions (an admin, a team lead, a member) click through the app while one ingest
runs in another process; no render fails and the idle Data page shows the new day. Once with protocol clients
(tests/streamlit_client.py), in the default run, and once with real Chromium sessions, marked `load` (left out
of the default run: timing-sensitive on two shared cores)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests import load_sessions
from tests.browser import CHROMIUM

ROLES = ("Admin", "Team lead", "Member")


def small_run(client: str, **changes) -> list[str]:
    settings = {
        "client": client,
        "sessions": 3,
        "roles": ",".join(ROLES),
        "ingests": 1,
        "users": 200,
        "days": 30,
        "minutes": 0.5,
        "warmup": 8,
        "think-min": 1,
        "think-max": 2,
        "stagger": 0.5,
        "timeout": 60,
        **changes,
    }
    return [f"--{name}={value}" for name, value in settings.items()]


def assert_clean(summary: dict) -> None:
    assert summary["failed"] == 0, summary["failures"]
    assert not summary["ingests_failed"], summary["ingests"]
    (ingest,) = summary["ingests"]
    assert ingest["shown_idle_after_s"] is not None and ingest["shown_idle_after_s"] < 60, ingest
    assert ingest["stale_clicks"] == 0


def test_protocol_sessions_render_without_failures_while_an_ingest_publishes(tmp_path):
    # about 30 s, most of it waiting for the idle page's fragment to pick the new data up: a default test
    args = load_sessions.parser().parse_args(small_run("protocol", minutes=0.25, warmup=3))
    run = load_sessions.run_sessions(args, tmp_path)
    summary = load_sessions.summarise(run)
    assert summary["client"] == "protocol"
    assert_clean(summary)
    for session, role in enumerate(ROLES):  # each role got past its first load and its switch, and clicked on
        clicked = [r for r in run.renders if r.session == session and not r.page.startswith("(")]
        assert clicked, (role, [(r.page, r.failure) for r in run.renders if r.session == session])
    idle_data = [r for r in run.renders if r.session == -1 and r.page == "Data" and not r.failure]
    assert idle_data and idle_data[0].last_day, "the idle session's Data page showed no last day"


@pytest.mark.load
@pytest.mark.browser
def test_browser_sessions_render_without_failures_while_an_ingest_publishes(tmp_path):
    if not Path(CHROMIUM).exists():
        if os.environ.get("GOODHART_REQUIRE_BROWSER"):
            raise RuntimeError(f"GOODHART_REQUIRE_BROWSER is set but there is no Chromium at {CHROMIUM}")
        pytest.skip(f"no Chromium at {CHROMIUM} (.ci/run installs Debian's)")
    args = load_sessions.parser().parse_args(small_run("browser"))
    summary = load_sessions.run_load(args, tmp_path)
    assert summary["client"] == "browser"
    assert_clean(summary)
    assert summary["renders"] >= 6
