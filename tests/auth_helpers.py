"""Sign-in helpers for the browser tests: a local OpenID Connect provider, the app's secrets, a signed-in
Chromium context, and what the org tree says each test person may see."""

from __future__ import annotations

import contextlib
import os
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from analytics.warehouse import connect_read_only

# The mock provider's sign-in form asks for the subject; the claims come from the users it was started with.
AUTHORIZE_PATH = "/oauth2/authorize"


@contextlib.contextmanager
def oidc_provider(users: dict[str, dict]) -> Iterator[str]:
    """Serve oidc-provider-mock on a free port in this process, knowing `users` (sub -> claims); yield its URL."""
    from oidc_provider_mock import User, run_server_in_thread

    with run_server_in_thread(port=0, user_claims=[User(sub=s, claims=c) for s, c in users.items()]) as server:
        # `localhost`, as in the issuer the provider advertises: the app and the browser must agree on it.
        yield f"http://localhost:{server.server_port}"


def write_secrets(path: Path, *, idp_url: str | None) -> Path:
    """A Streamlit secrets file: an `[auth]` section for the provider at `idp_url`, or nothing at all (so that a
    developer's own .streamlit/secrets.toml cannot switch a test to another identity mode)."""
    if idp_url is None:
        path.write_text("# no [auth]: sign-in is off\n")
        return path
    path.write_text(
        "[auth]\n"
        # `{port}` is filled in by Streamlit with the port it serves on; tests.browser serves on 127.0.0.1.
        'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        f'cookie_secret = "{os.urandom(24).hex()}"\n'
        'client_id = "goodhart-ci"\n'
        'client_secret = "the-mock-accepts-any"\n'
        f'server_metadata_url = "{idp_url}/.well-known/openid-configuration"\n'
    )
    return path


def app_env(secrets: Path, roles: Path, audit: Path, *, auth_header: str = "") -> dict[str, str]:
    """Environment for tests.browser.streamlit_server: these secrets only, this roles file, this audit log (not
    the one beside the shared test database), this proxy header."""
    return {
        "STREAMLIT_SECRETS_FILES": str(secrets),  # replaces the default search path (~/.streamlit, ./.streamlit)
        "GOODHART_ROLES": str(roles),
        "GOODHART_AUDIT": str(audit),
        "GOODHART_AUTH_HEADER": auth_header,
        # an edit to the sources while the tests run must not park the status widget on "Source file changed"
        "STREAMLIT_SERVER_FILE_WATCHER_TYPE": "none",
    }


def sign_in(browser, app_url: str, idp_url: str, sub: str):
    """A new browser context (its own cookies) signed in as `sub` through the provider; returns its page,
    back on the app's landing page."""
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.goto(app_url + "/")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{idp_url}{AUTHORIZE_PATH}*", timeout=30_000)
    page.get_by_placeholder("sub").fill(sub)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{app_url}/", timeout=30_000)
    return page


def settle(page, *ready: str, timeout_ms: float = 60_000) -> None:
    """Wait until every `ready` selector is drawn (the last one near the end of the page: the status widget
    shows a run only after a moment) and the script run has finished."""
    for selector in ready:
        page.wait_for_selector(selector, timeout=timeout_ms)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout_ms)


def shown_text(page, timeout_ms: float = 15_000) -> str:
    """Everything the main area shows, dataframe cells included: a dataframe draws on a canvas and mirrors
    the rows in view into an accessibility table a moment later, so each visible one must have rows."""
    main = page.locator('[data-testid="stMain"]')
    frames = [f for f in main.locator('[data-testid="stDataFrame"]').all() if f.is_visible()]
    for frame in frames:
        frame.locator("table td").first.wait_for(state="attached", timeout=timeout_ms)
    cells = [text for frame in frames for text in frame.locator("table td").all_inner_texts()]
    return main.inner_text() + "\n" + "\n".join(cells)


def nav_titles(page) -> list[str]:
    """The pages the sidebar navigation offers (none drawn when there is only one), without their icons' names."""
    return [t.split("\n")[-1].strip() for t in page.locator('[data-testid="stSidebarNav"] a').all_inner_texts()]


def names_in(text: str, names) -> set[str]:
    """Which of `names` the text shows, as whole words."""
    return {n for n in names if re.search(rf"(?<!\w){re.escape(n)}(?!\w)", text)}


@dataclass(frozen=True)
class Person:
    user_id: str
    name: str
    email: str


@dataclass(frozen=True)
class Cast:
    """The people the sign-in tests act as, chosen from the test database, and what the org tree lets them see."""

    member: Person
    lead: Person
    leadership: Person
    names: frozenset[str]  # every display name in the data
    lead_names: frozenset[str]  # the people in the teams the lead leads and every team below


SUBTREE = """WITH RECURSIVE sub(team_id) AS (
                 SELECT team_id FROM dim_teams WHERE lead_user_id = $lead
                 UNION SELECT t.team_id FROM dim_teams t JOIN sub s ON t.parent_team_id = s.team_id)
             SELECT DISTINCT p.user_id FROM dim_people p JOIN sub USING (team_id)"""


def cast(db: Path) -> Cast:
    """A lead of a small, deep subtree; a member outside it; a third person (neither) to be named leadership.
    The subtree is worked out here from dim_teams, independently of the app's own scope code."""
    con = connect_read_only(db)  # the app's own configuration: one process may hold the file once

    def column(sql: str, params: dict | None = None) -> list:
        return [r[0] for r in con.execute(sql, params or {}).fetchall()]

    try:
        leads = column("SELECT lead_user_id FROM dim_teams WHERE lead_user_id IS NOT NULL")
        deepest_first = column(
            """SELECT lead_user_id FROM dim_teams WHERE lead_user_id IS NOT NULL
               GROUP BY 1 ORDER BY max(depth) DESC, lead_user_id"""
        )
        lead_id, line = None, set()
        for candidate in deepest_first:
            line = set(column(SUBTREE, {"lead": candidate}))
            if 5 <= len(line) <= 15:
                lead_id = candidate
                break
        assert lead_id, "no lead of a subtree of 5 to 15 people in the test database"
        rows = con.execute("SELECT user_id, display_name, email FROM dim_people").fetchall()
        people = {r[0]: Person(*r) for r in rows}
        active = set(column("SELECT DISTINCT user_id FROM usage_daily")) & set(people)
    finally:
        con.close()
    counts = Counter(p.name for p in people.values())
    # the others: active, leading nothing, outside the lead's line, with an e-mail and a name nobody else has
    candidates = active - set(leads) - line - {lead_id}
    others = sorted(u for u in candidates if counts[people[u].name] == 1 and people[u].email)
    return Cast(
        member=people[others[0]],
        lead=people[lead_id],
        leadership=people[others[1]],
        names=frozenset(counts),
        lead_names=frozenset(people[u].name for u in line | {lead_id}),
    )
