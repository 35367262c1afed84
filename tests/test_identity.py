"""Who is signed in: e-mails name people only through `people.email`, a proxy header must be one clean value, an
unverified OIDC address is refused, demo mode on real data says so and is logged as nobody, names stay inert."""

from __future__ import annotations

import shutil

import duckdb
import pytest
from streamlit.runtime.context import ContextProxy, StreamlitHeaders
from streamlit.testing.v1 import AppTest
from streamlit.util import calc_hash

from analytics import access, audit, ingest
from analytics.identity import load_identity_map
from analytics.warehouse import connect_read_only
from pages._shared import auth
from pages._shared.text import md
from tests.conftest import write_csv
from tests.pagekit import APP, AUTH

HEADER = "X-Forwarded-Email"


# -- e-mails to people --------------------------------------------------------------------------------


def test_an_identity_map_row_never_signs_anyone_in_as_its_person(con, org, tmp_path):
    usage = write_csv(
        tmp_path / "usage_events.csv",
        "event_id,ts,user_id,tool,input_tokens,output_tokens",
        [
            "e1,2026-10-08T10:00:00Z,CY@acme.example,cursor,10,5",
            "e2,2026-10-08T11:00:00Z,seat-7@vendor.example,cursor,1,1",
        ],
    )
    ingest.ingest(con, [org, usage])
    # telemetry mappings: Cy's address attributed to Ada (a lead), a vendor seat to Bo
    mapping = write_csv(
        tmp_path / "identities.csv", "identity,user_id,source", ["cy@acme.example,a1,", "seat-7@vendor.example,b2,"]
    )
    load_identity_map(con, mapping)
    assert dict(con.execute("SELECT identity, user_id FROM identity_map").fetchall())["cy@acme.example"] == "a1"

    cy = access.resolve(con, " CY@acme.example ", {}, source="oidc")
    assert (cy.user_id, cy.role, cy.display_name, cy.lead_teams) == ("c3", "member", "Cy", ())
    seat = access.resolve(con, "seat-7@vendor.example", {}, source="proxy")
    assert (seat.user_id, seat.role, seat.pages) == (None, "member", ())
    ada = access.resolve(con, "Ada@Acme.example", {}, source="oidc")
    assert ada.user_id == "a1" and ada.role == "lead" and ada.lead_teams


def test_an_e_mail_two_people_share_names_nobody():
    con = duckdb.connect()
    con.execute("CREATE TABLE dim_people (user_id VARCHAR, display_name VARCHAR, email VARCHAR)")
    con.execute("CREATE TABLE dim_teams (team_id VARCHAR, lead_user_id VARCHAR)")
    con.execute("CREATE TABLE identity_map (identity VARCHAR, user_id VARCHAR)")  # empty: no mappings here
    con.execute(
        "INSERT INTO dim_people VALUES ('a1', 'Ada', 'shared@x.example'), ('b2', 'Bo', ' Shared@X.example '), "
        "('c3', 'Cy', 'cy@x.example')"
    )
    con.execute("INSERT INTO dim_teams VALUES ('t1', 'a1'), ('t2', 'a1')")
    shared = access.resolve(con, "shared@x.example", {}, source="oidc")
    assert (shared.user_id, shared.role, shared.lead_teams, shared.pages) == (None, "member", (), ())
    boss = access.resolve(con, "SHARED@x.example", {"shared@x.example": "leadership"}, source="oidc")
    assert (boss.user_id, boss.role) == (None, "leadership") and "my-usage" not in boss.pages
    assert access.resolve(con, "cy@x.example", {}, source="oidc").user_id == "c3"


# -- the proxy header ---------------------------------------------------------------------------------


def test_only_exactly_one_clean_header_value_is_an_identity():
    assert auth.proxy_email([" ada@x.example "]) == "ada@x.example"
    for values in ([], [""], ["  "], ["ada@x.example", "bo@x.example"], ["ada@x.example", "ada@x.example"]):
        assert auth.proxy_email(values) == "", values
    assert auth.proxy_email(["bo@x.example, ada@x.example"]) == ""


def _app(monkeypatch, db, tmp_path) -> AppTest:
    monkeypatch.setenv("GOODHART_DB", str(db))
    monkeypatch.setenv("GOODHART_AUDIT", str(tmp_path / "audit.jsonl"))
    monkeypatch.setenv("GOODHART_ROLES", str(tmp_path / "none.toml"))
    monkeypatch.delenv("GOODHART_K", raising=False)
    return AppTest.from_file(APP, default_timeout=180)


@pytest.fixture
def lead(demo_db) -> access.Viewer:
    return access.demo_viewers(connect_read_only(demo_db))["Team lead of Product Engineering"]


def test_a_proxy_header_sent_twice_or_with_a_comma_signs_nobody_in(monkeypatch, tmp_path, demo_db, lead):
    monkeypatch.setenv("GOODHART_AUTH_HEADER", HEADER)
    member = access.demo_viewers(connect_read_only(demo_db))["Member"]
    sent: list[tuple[str, str]] = []
    monkeypatch.setattr(ContextProxy, "headers", property(lambda self: StreamlitHeaders(sent)))
    for values in ([member.email, lead.email], [f"{member.email},{lead.email}"]):
        sent[:] = [(HEADER, v) for v in values]  # e.g. the client's own header, then the proxy's
        at = _app(monkeypatch, demo_db, tmp_path).run()
        assert not at.exception
        assert "carried no identity" in at.info[0].value, values
        assert not any("Signed in as" in c.value for c in at.sidebar.caption) and not at.dataframe

    sent[:] = [(HEADER, lead.email)]
    at = _app(monkeypatch, demo_db, tmp_path).run()
    assert any(f"Signed in as {md(lead.label)}" in c.value for c in at.sidebar.caption)


# -- OpenID Connect -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("claim", "refused"), [(False, True), ("false", True), (True, False), (None, False)])
def test_an_address_the_provider_says_is_unverified_is_refused(monkeypatch, tmp_path, demo_db, lead, claim, refused):
    at = _app(monkeypatch, demo_db, tmp_path)
    at.secrets["auth"] = AUTH
    user = {"is_logged_in": True, "email": lead.email}
    if claim is not None:
        user["email_verified"] = claim
    at.user = user
    at.run()
    assert not at.exception
    if refused:
        assert "not verified" in at.error[0].value
        assert [b.label for b in at.button] == ["Log out"] and not at.dataframe
        assert not any("Signed in as" in c.value for c in at.sidebar.caption)
    else:
        assert any(f"Signed in as {md(lead.label)}" in c.value for c in at.sidebar.caption)


# -- demo mode on a real database ---------------------------------------------------------------------


def test_demo_mode_on_real_data_says_so_and_logs_nobody_as_the_viewer(monkeypatch, tmp_path, demo_db, lead):
    real = tmp_path / "real.duckdb"
    shutil.copy(demo_db, real)
    con = duckdb.connect(str(real))
    con.execute("DELETE FROM meta WHERE key = 'origin'")  # not the generated demo: real people's data
    con.close()
    at = _app(monkeypatch, real, tmp_path)
    at.session_state["goodhart.view_as"] = "Team lead of Product Engineering"
    at.run()
    at._page_hash = calc_hash("rankings")
    at.run()
    assert not at.exception
    banner = [e.value for e in at.sidebar.error]
    assert len(banner) == 1
    assert banner[0].startswith("Real data with no sign-in configured: anyone who reaches this app can view it")
    log = audit.read(tmp_path / "audit.jsonl")
    assert len(log) and set(log["viewer"]) == {f"(unauthenticated demo mode) {lead.label}"}
    assert lead.email not in set(log["viewer"])  # the lead whose view was borrowed did not look


def test_demo_mode_on_the_demo_data_has_no_such_banner(monkeypatch, tmp_path, demo_db, lead):
    at = _app(monkeypatch, demo_db, tmp_path)
    at.session_state["goodhart.view_as"] = "Team lead of Product Engineering"
    at.run()
    assert not at.sidebar.error and any("Demo mode" in w.value for w in at.sidebar.warning)


# -- data-derived text --------------------------------------------------------------------------------


def sidebar_script() -> None:
    import streamlit as st

    from analytics.access import Viewer
    from pages._shared import auth

    auth.sidebar(Viewer(email="x@x.example", role="member", display_name=st.session_state["test.name"], source="proxy"))


def test_a_display_name_in_the_sidebar_is_inert_markdown():
    name = "**Bo** [click](https://evil.example) _x_"
    at = AppTest.from_function(sidebar_script)
    at.session_state["test.name"] = name
    at.run()
    assert [c.value for c in at.sidebar.caption] == [f"Signed in as {md(name)} · member"]


def test_an_unknown_signed_in_e_mail_is_inert_markdown(monkeypatch, tmp_path, demo_db):
    at = _app(monkeypatch, demo_db, tmp_path)
    at.secrets["auth"] = AUTH
    email = "*who*_[me](https://evil.example)@elsewhere.example"
    at.user = {"is_logged_in": True, "email": email}
    at.run()
    assert not at.exception
    assert f"You are signed in as {md(email)}, but" in at.info[0].value
