"""The Overview in a real Chromium against `streamlit run`: the headline numbers render and match."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from analytics.queries import Warehouse
from analytics.warehouse import connect_read_only
from tests.browser import CHROMIUM, chromium_page, metric_values, open_app, open_page, streamlit_server

pytestmark = pytest.mark.browser

if not Path(CHROMIUM).exists():
    if os.environ.get("GOODHART_REQUIRE_BROWSER"):
        raise RuntimeError(f"GOODHART_REQUIRE_BROWSER is set but there is no Chromium at {CHROMIUM}")
    pytest.skip(f"no Chromium at {CHROMIUM} (.ci/run installs Debian's)", allow_module_level=True)


@pytest.fixture(scope="module")
def app_url(demo_db):
    with streamlit_server(demo_db) as url:
        yield url


def test_overview_headline_renders_in_a_real_browser(app_url, demo_db):
    con = connect_read_only(demo_db)
    want = Warehouse(con).adoption()
    con.close()
    with chromium_page() as page:
        errors = open_app(page, app_url)
        values = metric_values(page)
        assert values["Headcount"] == f"{want['headcount']:,}"
        assert values["Active (scoreboard)"] == f"{want['active_share']:.0%}"
        assert values["Real adoption"] == f"{want['real_share']:.0%}"
        assert page.get_by_text(f"Week of {date.fromisoformat(want['week']):%d %b %Y}").is_visible()
        assert page.locator(".js-plotly-plot").count() >= 3
        assert page.get_by_text("Demo data").first.is_visible()
        assert page.locator('[data-testid="stException"]').count() == 0
        assert not errors, errors


def test_suspected_inflation_page_shows_cases_and_evidence_in_a_real_browser(app_url, demo_db):
    con = connect_read_only(demo_db)
    flagged = Warehouse(con).suspects().query("flagged")
    con.close()
    with chromium_page() as page:
        errors = open_app(page, app_url)
        open_page(page, "Suspected inflation", ready='[data-testid="stForm"]')  # the review form ends the case
        assert page.url.endswith("/suspected")
        values = metric_values(page)
        assert values["People suspected"] == f"{len(flagged):,}"
        assert page.get_by_role("heading", name=flagged.iloc[0]["display_name"]).is_visible()
        assert page.locator(".js-plotly-plot").count() == 3  # heatmap, prompt gaps, tokens vs outcomes
        assert page.locator('[data-testid="stException"]').count() == 0
        assert not errors, errors


def test_leaderboards_show_both_boards_and_follow_a_filter_in_a_real_browser(app_url, demo_db):
    from analytics import leaderboard as lb
    from pages import leaderboards

    wh = Warehouse(connect_read_only(demo_db))
    bounds = wh.date_bounds()
    start, end = leaderboards.period_span(leaderboards.PERIODS[0], bounds, bounds)
    heads = {
        tool: lb.headline(lb.people_board(wh.leaderboard_people(start, end, tool, None), key="k", show_names=False))
        for tool in (None, "copilot")
    }
    wh.close()
    assert heads[None] != heads["copilot"]  # else the filter step below could not tell
    with chromium_page() as page:
        errors = open_app(page, app_url)
        open_page(page, "Leaderboards", ready='[data-testid="stDownloadButton"]')
        assert page.url.endswith("/rankings")
        values = metric_values(page)
        assert values["Raw top 10 kept"] == f"{heads[None].kept} of 10"
        assert values["Inflation in raw top 10"] == f"{heads[None].suspected_share:.0%}"
        assert page.get_by_role("heading", name="Raw token scoreboard").first.is_visible()
        assert page.get_by_role("heading", name="Quality-adjusted").first.is_visible()
        assert page.locator(".js-plotly-plot").count() >= 1  # the rank-shift chart
        # narrow to one tool through the control, as a person would
        page.locator('[data-testid="stSelectbox"]').filter(has_text="Tool").click()
        page.get_by_role("option", name="copilot").click()
        want = f"{heads['copilot'].suspected_share:.0%}"
        page.wait_for_function(
            """want => [...document.querySelectorAll('[data-testid="stMetric"]')].some(m =>
                m.innerText.includes('Inflation in raw top 10') && m.innerText.includes(want))""",
            arg=want,
            timeout=30_000,
        )
        assert metric_values(page)["Raw top 10 kept"] == f"{heads['copilot'].kept} of 10"
        page.get_by_role("button", name="How boards are adjusted").click()
        assert page.get_by_text("Adjusted tokens never exceed raw tokens", exact=False).first.is_visible()
        assert page.locator('[data-testid="stException"]').count() == 0
        assert not errors, errors
