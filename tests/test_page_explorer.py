"""The Org explorer page through AppTest, for each kind of viewer: what is drawn, what is listed, what is logged."""

from __future__ import annotations

import base64
import html
import json
from datetime import timedelta

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from analytics import audit
from analytics.access import Scope
from analytics.queries import Warehouse
from analytics.warehouse import connect_read_only
from pages import explorer

LEAD_TEAM = "t-0003"  # Core Product: eleven teams, two levels below the top of the demo org
OUTSIDE = "t-0014"  # Go-to-Market, beside the lead's line
LEADERSHIP = Scope("leadership", None, None, False, 5)
LEAD = Scope("lead", (LEAD_TEAM,), None, True, 1)
ADMIN = Scope("admin", None, None, True, 5)


def explorer_script() -> None:
    import streamlit as st

    from analytics.access import Viewer
    from pages import explorer
    from pages._shared import auth, data

    scope = st.session_state["test.scope"]
    wh = data.warehouse()
    st.session_state["goodhart.range"] = st.session_state.get("test.range") or wh.date_bounds()
    viewer = Viewer(email=f"{scope.role}@test.example", role=scope.role)
    explorer.page(auth.View(viewer, scope, data.Loaders(wh, scope)))


@pytest.fixture
def log(monkeypatch, tmp_path, demo_db):
    monkeypatch.setenv("GOODHART_DB", str(demo_db))
    path = tmp_path / "audit.jsonl"
    monkeypatch.setenv("GOODHART_AUDIT", str(path))
    return path


@pytest.fixture(scope="module")
def wh(demo_db):
    return Warehouse(connect_read_only(demo_db))


def run(scope: Scope, **state) -> AppTest:
    at = AppTest.from_function(explorer_script, default_timeout=60)
    at.session_state["test.scope"] = scope
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception
    return at


def treemap(at: AppTest) -> dict:
    """The drawn treemap: id -> (parent id, label as shown, tokens, people)."""
    (chart,) = [c for c in at.get("plotly_chart") if c.proto.id and "org_treemap" in c.proto.id] or at.get(
        "plotly_chart"
    )
    trace = {k: _array(v) for k, v in json.loads(chart.proto.spec)["data"][0].items()}
    return {
        i: (p, html.unescape(label), value, extra[0])
        for i, p, label, value, extra in zip(
            trace["ids"], trace["parents"], trace["labels"], trace["values"], trace["customdata"], strict=True
        )
    }


def _array(value):
    """Plotly's JSON packs numeric arrays as base64 typed arrays: unpack them to lists."""
    if isinstance(value, dict) and "bdata" in value:
        flat = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        shape = value.get("shape")
        if isinstance(shape, str):
            shape = [int(n) for n in shape.split(",")]
        return (flat.reshape(shape) if shape else flat).tolist()
    return value


def assert_no_subtraction_leak(cells: dict, k: int) -> None:
    """Every drawn cell covers 0 or at least k people, and so does every cell minus its drawn children, whether
    the pooled 'Other' cells are counted among them or not."""
    for cell, (_, _, _, people) in cells.items():
        assert people >= k, f"{cell} covers {people} < {k} people"
        below = [(c, v[3]) for c, v in cells.items() if v[0] == cell]
        for children in (below, [(c, p) for c, p in below if not c.startswith("p:")]):
            rest = people - sum(p for _, p in children)
            assert rest == 0 or rest >= k, f"{cell} minus its drawn children leaves {rest} people"


def page_text(at: AppTest) -> str:
    parts = [e.value for kind in ("title", "subheader", "markdown", "caption", "info", "error") for e in at.get(kind)]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    parts += [b.label for b in at.button] + [t.label for t in at.toggle]
    parts += [str(o) for s in at.selectbox for o in s.options]
    parts += [d.value.to_csv() for d in at.dataframe]
    parts += [c.proto.spec for c in at.get("plotly_chart")]
    return "\n".join(parts)


def subtree(wh: Warehouse, team: str) -> set[str]:
    return {r[0] for r in wh.con.execute("SELECT team_id FROM team_ancestors WHERE ancestor_id = ?", [team]).fetchall()}


def people_names(wh: Warehouse, teams: set[str] | None = None) -> set[str]:
    rows = wh.con.execute("SELECT display_name, team_id FROM dim_people").fetchall()
    return {name for name, team in rows if teams is None or team in teams}


def test_a_lead_sees_only_their_line_and_every_team_in_it(log, wh):
    at = run(LEAD)
    cells = treemap(at)
    inside = subtree(wh, LEAD_TEAM)
    teams = {c[2:] for c in cells if c.startswith("n:")}
    assert teams <= inside and f"n:{LEAD_TEAM}" in cells
    assert all(c[2:] in inside for c in cells if c.startswith("p:"))  # pools hang under the lead's teams only
    # their own line hides nothing: every team with people using AI tools is drawn
    start, end = wh.date_bounds()
    used = set(wh.org_people(start, end, None, LEAD)["team_id"])
    assert used <= teams
    # the drill offers the teams just below, and never one outside the line
    assert set(at.selectbox(key=explorer.DRILL).options) and not page_text(at).count("Go-to-Market")
    # the line's 'Direct members' cell is a single person: the tree is an individual view, logged (review 7)
    assert list(audit.read(log)["subject"]) == [LEAD_TEAM]


def test_a_lead_drills_to_a_team_then_to_its_people_and_one_person_with_each_view_logged(log, wh):
    at = run(LEAD)
    child = next(c[2:] for c, v in treemap(at).items() if v[0] == f"n:{LEAD_TEAM}" and c.startswith("n:"))
    at.selectbox(key=explorer.DRILL).set_value(child).run()
    assert not at.exception
    assert f"n:{child}" in treemap(at) and treemap(at)[f"n:{child}"][0] == ""  # the team is now the root
    crumbs = [at.button(key=f"org.crumb.{i}").label for i in range(2)]  # the path: the line's top, then the team
    assert crumbs == [treemap(run(LEAD))[f"n:{LEAD_TEAM}"][1], treemap(at)[f"n:{child}"][1]]
    assert not at.button(key="org.crumb.0").disabled and at.button(key="org.crumb.1").disabled

    at.toggle(key=explorer.PEOPLE).set_value(True).run()
    assert not at.exception
    (table,) = [d.value for d in at.dataframe if "name" in d.value.columns]
    start, end = wh.date_bounds()
    want = wh.org_people(start, end, child, LEAD)
    assert sorted(table["name"]) == sorted(want["display_name"])
    assert set(table["name"]) <= people_names(wh, subtree(wh, child))
    tree_views = {LEAD_TEAM, child}  # trees with cells under k people are logged as views too (review 7)
    assert [s for s in audit.read(log)["subject"] if s not in tree_views] == [f"people of {child}"]

    person = want["user_id"].iloc[0]
    at.selectbox(key=explorer.PERSON).set_value(person).run()
    assert not at.exception
    assert want["display_name"].iloc[0] in [m.value for m in at.markdown][-1]
    assert {"Tokens", "Suspect weeks"} <= {m.label for m in at.metric}
    assert [s for s in audit.read(log)["subject"] if s not in tree_views] == [person, f"people of {child}"]

    # back up the path: the person closes and the whole line is shown again
    at.button(key="org.crumb.0").click().run()
    assert treemap(at)[f"n:{LEAD_TEAM}"][0] == ""
    assert at.session_state[explorer.FOCUS] == LEAD_TEAM


def test_drill_state_outside_the_scope_resets_to_the_leads_line(log, wh):
    at = run(LEAD, **{explorer.FOCUS: OUTSIDE})
    cells = treemap(at)
    assert cells[f"n:{LEAD_TEAM}"][0] == "" and f"n:{OUTSIDE}" not in cells
    assert {c[2:] for c in cells if c.startswith("n:")} <= subtree(wh, LEAD_TEAM)
    assert any("not in your view" in c.value for c in at.caption)
    assert at.session_state[explorer.FOCUS] is None


def test_leadership_sees_teams_of_at_least_k_people_no_names_and_nothing_by_subtraction(log, wh):
    at = run(LEADERSHIP)
    cells = treemap(at)
    assert len([c for c in cells if c.startswith("n:")]) > 1
    assert_no_subtraction_leak(cells, LEADERSHIP.k)
    assert not at.toggle and not [s for s in at.selectbox if s.key == explorer.PERSON]
    text = page_text(at)
    assert not [name for name in people_names(wh) if name in text]
    assert "People are not listed for your role" in text

    # drilled into a team, its peers are shown teams of at least k people too
    team = next(c[2:] for c, v in cells.items() if v[0] == "n:t-0001" and c.startswith("n:"))
    at.selectbox(key=explorer.DRILL).set_value(team).run()
    assert not at.exception
    (peers,) = [d.value for d in at.dataframe]
    assert peers["label"].iloc[0] == cells[f"n:{team}"][1] and len(peers) > 1
    assert (peers["people"] >= LEADERSHIP.k).all()
    assert set(peers["label"]) <= {v[1] for c, v in cells.items() if c.startswith("n:")}
    assert_no_subtraction_leak(treemap(at), LEADERSHIP.k)
    assert not [name for name in people_names(wh) if name in page_text(at)]
    assert not log.exists()


def test_a_larger_k_for_finance_holds_on_the_page(log):
    finance = Scope("finance", None, None, False, 12)
    cells = treemap(run(finance))
    assert_no_subtraction_leak(cells, 12)


def test_an_admin_sees_every_team_and_people_by_name(log, wh):
    at = run(ADMIN)
    cells = treemap(at)
    start, end = wh.date_bounds()
    used = set(wh.org_people(start, end, None, ADMIN)["team_id"])
    assert used <= {c[2:] for c in cells if c.startswith("n:")}
    at.toggle(key=explorer.PEOPLE).set_value(True).run()
    (table,) = [d.value for d in at.dataframe if "name" in d.value.columns]
    assert len(table) == len(wh.org_people(start, end, None, ADMIN))


def test_people_are_withheld_when_the_view_cannot_be_logged(monkeypatch, log, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("GOODHART_AUDIT", str(blocker / "audit.jsonl"))
    at = run(LEAD)
    at.toggle(key=explorer.PEOPLE).set_value(True).run()
    assert not at.exception
    assert any("could not be audit-logged" in e.value for e in at.error)
    assert not [d for d in at.dataframe if "name" in d.value.columns]


def test_a_member_is_sent_to_their_own_usage(log):
    at = run(Scope("member", (), "u-00001", True, 1))
    assert "My usage" in at.info[0].value
    assert not at.get("plotly_chart")


def test_a_period_without_usage_explains_itself(log, wh):
    first, _ = wh.date_bounds()
    before = first - timedelta(days=60)
    at = run(LEADERSHIP, **{"test.range": (before, before + timedelta(days=6))})
    assert "Nobody in your view used AI tools in this period, or fewer than 5 people did" in at.info[0].value
    assert not at.get("plotly_chart") and not at.dataframe


# -- review 7: cells of a few people, for viewers shown every team of their line, are individual views ----------


def test_a_leads_tree_with_a_cell_under_k_people_is_an_audited_view(log, wh, monkeypatch):
    monkeypatch.delenv("GOODHART_K", raising=False)
    at = run(LEAD)
    cells = treemap(at)
    assert min(v[3] for v in cells.values()) < 5  # e.g. 'Direct members' of one team: a single person
    assert list(audit.read(log)["subject"]) == [LEAD_TEAM]  # the focused team, recorded once per session
    at.run()
    assert len(audit.read(log)) == 1

    # a lead of two lines sees both at the top, no one team in focus: the subject says so
    run(Scope("lead", (LEAD_TEAM, OUTSIDE), None, True, 1))
    assert list(audit.read(log)["subject"]) == ["top of the tree", LEAD_TEAM]


def test_a_leads_tree_of_teams_of_at_least_k_people_is_not_logged(log, wh, monkeypatch):
    monkeypatch.delenv("GOODHART_K", raising=False)
    start, end = wh.date_bounds()
    leaf = next(
        team
        for team in sorted(subtree(wh, LEAD_TEAM))
        if len(cells := wh.org_tree(start, end, Scope("lead", (team,), None, True, 1))) == 1
        and cells["people"].iloc[0] >= 5
    )
    at = run(Scope("lead", (leaf,), None, True, 1))
    assert len(treemap(at)) == 1 and not log.exists()


def test_a_leads_tree_is_withheld_when_the_view_cannot_be_logged(monkeypatch, log, tmp_path):
    monkeypatch.delenv("GOODHART_K", raising=False)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("GOODHART_AUDIT", str(blocker / "audit.jsonl"))
    at = run(LEAD)
    assert any("could not be audit-logged" in e.value for e in at.error)
    assert any("fewer than 5 people" in i.value for i in at.info)
    assert not at.get("plotly_chart") and not at.metric and not at.dataframe
    assert not [s for s in at.selectbox if s.key == explorer.DRILL]
