"""Leaderboards on hand-made organisations: padding falls, heavy genuine use stays, every figure by hand."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, datetime, timedelta

import pandas as pd
import pytest

from analytics import ingest
from analytics import leaderboard as lb
from analytics.queries import Warehouse
from tests.test_detect import build

MONDAY = date(2026, 9, 7)
WEEKS = 4


def board(con, start=MONDAY, end=None, tool=None, subtree=None) -> pd.DataFrame:
    end = end or MONDAY + timedelta(weeks=WEEKS, days=-1)
    raw = Warehouse(con).leaderboard_people(start, end, tool, subtree)
    return lb.people_board(raw, key="k", show_names=True).set_index("entity_id")


def test_a_padder_falls_and_the_heaviest_genuine_user_takes_the_top(tmp_path, con):
    found = build(tmp_path, con).people.set_index("user_id")
    assert found.loc["p39", "flagged"] and not found.loc["p00", "flagged"]
    got = board(con, MONDAY, MONDAY + timedelta(weeks=6, days=-1))
    # raw: the overnight loop tops the scoreboard, ahead of the heavy genuine and the agentic user
    assert got.loc["p39", "rank_raw"] == 1
    assert got.loc["p00", "rank_raw"] == 2 and got.loc["p01", "rank_raw"] == 3
    # adjusted: the heavy genuine user leads, the agentic one stays near the top, the padder falls far
    assert got.loc["p00", "rank_adjusted"] == 1
    assert got.loc["p01", "rank_adjusted"] <= 3
    assert got.loc["p39", "rank_adjusted"] > len(got) // 2
    assert got.loc["p39", "flagged"] and got.loc["p39", "suspected_tokens"] > 0
    assert (got["adjusted_tokens"] <= got["tokens"]).all()
    head = lb.headline(got.reset_index(), top=3)
    assert head.kept == 2  # of the raw top 3, the padder alone drops out
    raw_top = got[got["rank_raw"] <= 3]
    assert head.suspected_share == pytest.approx(raw_top["suspected_tokens"].sum() / raw_top["tokens"].sum())


def daily_org(tmp_path, con) -> None:
    """Ten peers on `assist` (10M tokens and 50 commits a week each), and four people to judge:
    `low` spends 40M a week for 10 commits; `cache` spends 10M of which 5M are cache reads, for 50 commits;
    `chat` uses only `chat`, a tool that reports no outcomes; `mixed` uses `assist` like a peer (10M, 50
    commits) and `chat` for 30M more; `small` sits alone in team `tiny`."""
    teams = pd.DataFrame(
        {
            "team_id": ["root", "eng", "tiny"],
            "team_name": ["Acme", "Engineering", "Tiny"],
            "parent_team_id": ["", "root", "root"],
        }
    )
    people = [f"peer{i}" for i in range(10)] + ["low", "cache", "chat", "mixed"]
    frame = pd.DataFrame({"user_id": people, "display_name": people, "team_id": "eng", "title": "Engineer"})
    frame = pd.concat(
        [frame, pd.DataFrame([{"user_id": "small", "display_name": "small", "team_id": "tiny", "title": "Engineer"}])]
    )
    frame["timezone"] = "UTC"
    daily, done = [], []
    for w in range(WEEKS):
        day = MONDAY + timedelta(weeks=w)
        for user in [*people, "small"]:
            if user == "mixed":
                daily.append({"day": day, "user_id": user, "tool": "chat", "requests": 100,
                              "input_tokens": 30_000_000, "output_tokens": 0})  # fmt: skip
            tool = "chat" if user == "chat" else "assist"
            total = 40_000_000 if user == "low" else 10_000_000
            cache = 5_000_000 if user == "cache" else 0
            daily.append({"day": day, "user_id": user, "tool": tool, "requests": 100,
                          "input_tokens": total - cache, "output_tokens": 0, "cache_read_tokens": cache})  # fmt: skip
            if tool == "assist":
                commits = 10 if user == "low" else 50
                ts = datetime(day.year, day.month, day.day, 12)
                done.append({"outcome_id": f"{user}-{w}", "ts": ts.isoformat() + "Z", "user_id": user,
                             "kind": "commit", "quantity": commits, "tool": "assist"})  # fmt: skip
    teams.to_csv(tmp_path / "teams.csv", index=False)
    frame.to_csv(tmp_path / "people.csv", index=False)
    pd.DataFrame(daily).to_csv(tmp_path / "usage_daily.csv", index=False)
    pd.DataFrame(done).to_csv(tmp_path / "outcomes.csv", index=False)
    names = ["teams", "people", "usage_daily", "outcomes"]
    summary = ingest.ingest(con, [tmp_path / f"{n}.csv" for n in names], now=datetime(2026, 11, 25))
    assert not summary.failed and summary.totals()["rejected"] == 0


def test_every_part_of_the_adjustment_by_hand(tmp_path, con):
    daily_org(tmp_path, con)
    got = board(con)
    assert not got["flagged"].any()  # nothing here is suspected: only yield and cache move the board
    weeks = WEEKS
    # peers: 50 commits x 5 units per 10M tokens = 25 units per million
    assert got.loc["peer0", "yield_per_m"] == pytest.approx(25.0)
    assert got.loc["peer0", "peer_yield_per_m"] == pytest.approx(25.0)
    assert got.loc["peer0", "adjusted_tokens"] == pytest.approx(10e6 * weeks)
    # low: 10 commits x 5 per 40M = 1.25 per million, a twentieth of the peers'; tokens count in proportion to
    # a third of the peer yield: 1.25 / (25 / 3) = 0.15
    assert got.loc["low", "yield_per_m"] == pytest.approx(1.25)
    assert got.loc["low", "yield_factor"] == pytest.approx(0.15)
    assert got.loc["low", "adjusted_tokens"] == pytest.approx(40e6 * weeks * 0.15)
    # from first on the scoreboard to second-last: only `cache` (22M adjusted against low's 24M) is below
    assert got.loc["low", "rank_raw"] == 1 and got.loc["low", "rank_adjusted"] == len(got) - 1
    # cache: 5M fresh + 5M cache reads at a tenth = 5.5M a week; its yield is on all 10M, in line with peers
    assert got.loc["cache", "yield_factor"] == pytest.approx(1.0)
    assert got.loc["cache", "adjusted_tokens"] == pytest.approx(5.5e6 * weeks)
    # chat: a tool that reports no outcomes is not judged at all (missing is not zero)
    assert pd.isna(got.loc["chat", "yield_per_m"]) and got.loc["chat", "adjusted_tokens"] == pytest.approx(10e6 * weeks)
    # mixed: judged on its assist use alone (a peer's yield), its chat tokens count as they are
    assert got.loc["mixed", "yield_per_m"] == pytest.approx(25.0)
    assert got.loc["mixed", "adjusted_tokens"] == pytest.approx(40e6 * weeks)
    assert (got["adjusted_tokens"] <= got["tokens"]).all()
    assert sorted(got["rank_raw"]) == list(range(1, len(got) + 1))


def test_filters_narrow_what_is_shown_but_not_the_standard(tmp_path, con):
    daily_org(tmp_path, con)
    everyone = board(con)
    assist = board(con, tool="assist")
    assert "chat" not in assist.index and len(assist) == len(everyone) - 1
    chat = board(con, tool="chat")
    assert chat.loc["mixed", "adjusted_tokens"] == pytest.approx(30e6 * WEEKS)  # never discounted
    # the yield standard does not move with the tool filter
    assert assist.loc["low", "yield_factor"] == pytest.approx(everyone.loc["low", "yield_factor"])
    tiny = board(con, subtree="tiny")
    assert list(tiny.index) == ["small"]
    eng = board(con, subtree="eng")
    assert "small" not in eng.index and len(eng) == 14
    one_week = board(con, MONDAY, MONDAY + timedelta(days=6))
    assert one_week.loc["peer0", "tokens"] == 10_000_000


def test_small_teams_are_never_ranked_and_pseudonyms_are_keyed(tmp_path, con):
    daily_org(tmp_path, con)
    raw = Warehouse(con).leaderboard_people(MONDAY, MONDAY + timedelta(weeks=WEEKS, days=-1), None, None)
    people = lb.people_board(raw, key="secret", show_names=False)
    assert not people["entity_name"].isin(raw["display_name"]).any()
    assert people["entity_name"].str.match(r"^Person [A-Z2-7]{8}$").all()
    again = lb.people_board(raw, key="secret", show_names=False)
    assert list(people["entity_name"]) == list(again["entity_name"])  # stable
    other = lb.people_board(raw, key="another", show_names=False)
    assert not set(people["entity_name"]) & set(other["entity_name"])  # and not a plain hash of the id
    teams, withheld = lb.team_board(people, k=5)
    # `tiny` has one person; ranking `eng` alone would reveal it as the total minus `eng`, so both are held back
    assert teams.empty and withheld == 2
    eng, _ = lb.team_board(people[people["team_id"] == "eng"], k=5)
    assert list(eng["entity_id"]) == ["eng"]
    assert eng.loc[0, "tokens"] == people.loc[people["entity_id"] != "small", "tokens"].sum()
    assert eng.loc[0, "people"] == 14


def test_decoupling_warns_when_tokens_grow_and_outcomes_do_not():
    weeks = pd.date_range("2026-09-07", periods=8, freq="7D")

    def org(name, tokens, outcomes, measurable=1.0, people=20):
        return pd.DataFrame({"org_id": name, "org_name": name, "week": weeks, "people": people, "tokens": tokens,
                             "outcome_units": outcomes, "measurable_share": measurable})  # fmt: skip

    flat, rising, none = [100.0] * 8, [100.0] * 4 + [150.0] * 4, [0.0] * 8
    weekly = pd.concat([
        org("padding", rising, flat),
        org("growing", rising, [100.0] * 4 + [140.0] * 4),
        org("unknown", rising, flat, measurable=0.2),
        org("tiny", rising, flat, people=3),
        org("connected", rising, [0.0] * 4 + [50.0] * 4),  # an outcome source connected midway
        org("silent", rising, none),
    ])  # fmt: skip
    got = lb.decoupling(weekly, k=5).set_index("org_id")
    assert got.loc["padding", "status"] == "decoupling"
    assert got.loc["padding", "tokens_growth"] == pytest.approx(0.5)
    assert got.loc["padding", "outcomes_growth"] == pytest.approx(0.0)
    assert got.loc["growing", "status"] == "in step"
    assert got.loc["unknown", "status"].startswith("unknown")
    assert "tiny" not in got.index
    assert got.loc["connected", "status"] == "in step" and got.loc["connected", "outcomes_growth"] == float("inf")
    assert got.loc["silent", "status"] == "unknown: no outcomes in either period"


def test_the_command_writes_the_contract_columns(tmp_path, con):
    daily_org(tmp_path, con)
    db = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchone()[0]
    con.close()
    out = tmp_path / "board.csv"
    cmd = [sys.executable, "-m", "analytics", "leaderboard", "--db", db, "--top", "3", "--out", str(out), "--json"]
    run = subprocess.run(cmd, capture_output=True, text=True, check=True)
    summary = json.loads(run.stdout)
    rows = pd.read_csv(out)
    assert list(rows.columns[:7]) == [
        "entity_id", "entity_name", "tokens", "adjusted_tokens", "rank_raw", "rank_adjusted", "flagged",
    ]  # fmt: skip
    assert summary["rows"] == len(rows)
    assert rows.loc[0, "entity_id"] == "low" and rows.loc[0, "rank_raw"] == 1
    assert ((rows["rank_raw"] <= 3) | (rows["rank_adjusted"] <= 3)).all()
    teams = subprocess.run([*cmd[:-3], "--level", "team", "--json"], capture_output=True, text=True, check=True)
    assert json.loads(teams.stdout)["withheld_small_teams"] == 2  # `tiny`, and `eng` as its complement
    bad = subprocess.run([*cmd[:-3], "--team", "nope"], capture_output=True, text=True)
    assert bad.returncode == 2 and "no such team_id" in bad.stderr and "Traceback" not in bad.stderr
    bad = subprocess.run([*cmd[:6], "--since", "2026-10-01", "--until", "2026-09-01"], capture_output=True, text=True)
    assert bad.returncode == 2 and "is after" in bad.stderr
    # one Wednesday counts its whole week, and says so
    week = subprocess.run([*cmd[:6], "--since", "2026-09-09", "--until", "2026-09-09", "--json"], capture_output=True,
                          text=True, check=True)  # fmt: skip
    assert (json.loads(week.stdout)["since"], json.loads(week.stdout)["until"]) == ("2026-09-07", "2026-09-13")
