"""Sign-in in a real Chromium: people sign in through a local OpenID Connect provider (or arrive through a
trusted proxy header) and see only what their role and place in the org tree allow."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from tests.auth_helpers import (
    app_env,
    cast,
    names_in,
    nav_titles,
    oidc_provider,
    settle,
    shown_text,
    sign_in,
    write_secrets,
)
from tests.browser import CHROMIUM, CHROMIUM_ARGS, streamlit_server, wait_for_app

pytestmark = pytest.mark.browser

if not Path(CHROMIUM).exists():
    if os.environ.get("GOODHART_REQUIRE_BROWSER"):
        raise RuntimeError(f"GOODHART_REQUIRE_BROWSER is set but there is no Chromium at {CHROMIUM}")
    pytest.skip(f"no Chromium at {CHROMIUM} (.ci/run installs Debian's)", allow_module_level=True)

PROXY_HEADER = "X-Forwarded-Email"
STRANGER = "visitor@elsewhere.example"
LEADERBOARD_READY = '[data-testid="stDownloadButton"]'  # the people board's CSV button ends its tab
MY_USAGE_READY = ('h1:has-text("My usage")', '[data-testid="stDownloadButton"]')  # its CSV button ends it
PSEUDONYM = r"Person [A-Z2-7]{8}"


@pytest.fixture(scope="module")
def people(demo_db):
    return cast(demo_db)


@pytest.fixture(scope="module")
def roles(people, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("roles") / "roles.toml"
    path.write_text(f'admins = []\nleadership = ["{people.leadership.email}"]\nfinance = []\n')
    return path


@pytest.fixture(scope="module")
def idp(people):
    users = {
        role: {"email": p.email, "name": p.name}
        for role, p in (("member", people.member), ("lead", people.lead), ("leadership", people.leadership))
    }
    users["stranger"] = {"email": STRANGER, "name": "A Visitor"}
    with oidc_provider(users) as url:
        yield url


@pytest.fixture(scope="module")
def oidc_audit(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("oidc-audit") / "audit.jsonl"


@pytest.fixture(scope="module")
def oidc_app(demo_db, roles, idp, oidc_audit, tmp_path_factory):
    secrets = write_secrets(tmp_path_factory.mktemp("oidc") / "secrets.toml", idp_url=idp)
    with streamlit_server(demo_db, env=app_env(secrets, roles, oidc_audit)) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def assert_no_errors(page, *, found: bool = True) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0
    if found:
        assert page.get_by_text("Page not found").count() == 0


def assert_lead_scope(page, people, *, found: bool = True) -> None:
    """On the leaderboards, every name shown is someone in the lead's own line, and someone is shown."""
    settle(page, 'h1:has-text("Leaderboards")', LEADERBOARD_READY)
    shown = names_in(shown_text(page), people.names)
    assert shown, "the lead's leaderboard shows nobody by name"
    assert shown <= people.lead_names, f"names outside the lead's line: {sorted(shown - people.lead_names)}"
    assert_no_errors(page, found=found)


def test_a_visitor_who_has_not_signed_in_sees_the_log_in_button_and_no_data(browser, oidc_app, people):
    page = browser.new_context().new_page()
    page.goto(oidc_app + "/rankings")
    settle(page, 'button:has-text("Log in")')
    assert nav_titles(page) == [], "signed out, yet the sidebar offers pages"
    assert page.locator('[data-testid="stMetric"], [data-testid="stDataFrame"], .js-plotly-plot').count() == 0
    assert not names_in(page.locator("body").inner_text(), people.names)
    page.context.close()


def test_a_member_signs_in_and_sees_only_their_own_usage(browser, oidc_app, idp, people):
    page = sign_in(browser, oidc_app, idp, "member")
    settle(page, *MY_USAGE_READY)
    assert nav_titles(page) in ([], ["My usage"])
    assert page.get_by_text(f"Signed in as {people.member.name} · member").is_visible()
    assert page.get_by_role("button", name="Log out").is_visible()
    assert page.locator('[data-testid="stMetric"]').count() > 0  # their own figures are drawn
    assert names_in(shown_text(page), people.names) <= {people.member.name}
    assert_no_errors(page)
    # a page outside the role is not there to open by its address
    page.goto(oidc_app + "/rankings")
    settle(page, *MY_USAGE_READY)
    assert page.locator('h1:has-text("Leaderboards")').count() == 0
    assert names_in(shown_text(page), people.names) <= {people.member.name}
    page.context.close()


def test_a_lead_and_leadership_signed_in_at_once_each_see_their_own_scope(browser, oidc_app, idp, oidc_audit, people):
    lead = sign_in(browser, oidc_app, idp, "lead")
    boss = sign_in(browser, oidc_app, idp, "leadership")
    # both sessions are live on the one server; the lead lands on the leaderboards (their first page),
    # leadership opens them by address
    boss.goto(oidc_app + "/rankings")
    lead.reload()
    assert_lead_scope(lead, people)
    assert nav_titles(lead) == ["Leaderboards", "Suspected inflation", "Org explorer", "My usage"]
    assert lead.get_by_text(f"Signed in as {people.lead.name} · lead").is_visible()

    settle(boss, 'h1:has-text("Leaderboards")', LEADERBOARD_READY)
    text = shown_text(boss)
    assert not names_in(text, people.names), "leadership sees people by name"
    assert boss.get_by_text("pseudonyms", exact=False).first.is_visible()
    assert re.search(PSEUDONYM, text), "leadership's board shows no pseudonyms"
    assert_no_errors(boss)

    # leadership's landing page is the company Overview, which the lead is not offered
    boss.goto(oidc_app + "/")
    settle(boss, 'h1:has-text("Overview")')
    wait_for_app(boss)
    assert "Overview" in nav_titles(boss) and "Audit log" not in nav_titles(boss)
    assert not names_in(shown_text(boss), people.names)
    lead.goto(oidc_app + "/home")
    assert_lead_scope(lead, people, found=False)  # "Page not found", then the lead's own first page
    assert lead.locator('h1:has-text("Overview")').count() == 0
    lead.context.close()
    boss.context.close()
    # each view of individual rows is in the audit log under the identity the provider vouched for
    seen = {(e["viewer"], e["role"], e["page"]) for e in map(json.loads, oidc_audit.read_text().splitlines())}
    assert (people.lead.email, "lead", "Leaderboards") in seen
    assert (people.leadership.email, "leadership", "Leaderboards") in seen


def test_someone_the_data_does_not_know_sees_nothing(browser, oidc_app, idp, people):
    page = sign_in(browser, oidc_app, idp, "stranger")
    # a member without data: their own (empty) usage page, or the "nothing for you" page
    settle(page, r"text=/nothing for you to see|no person with your e-mail/")
    assert nav_titles(page) in ([], ["My usage"])
    assert page.locator('[data-testid="stMetric"], [data-testid="stDataFrame"]').count() == 0
    assert not names_in(page.locator("body").inner_text(), people.names)
    page.context.close()


@pytest.fixture(scope="module")
def proxy_app(demo_db, roles, tmp_path_factory):
    secrets = write_secrets(tmp_path_factory.mktemp("proxy") / "secrets.toml", idp_url=None)
    audit = secrets.with_name("audit.jsonl")
    with streamlit_server(demo_db, env=app_env(secrets, roles, audit, auth_header=PROXY_HEADER)) as url:
        yield url


def test_behind_a_proxy_a_request_without_the_header_sees_only_a_sign_in_message(browser, proxy_app, people):
    page = browser.new_context().new_page()
    page.goto(proxy_app + "/rankings")
    settle(page, "text=Sign in through your company's single sign-on")
    assert nav_titles(page) == [], "no identity, yet the sidebar offers pages"
    assert page.locator('[data-testid="stMetric"], [data-testid="stDataFrame"], .js-plotly-plot').count() == 0
    assert not names_in(page.locator("body").inner_text(), people.names)
    page.context.close()


def test_behind_a_proxy_the_header_names_the_viewer(browser, proxy_app, people):
    ctx = browser.new_context(extra_http_headers={PROXY_HEADER: people.lead.email})
    lead = ctx.new_page()
    lead.goto(proxy_app + "/")  # the lead's first page is the leaderboards
    assert_lead_scope(lead, people)
    assert nav_titles(lead) == ["Leaderboards", "Suspected inflation", "Org explorer", "My usage"]
    assert lead.get_by_text(f"Signed in as {people.lead.name} · lead").is_visible()
    assert lead.get_by_role("button", name="Log out").count() == 0  # the proxy owns the session
    ctx.close()


def test_a_lead_opens_their_leaderboards_by_its_address(browser, proxy_app, people):
    ctx = browser.new_context(extra_http_headers={PROXY_HEADER: people.lead.email})
    lead = ctx.new_page()
    lead.goto(proxy_app + "/rankings")  # a link someone shared
    assert_lead_scope(lead, people, found=False)
    assert lead.get_by_text("Page not found").count() == 0, "the lead's own /rankings says Page not found"
    ctx.close()
