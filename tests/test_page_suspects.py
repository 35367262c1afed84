"""The Suspected inflation page through AppTest: the cases, their evidence, and the append-only review queue."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from analytics import reviews
from analytics.queries import Warehouse
from analytics.warehouse import connect_read_only


def suspects_script() -> None:
    import streamlit as st

    from pages import suspects
    from pages._shared import data

    st.session_state["goodhart.range"] = data.warehouse().date_bounds()
    from tests.pagekit import view_from_env

    suspects.page(view_from_env())


@pytest.fixture
def db(tmp_path, demo_db) -> Path:
    copy = tmp_path / "demo.duckdb"
    shutil.copy(demo_db, copy)
    return copy


def cases(at: AppTest):
    found = [d.value for d in at.dataframe if "reasons" in d.value.columns]
    assert len(found) == 1
    return found[0]


def run_page(monkeypatch, db: Path) -> AppTest:
    monkeypatch.setenv("GOODHART_DB", str(db))
    monkeypatch.delenv("GOODHART_REVIEWS", raising=False)
    return AppTest.from_function(suspects_script, default_timeout=90).run()


def test_the_page_lists_every_suspect_with_reasons_and_evidence(monkeypatch, db):
    at = run_page(monkeypatch, db)
    assert not at.exception
    want = Warehouse(connect_read_only(db)).suspects()
    flagged = want[want["flagged"]]
    assert len(flagged) > 0
    metrics = {m.label: m for m in at.metric}
    assert metrics["People suspected"].value == f"{len(flagged):,}"
    assert metrics["People suspected"].help == f"Out of {len(want):,} people scored."
    at_stake, tokens = int(flagged["tokens_at_stake"].sum()), int(want["tokens"].sum())
    assert metrics["Share of all tokens"].value == f"{at_stake / tokens:.0%}"
    # the earliest suspect week of anyone scored (flagged or not), as the caption gives it
    earliest = f"{pd.Timestamp(want['first_suspect_week'].min()):%d %b %Y}"
    assert any(f"Earliest suspect week: {earliest}." in c.value for c in at.caption)
    shown = cases(at)
    assert sorted(shown["display_name"]) == sorted(flagged["display_name"])
    assert shown["reasons"].str.len().min() > 0
    # the first case's evidence: heatmap, gap histogram, tokens against outcomes
    assert len(at.get("plotly_chart")) == 3
    assert at.subheader[0].value.replace("\\", "") == flagged.iloc[0]["display_name"]


def test_a_dismissal_is_recorded_with_who_and_stays_until_new_evidence(monkeypatch, db):
    at = run_page(monkeypatch, db)
    first = cases(at).iloc[0]["display_name"]
    assert not at.text_input  # the reviewer is whoever is looking, never a typed name
    at.radio[0].set_value("dismiss")
    at.text_area[0].set_value("Known load test, agreed with the team lead.")
    at.button[0].click().run()
    assert not at.exception
    assert "Recorded." in [s.value for s in at.success]
    log = reviews.history(reviews.path_for(db))
    assert list(log[["action", "reviewer"]].iloc[0]) == ["dismiss", "Demo admin"]
    # the open-cases view no longer lists the dismissed person
    at = run_page(monkeypatch, db)
    assert first not in set(cases(at)["display_name"])


def test_a_team_lead_reviews_under_their_own_e_mail_within_their_org(monkeypatch, db):
    wh = Warehouse(connect_read_only(db))
    flagged = wh.suspects()
    flagged = flagged[flagged["flagged"]]
    # the lead of the org holding the most suspects (a "Team lead of <org>" demo choice leads a whole org)
    team = wh.con.execute(
        "SELECT t.team_id, t.team_name, p.email FROM dim_teams t JOIN dim_people p ON p.user_id = t.lead_user_id "
        "WHERE t.depth = 1 ORDER BY t.team_id"
    ).fetchall()
    label, email, team_id = next(
        (f"Team lead of {name}", email, tid) for tid, name, email in team if (flagged["org_id"] == tid).any()
    )
    monkeypatch.setenv("GOODHART_TEST_VIEW", label)
    at = run_page(monkeypatch, db)
    shown = cases(at)
    assert len(shown) and set(shown["display_name"]) <= set(flagged.loc[flagged["org_id"] == team_id, "display_name"])
    at.radio[0].set_value("confirm")
    at.button[0].click().run()
    assert list(reviews.history(reviews.path_for(db))["reviewer"]) == [email]


def test_an_unreadable_review_history_is_a_warning_not_a_crash(monkeypatch, db, tmp_path):
    junk = tmp_path / "reviews.duckdb"
    junk.write_bytes(b"not a database at all" * 100)
    monkeypatch.setenv("GOODHART_DB", str(db))
    monkeypatch.setenv("GOODHART_REVIEWS", str(junk))
    at = AppTest.from_function(suspects_script, default_timeout=90).run()
    assert not at.exception
    assert any("Review history unavailable" in w.value for w in at.warning)
    assert len(cases(at)) > 0  # the cases still show
    assert not at.button  # but nothing can be recorded


def test_the_teams_tab_adds_up_to_the_people_suspected(monkeypatch, db):
    at = run_page(monkeypatch, db)
    teams = next(d.value for d in at.dataframe if "share_at_stake" in d.value.columns)
    want = Warehouse(connect_read_only(db)).suspects()
    flagged = want[want["flagged"]]
    assert teams["flagged"].sum() == flagged["team_id"].notna().sum()
    assert teams["tokens_at_stake"].sum() == flagged.loc[flagged["team_id"].notna(), "tokens_at_stake"].sum()
    assert (teams["families"].str.len() > 0).all()
