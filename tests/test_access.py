"""Who sees what: roles, scopes bound in the data layer, every page as every role, tampering, the audit log."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest
from streamlit.util import calc_hash

from analytics import access, audit
from analytics import leaderboard as lb
from analytics.access import AccessError, Scope, Viewer
from analytics.queries import Warehouse
from analytics.warehouse import connect_read_only
from tests.pagekit import APP, AUTH

TITLES = {
    "home": "Overview",
    "rankings": "Leaderboards",
    "suspected": "Suspected inflation",
    "demand-scenarios": "Demand & scenarios",
    "org": "Org explorer",
    "my-usage": "My usage",
    "data-sources": "Data",
    "audit": "Audit log",
}


# -- roles and scopes ---------------------------------------------------------------------------------


def test_roles_file_grants_the_widest_role_and_refuses_a_bad_file(tmp_path):
    assert access.load_roles(tmp_path / "missing.toml") == {}
    good = tmp_path / "roles.toml"
    good.write_text('admins = ["Ada@X.example"]\nfinance = ["ada@x.example", "fin@x.example"]\nleadership = []\n')
    assert access.load_roles(good) == {"ada@x.example": "admin", "fin@x.example": "finance"}
    for text in ('admins = "a@x"', "admin = []", "admins = [", "admins = [1]"):
        good.write_text(text)
        with pytest.raises(AccessError):
            access.load_roles(good)


def test_leadership_and_finance_never_see_groups_under_five(monkeypatch):
    monkeypatch.setenv("GOODHART_K", "2")
    assert Viewer("a", "admin").scope().k == 2
    for role in ("leadership", "finance"):
        scope = Viewer("l", role).scope()
        assert scope.k == 5 and scope.company and not scope.named and not scope.individuals
    lead = Viewer("t", "lead", user_id="u", lead_teams=("t-2", "t-1")).scope()
    assert lead.teams == ("t-1", "t-2") and lead.named and lead.individuals
    member = Viewer("m", "member", user_id="u").scope()
    assert member.teams == () and not member.individuals and Viewer("m", "member", user_id="u").pages == ("my-usage",)
    assert Viewer("nobody", "member").pages == ()  # unknown to the data, no role: nothing


def test_an_e_mail_resolves_to_its_role_lead_teams_or_member(demo_db):
    con = connect_read_only(demo_db)
    lead_id, lead_email, team = con.execute(
        "SELECT p.user_id, p.email, t.team_id FROM dim_teams t JOIN dim_people p ON p.user_id = t.lead_user_id "
        "WHERE t.depth = 2 ORDER BY t.team_id LIMIT 1"
    ).fetchone()
    viewer = access.resolve(con, lead_email.upper(), {}, source="oidc")
    assert viewer.role == "lead" and viewer.user_id == lead_id and team in viewer.lead_teams
    assert access.resolve(con, lead_email, {lead_email: "finance"}, source="oidc").role == "finance"
    stranger = access.resolve(con, "stranger@elsewhere.example", {}, source="proxy")
    assert stranger.role == "member" and stranger.user_id is None and stranger.pages == ()


# -- the data layer -----------------------------------------------------------------------------------


def _members(con, scope: Scope) -> set[str]:
    """Everyone a scope covers, computed independently of the queries under test."""
    people = con.execute("SELECT user_id, team_id FROM dim_people").df()
    if scope.teams is None:
        return set(people["user_id"])
    edges = con.execute("SELECT team_id, parent_team_id FROM dim_teams").df()
    parent = dict(zip(edges["team_id"], edges["parent_team_id"], strict=True))

    def under(team):
        while team is not None and not pd.isna(team):
            if team in scope.teams:
                return True
            team = parent.get(team)
        return False

    return {u for u, t in zip(people["user_id"], people["team_id"], strict=True) if under(t)}


def test_every_scoped_query_returns_only_people_in_scope_and_whole_company_ones_refuse_a_lead(demo_db):
    from pages._shared.data import Loaders

    wh = Warehouse(connect_read_only(demo_db))
    first, last = wh.date_bounds()
    viewers = access.demo_viewers(wh.con)
    lead = viewers["Team lead of Product Engineering"].scope()
    for scope in (lead, viewers["Member"].scope(), viewers["Leadership"].scope()):
        allowed = _members(wh.con, scope)
        frames = {
            "leaderboard": wh.leaderboard_people(first, last, None, None, scope),
            "suspects": wh.suspects(scope),
            "automation": wh.automation_lane(first, last, scope),
        }
        for name, frame in frames.items():
            assert set(frame["user_id"]) <= allowed, (scope.role, name)
            assert scope.named or "display_name" not in frame.columns, (scope.role, name)
        teams = wh.suspect_teams(scope)
        assert set(teams["team_id"]) <= set(wh.con.execute("SELECT team_id FROM dim_people").df()["team_id"])
        if scope.teams is not None:
            assert set(teams["team_id"]) <= {
                t for u, t in wh.con.execute("SELECT user_id, team_id FROM dim_people").fetchall() if u in allowed
            }
    assert len(wh.leaderboard_people(first, last, None, None, lead)) > 0
    # a subtree outside the lead's own narrows to nothing: a filter never widens a scope
    assert wh.leaderboard_people(first, last, None, "t-0001", lead)["user_id"].isin(_members(wh.con, lead)).all()
    # one person's evidence: only inside the line, never for pseudonymous roles
    outside = sorted(set(wh.suspects()["user_id"]) - _members(wh.con, lead))[0]
    with pytest.raises(AccessError):
        wh.evidence(outside, first, last, lead)
    inside = sorted(_members(wh.con, lead) & set(wh.suspects()["user_id"]))[0]
    assert set(wh.evidence(inside, first, last, lead)) == {"heatmap", "gaps", "weeks", "partners"}
    with pytest.raises(AccessError):
        wh.evidence(inside, first, last, viewers["Leadership"].scope())
    loaders = Loaders(wh, lead)
    for call in (
        lambda: loaders.weekly_adoption(first, last),
        lambda: loaders.token_split(first, last),
        lambda: loaders.demand_days(),
        lambda: loaders.decoupling_weeks(first, last),
    ):
        with pytest.raises(AccessError):
            call()


# -- every page as every role (AppTest) ---------------------------------------------------------------


def _goto(at: AppTest, url_path: str) -> AppTest:
    # st.Page(url_path=...) pages are addressed by the hash of their url path, as a browser's URL does
    at._page_hash = calc_hash(url_path)
    return at.run()


def _rendered(at: AppTest) -> str:
    """Everything the page put in front of the viewer, as one text: prose, metrics, tables, options, charts."""
    parts: list[str] = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error", "success"):
        parts += [str(e.value) for e in getattr(at, kind)]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    for frame in at.dataframe:
        parts += [" ".join(map(str, frame.value.columns))] + frame.value.astype(str).to_numpy().ravel().tolist()
    for box in (*at.selectbox, *at.multiselect, *at.radio):
        parts += [str(o) for o in box.options]
    parts += [e.proto.spec for e in at.get("plotly_chart")]
    return "\n".join(parts)


@pytest.fixture(scope="module")
def people(demo_db):
    con = connect_read_only(demo_db)
    frame = con.execute("SELECT user_id, display_name FROM dim_people").df()
    key = Warehouse(con).pseudonym_key
    return frame.assign(pseudonym=frame["user_id"].map(lambda u: lb.pseudonym(u, key)))


def _as(monkeypatch, tmp_path, db, label: str) -> AppTest:
    monkeypatch.setenv("GOODHART_DB", str(db))
    monkeypatch.setenv("GOODHART_AUDIT", str(tmp_path / "audit.jsonl"))
    monkeypatch.delenv("GOODHART_K", raising=False)
    at = AppTest.from_file(APP, default_timeout=180)
    at.session_state["goodhart.view_as"] = label
    return at.run()


MATRIX = ("Leadership", "Finance", "Team lead of Product Engineering", "deepest lead", "Member", "Admin")


def _label(con, which: str) -> str:
    choices = list(access.demo_viewers(con))
    # the demo switch lists leads from the deepest team up: the first is the lead of a small team
    return next(c for c in choices if c.startswith("Team lead of")) if which == "deepest lead" else which


@pytest.mark.parametrize("which", MATRIX)
def test_each_role_sees_its_pages_and_zero_rows_outside_its_scope(monkeypatch, tmp_path, demo_db, people, which):
    con = connect_read_only(demo_db)
    label = _label(con, which)
    viewer = access.demo_viewers(con)[label]
    scope = viewer.scope()
    inside = _members(con, scope) | {viewer.user_id}
    outside = people[~people["user_id"].isin(inside)]
    # a name shared with someone inside the scope proves nothing either way
    outside_names = set(outside["display_name"]) - set(people.loc[people["user_id"].isin(inside), "display_name"])
    at = _as(monkeypatch, tmp_path, demo_db, label)
    for url_path in (*viewer.pages, *(p for p in TITLES if p not in viewer.pages)):
        _goto(at, url_path)
        assert not at.exception, (label, url_path, at.exception)
        titles = [t.value for t in at.title if t.value != "Goodhart"]  # the sidebar's title is on every page
        if url_path not in viewer.pages:  # not offered: not run (Streamlit falls back to an offered page, or none)
            assert TITLES[url_path] not in titles and set(titles) <= {TITLES[p] for p in viewer.pages}, url_path
            continue
        assert titles[:1] == [TITLES[url_path]], (label, url_path, titles)
        shown = _rendered(at)
        if scope.role == "admin":
            continue
        leaked = [n for n in outside_names if n in shown] + [u for u in outside["user_id"] if u in shown]
        leaked += [p for p in outside["pseudonym"] if p in shown]
        assert not leaked, (label, url_path, leaked[:5])
        if not scope.named:  # pseudonyms only: nobody's name anywhere
            assert not [n for n in people["display_name"] if n in shown], (label, url_path)
            for frame in at.dataframe:
                for col in ("people", "headcount"):
                    if col in frame.value.columns:
                        assert (frame.value[col].dropna() >= scope.k).all(), (label, url_path, col)


def test_two_viewers_with_the_same_filters_in_one_server_get_their_own_rows(monkeypatch, tmp_path, demo_db, people):
    con = connect_read_only(demo_db)
    viewers = access.demo_viewers(con)
    a, b = "Team lead of Product Engineering", next(k for k in viewers if k.startswith("Team lead of G"))
    boards = {}
    for label in (a, b, a):  # the second run of `a` comes after `b` filled the shared caches
        at = _goto(_as(monkeypatch, tmp_path, demo_db, label), "rankings")
        names = set(next(d.value for d in at.dataframe if "entity_name" in d.value.columns)["entity_name"])
        allowed = set(people.loc[people["user_id"].isin(_members(con, viewers[label].scope())), "display_name"])
        assert names and names <= allowed, label
        boards.setdefault(label, []).append(names)
    assert boards[a][0] == boards[a][1] and not boards[a][0] & boards[b][0]


def test_url_query_parameters_and_session_state_cannot_widen_a_signed_in_scope(monkeypatch, tmp_path, demo_db):
    con = connect_read_only(demo_db)
    member = access.demo_viewers(con)["Member"]
    monkeypatch.setenv("GOODHART_DB", str(demo_db))
    monkeypatch.setenv("GOODHART_AUDIT", str(tmp_path / "audit.jsonl"))
    monkeypatch.setenv("GOODHART_ROLES", str(tmp_path / "none.toml"))
    at = AppTest.from_file(APP, default_timeout=120)
    at.secrets["auth"] = AUTH
    at.user = {"is_logged_in": False}
    at.run()
    assert [b.label for b in at.button] == ["Log in"] and not at.dataframe  # signed out: nothing but sign-in
    at.user = {"is_logged_in": True, "email": member.email}
    # a signed-in member tries the demo switch's state, URL parameters and every other page
    at.session_state["goodhart.view_as"] = "Admin"
    at.query_params.update({"view_as": "Admin", "role": "admin", "user": "u-00001", "scope": "all"})
    at.run()
    assert at.title[0].value == "My usage" and not at.exception
    assert any(f"Signed in as {member.display_name} · member" in c.value for c in at.sidebar.caption)
    assert not at.sidebar.selectbox or all(s.label != "View as" for s in at.sidebar.selectbox)
    for url_path in TITLES:
        _goto(at, url_path)
        assert {t.value for t in at.title} <= {"My usage", "Goodhart"}, url_path
    _goto(at, "my-usage")
    frame = next(d.value for d in at.dataframe)
    mine = Warehouse(con).my_weeks(*Warehouse(con).date_bounds(), member.scope())
    assert frame["tokens"].sum() == mine["tokens"].sum() > 0
    # a signed-in e-mail the data does not know, with no role, sees nothing
    at.user = {"is_logged_in": True, "email": "stranger@elsewhere.example"}
    at.run()
    assert "nothing for you to see" in " ".join(i.value for i in at.info) and not at.dataframe


def test_a_lead_cannot_pick_a_subtree_outside_their_line(monkeypatch, tmp_path, demo_db, people):
    con = connect_read_only(demo_db)
    label = "Team lead of Product Engineering"
    scope = access.demo_viewers(con)[label].scope()
    at = _goto(_as(monkeypatch, tmp_path, demo_db, label), "rankings")
    offered = at.selectbox(key="lb_subtree").options
    paths = dict(con.execute("SELECT path, team_id FROM dim_teams").fetchall())
    assert all(paths[o] in {t for (t,) in con.execute(
        "SELECT team_id FROM team_ancestors WHERE list_contains(?, ancestor_id)", [list(scope.teams)]).fetchall()}
        for o in offered if o in paths)  # fmt: skip
    assert len(offered) > 1 and offered[0] == "All of your teams"
    # (a forged subtree outside the line reaches the data layer as a narrowing filter, which cannot widen the
    # scope: see test_every_scoped_query_returns_only_people_in_scope_and_whole_company_ones_refuse_a_lead)


# -- the audit log ------------------------------------------------------------------------------------


def test_individual_views_are_audited_and_admins_read_and_export_the_log(monkeypatch, tmp_path, demo_db):
    con = connect_read_only(demo_db)
    lead = access.demo_viewers(con)["Team lead of Product Engineering"]
    at = _goto(_as(monkeypatch, tmp_path, demo_db, "Team lead of Product Engineering"), "rankings")
    _goto(at, "rankings")  # a rerun of the same view is not logged twice
    _goto(at, "suspected")
    store = tmp_path / "audit.jsonl"
    log = audit.read(store)
    rankings = log[log["page"] == "Leaderboards"]
    assert len(rankings) == 1 and rankings.iloc[0]["viewer"] == lead.email and rankings.iloc[0]["role"] == "lead"
    assert "t-0002" in rankings.iloc[0]["scope"]
    assert (log["page"] == "Suspected inflation").any()
    assert audit.verify(store) == (True, len(log))

    admin = _goto(_as(monkeypatch, tmp_path, demo_db, "Admin"), "audit")
    shown = next(d.value for d in admin.dataframe)
    assert lead.email in set(shown["viewer"])
    exported = admin.get("download_button")[0]
    assert exported.proto.label == "Download the log (CSV)"
    # the log is append-only: an edited line breaks the chain, and the admin is told
    lines = store.read_text().splitlines()
    entry = json.loads(lines[0])
    entry["viewer"] = "someone.else@example"
    store.write_text("\n".join([json.dumps(entry), *lines[1:]]) + "\n")
    assert audit.verify(store) == (False, 1)
    admin = _goto(_as(monkeypatch, tmp_path, demo_db, "Admin"), "audit")
    assert any("hash chain breaks at line 1" in e.value for e in admin.error)


def test_an_unrecordable_view_is_withheld(monkeypatch, tmp_path, demo_db):
    at = _as(monkeypatch, tmp_path, demo_db, "Team lead of Product Engineering")
    monkeypatch.setenv("GOODHART_AUDIT", str(tmp_path))  # a directory: nothing can be appended to it
    _goto(at, "suspected")  # its first view in this session, so it must be recorded before it is shown
    assert any("could not be audit-logged" in e.value for e in at.error)
    assert not [d for d in at.dataframe if "reasons" in d.value.columns or "display_name" in d.value.columns]
