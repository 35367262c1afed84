"""The Data page in a real Chromium against `streamlit run`: reachable from the navigation, tables drawn."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser import CHROMIUM, chromium_page, open_app, open_page, streamlit_server

pytestmark = pytest.mark.browser

if not Path(CHROMIUM).exists():
    if os.environ.get("GOODHART_REQUIRE_BROWSER"):
        raise RuntimeError(f"GOODHART_REQUIRE_BROWSER is set but there is no Chromium at {CHROMIUM}")
    pytest.skip(f"no Chromium at {CHROMIUM} (.ci/run installs Debian's)", allow_module_level=True)


def test_the_data_page_renders_its_sources_in_a_real_browser(demo_db):
    with streamlit_server(demo_db) as url, chromium_page() as page:
        errors = open_app(page, url)
        open_page(page, "Data", ready='[data-testid="stFileUploader"]')  # the uploader is near the page's end
        assert page.url.endswith("/data-sources")
        assert page.get_by_role("heading", name="Sources").is_visible()
        assert page.get_by_role("heading", name="Unattributed identities").is_visible()
        assert page.locator('[data-testid="stDataFrame"]').first.is_visible()
        assert page.get_by_text("Page not found").count() == 0
        assert page.locator('[data-testid="stException"]').count() == 0
        assert not errors, errors
