"""Marts and read queries on small hand-checked data."""

from __future__ import annotations

from datetime import date

import pytest

from analytics import ingest
from analytics.queries import Warehouse, last_complete_week
from analytics.warehouse import WarehouseError, load_prices
from tests.conftest import write_csv

HEADER = (
    "event_id,ts,user_id,tool,model,initiated_by,input_tokens,output_tokens,cache_read_tokens,"
    "cache_write_tokens,cost_usd,session_id"
)


@pytest.fixture
def loaded(con, tmp_path, org):
    events = write_csv(
        tmp_path / "usage_events.csv",
        HEADER,
        [
            # Ada (Madrid, UTC+2 in October): 23:30 UTC on Thu 1 Oct is Fri 2 Oct locally
            "e1,2026-10-01T23:30:00Z,a1,claude-code,claude-sonnet-4-5,human,1000,200,10000,0,,s1",
            "e2,2026-10-01T23:31:00Z,a1,claude-code,claude-sonnet-4-5,agent,2000,300,20000,1000,,s1",
            # Bo (New York): a model without its own price falls back to the default row; a reported cost is kept
            "e3,2026-10-02T14:00:00Z,bo@acme.example,claude-code,mystery-model,human,1000000,0,0,0,,s2",
            "e4,2026-10-02T15:00:00Z,b2,chat-assistant,gpt-5,human,100,100,0,0,0.5,s3",
            # an identity nobody matches
            "e5,2026-10-02T15:00:00Z,robot@vendor.example,claude-code,claude-sonnet-4-5,schedule,10,10,0,0,,s4",
            # Cy joins on 7 Oct: usage in the week of 12 Oct
            "e6,2026-10-13T09:00:00Z,c3,chat-assistant,gpt-5,human,50,50,0,0,,s5",
        ],
    )
    outcomes = write_csv(
        tmp_path / "outcomes.csv",
        "outcome_id,ts,user_id,kind,quantity,tool",
        [
            "o1,2026-10-02T08:00:00Z,a1,commit,1,claude-code",
            "o2,2026-10-02T08:05:00Z,a1,lines_added,40,claude-code",
            "o3,2026-10-02T08:06:00Z,a1,edit_rejected,1,claude-code",
            "o4,2026-10-06T08:00:00Z,b2,pr_merged,1,",
        ],
    )
    ingest.ingest(con, [org, events, outcomes])
    return con


def test_person_day_tool_sums_tokens_cost_and_outcomes_on_local_days(loaded):
    rows = loaded.execute(
        "SELECT identity, user_id, day, tool, tokens, round(cost_usd, 6), requests, human_prompts, agent_steps, "
        "scheduled_requests, sessions, commits, lines_added, edits_rejected, prs_merged, real_outcomes "
        "FROM mart_person_day_tool ORDER BY day, identity, tool"
    ).fetchall()
    sonnet = (1000 * 3 + 200 * 15 + 10000 * 0.3 + 2000 * 3 + 300 * 15 + 20000 * 0.3 + 1000 * 3.75) / 1e6
    assert rows == [
        ("a1", "a1", date(2026, 10, 2), "claude-code", 34500, round(sonnet, 6), 2, 1, 1, 0, 1, 1, 40, 1, 0, 1),
        ("b2", "b2", date(2026, 10, 2), "chat-assistant", 200, 0.5, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0),
        ("bo@acme.example", "b2", date(2026, 10, 2), "claude-code", 1000000, 3.0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0),
        (
            "robot@vendor.example",
            None,
            date(2026, 10, 2),
            "claude-code",
            20,
            round((10 * 3 + 10 * 15) / 1e6, 6),
            1,
            0,
            0,
            1,
            1,
            0,
            0,
            0,
            0,
            0,
        ),
        ("b2", "b2", date(2026, 10, 6), "unknown", 0, 0.0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1),
        (
            "c3",
            "c3",
            date(2026, 10, 13),
            "chat-assistant",
            100,
            round((50 * 1.25 + 50 * 10) / 1e6, 6),
            1,
            1,
            0,
            0,
            1,
            0,
            0,
            0,
            0,
            0,
        ),
    ]


def test_weekly_adoption_counts_headcount_active_and_real(loaded):
    weekly = Warehouse(loaded).weekly_adoption(date(2026, 9, 28), date(2026, 10, 18))
    got = weekly[["week", "headcount", "active", "real_active"]].astype({"week": str}).values.tolist()
    assert got == [
        ["2026-09-28", 2, 2, 1],  # Ada active with a commit; Bo active, no outcome that week
        ["2026-10-05", 3, 0, 0],  # Bo's merged PR alone is not use; Cy joins on 7 Oct
        ["2026-10-12", 3, 1, 0],  # Cy chats: active, not backed by outcomes
    ]


def test_adoption_headline_defaults_to_last_complete_week(loaded):
    wh = Warehouse(loaded)
    assert wh.date_bounds() == (date(2026, 10, 2), date(2026, 10, 13))
    assert wh.adoption() == {
        "week": "2026-10-05",
        "headcount": 3,
        "active": 0,
        "active_share": 0.0,
        "real": 0,
        "real_share": 0.0,
    }
    assert wh.adoption(date(2026, 10, 1))["week"] == "2026-09-28"
    assert wh.adoption(date(2026, 10, 1))["real_share"] == 0.5


def test_last_complete_week():
    assert last_complete_week((date(2026, 1, 1), date(2026, 10, 18))) == date(2026, 10, 12)  # a Sunday
    assert last_complete_week((date(2026, 1, 1), date(2026, 10, 17))) == date(2026, 10, 5)
    assert last_complete_week((date(2026, 10, 14), date(2026, 10, 15))) == date(2026, 10, 12)


def test_status_reports_the_contract_keys(loaded):
    status = Warehouse(loaded).status()
    assert status["events"] == 6 and status["outcomes"] == 4 and status["people"] == 3 and status["teams"] == 4
    assert status["tokens"] == 34500 + 200 + 1000000 + 20 + 100
    assert status["unattributed_identities"] == 1 and status["unattributed_tokens"] == 20
    assert [(u["identity"], u["tools"], u["tokens"]) for u in status["unattributed"]] == [
        ("robot@vendor.example", ["claude-code"], 20)
    ]
    assert status["outcomes_by_kind"] == {"commit": 1, "edit_rejected": 1, "lines_added": 40, "pr_merged": 1}
    assert (status["first_day"], status["last_day"]) == ("2026-10-02", "2026-10-13")
    assert {s["tool"] for s in status["sources"]} == {"claude-code", "chat-assistant", "unknown"}


def test_org_tree_and_comparison(loaded):
    tree = dict(loaded.execute("SELECT team_id, org_id FROM dim_teams").fetchall())
    assert tree == {"root": "root", "eng": "eng", "web": "eng", "ops": "ops"}
    paths = dict(loaded.execute("SELECT team_id, path FROM dim_teams").fetchall())
    assert paths["web"] == "Acme / Engineering / Web"
    orgs = Warehouse(loaded).org_comparison(date(2026, 9, 28), date(2026, 10, 18)).set_index("org_id")
    assert orgs.loc["eng", "tokens"] == 34500 + 200 + 1000000
    assert orgs.loc["eng", "real_outcomes"] == 2  # Ada's commit and Bo's merged PR; lines are not counted
    # Cy only chats, and the chat tool reports no outcomes: ops' real adoption cannot be known
    assert (orgs.loc["eng", "outcome_coverage"], orgs.loc["ops", "outcome_coverage"]) == (1.0, 0.0)


def test_new_prices_reprice_history(loaded, tmp_path):
    book = write_csv(
        tmp_path / "prices.csv",
        "model,token_type,usd_per_mtok,effective_from",
        [
            "*,input,1,2020-01-01",
            "*,output,1,2020-01-01",
            "*,cache_read,0,2020-01-01",
            "*,cache_write,0,2020-01-01",
            "mystery-model,input,2,2026-10-02",
        ],
    )
    load_prices(loaded, book)
    from analytics import marts

    marts.refresh(loaded)
    cost = loaded.execute("SELECT cost_usd FROM mart_person_day_tool WHERE identity = 'bo@acme.example'").fetchone()
    assert cost == (2.0,)
    with pytest.raises(WarehouseError, match="no default row"):
        load_prices(
            loaded,
            write_csv(tmp_path / "p2.csv", "model,token_type,usd_per_mtok,effective_from", ["m,input,1,2020-01-01"]),
        )
    with pytest.raises(WarehouseError, match="line 2"):
        load_prices(
            loaded,
            write_csv(tmp_path / "p3.csv", "model,token_type,usd_per_mtok,effective_from", ["*,inptu,1,2020-01-01"]),
        )
    assert loaded.execute("SELECT count(*) FROM prices").fetchone()[0] == 5  # the bad files changed nothing


def test_price_changes_carry_other_token_types_and_cover_early_usage(con, tmp_path):
    book = write_csv(
        tmp_path / "prices.csv",
        "model,token_type,usd_per_mtok,effective_from",
        [
            "*,input,100,2024-01-01",
            "*,output,100,2024-01-01",
            "*,cache_read,100,2024-01-01",
            "*,cache_write,100,2024-01-01",
            "m1,input,1,2025-01-01",
            "m1,output,3,2026-01-01",
        ],
    )
    load_prices(con, book)
    events = write_csv(
        tmp_path / "usage_events.csv",
        HEADER,
        [
            # after the output-only change, input keeps m1's own price of $1 (not the $100 default)
            "p1,2026-02-01T00:00:00Z,a1,claude-code,m1,human,1000000,1000000,0,0,,s",
            # before m1's first price: its first prices apply
            "p2,2023-06-01T00:00:00Z,a1,claude-code,m1,human,1000000,0,0,0,,s",
            # before any default price, for a model with none of its own: the default's first prices apply
            "p3,2023-06-01T00:00:00Z,a1,chat-assistant,other,human,1000000,0,0,0,,s",
        ],
    )
    ingest.ingest(con, [events])
    costs = dict(con.execute("SELECT tool || strftime(day, '-%Y'), cost_usd FROM mart_person_day_tool").fetchall())
    assert costs == {"claude-code-2026": 1.0 + 3.0, "claude-code-2023": 1.0, "chat-assistant-2023": 100.0}
