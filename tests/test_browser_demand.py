"""Demand & scenarios in a real Chromium against `streamlit run`: the fan chart and the capacity table render,
and moving the inflation slider redraws the scenario (in its fragment) without an error."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser import CHROMIUM, chromium_page, metric_values, open_app, open_page, streamlit_server

pytestmark = pytest.mark.browser

if not Path(CHROMIUM).exists():
    if os.environ.get("GOODHART_REQUIRE_BROWSER"):
        raise RuntimeError(f"GOODHART_REQUIRE_BROWSER is set but there is no Chromium at {CHROMIUM}")
    pytest.skip(f"no Chromium at {CHROMIUM} (.ci/run installs Debian's)", allow_module_level=True)

SCENARIO_TOKENS = """() => {
    const plot = document.querySelector('.js-plotly-plot');
    // _fullData holds the decoded numbers (data keeps Plotly's base64 arrays)
    const trace = plot._fullData.find(t => t.name === 'Chosen scenario: mean');
    return Array.from(trace.y).reduce((a, b) => a + b, 0);
}"""


def test_demand_page_draws_the_fans_and_reacts_to_the_inflation_slider(demo_db, tmp_path):
    with (
        streamlit_server(demo_db, env={"GOODHART_SCENARIOS": str(tmp_path / "s.duckdb")}) as url,
        chromium_page() as page,
    ):
        errors = open_app(page, url)
        open_page(page, "Demand & scenarios", ready='[data-testid="stForm"]')
        assert page.url.endswith("/demand-scenarios")
        assert "MASE observed / adjusted (in-sample choice)" in metric_values(page)
        assert page.locator(".js-plotly-plot").count() == 1
        assert page.get_by_text("Capacity and cost of the chosen scenario").is_visible()
        assert page.locator('[data-testid="stDataFrame"]').count() >= 3  # capacity, comparison, backtest
        names = page.evaluate("() => document.querySelector('.js-plotly-plot').data.map(t => t.name)")
        assert "Observed (as the scoreboard counts): mean" in names
        assert "Without suspected inflation: mean" in names
        before = page.evaluate(SCENARIO_TOKENS)
        slider = page.get_by_role("slider", name="Inflation that continues (%)")
        slider.focus()
        slider.press("End")  # 100 %: every suspected token continues
        page.wait_for_function(f"() => ({SCENARIO_TOKENS})() > {before} * 1.05", timeout=30_000)
        after = page.evaluate(SCENARIO_TOKENS)
        observed = page.evaluate(SCENARIO_TOKENS.replace("Chosen scenario", "Observed (as the scoreboard counts)"))
        assert after == pytest.approx(observed, rel=1e-9)
        assert page.locator('[data-testid="stException"]').count() == 0
        assert not errors, errors
