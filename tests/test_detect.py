"""Detection on hand-made organisations: padders are caught with reasons, bursty humans, heavy users and declared
automation are not, and missing outcomes never count as zero."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from analytics import detect, ingest, reviews, thresholds
from analytics.thresholds import Thresholds

START = date(2026, 9, 7)  # a Monday
WEEKS = 6


def build(
    tmp_path,
    con,
    *,
    padder: bool = True,
    scheduled: bool = False,
    outcomes: bool = True,
    labels: bool = True,
    outcome_tool: bool = True,
    since: date | None = None,
):
    """40 engineers on one tool with bursty human traffic and outcomes; p00 is the heaviest, burstiest
    genuine user; p01 works agentically (about 20 agent steps per prompt, three times the calls, outcomes
    in proportion); p39 adds an overnight loop when `padder`; p38 owns a declared nightly job when
    `scheduled`. `labels=False`: the tool labels no call (initiated_by unknown) for anyone but the padder;
    `outcome_tool=False`: outcomes name no tool (as a git host reports them)."""
    rng = np.random.default_rng(5)
    people = pd.DataFrame(
        {
            "user_id": [f"p{i:02d}" for i in range(40)],
            "display_name": [f"Person {i}" for i in range(40)],
            "team_id": "eng",
            "title": "Software Engineer",
            "timezone": "UTC",
        }
    )
    pd.DataFrame({"team_id": ["eng"], "team_name": ["Engineering"]}).to_csv(tmp_path / "teams.csv", index=False)
    people.to_csv(tmp_path / "people.csv", index=False)
    events, done = [], []
    for i, user in enumerate(people["user_id"]):
        heavy = 4.0 if i == 0 else 3.0 if i == 1 else 1.0
        every = 20 if i == 1 else 4  # one human prompt per this many calls
        for d in range(WEEKS * 7):
            day = START + timedelta(days=d)
            if day.weekday() >= 5:
                continue
            t = datetime(day.year, day.month, day.day, 9) + timedelta(minutes=float(rng.uniform(0, 60)))
            calls = int(rng.poisson(30 * heavy))
            for k in range(calls):
                # bursts of quick calls, then long pauses: far burstier than Poisson (CV well above 1)
                gap = rng.pareto(1.2) * 20 if i == 0 else rng.lognormal(4.5, 1.1)
                t += timedelta(seconds=float(min(gap, 3000)))
                by = ("human" if k % every == 0 else "agent") if labels else "unknown"
                events.append((f"{user}-{d}-{k}", t, user, by, 20_000, 800, 15_000, None))
            if outcomes:
                done.append((f"o-{user}-{d}", t, user, "commit", 1 + calls // 10))
        if padder and i == 39:
            for d in range(WEEKS * 7):
                day = START + timedelta(days=d)
                t = datetime(day.year, day.month, day.day, 0, 30)
                for k in range(60):
                    t += timedelta(seconds=float(300 * (1 + rng.normal(0, 0.02))))
                    fp = f"{(0xA5A5F00D12345678 ^ (1 << int(rng.integers(0, 64)))):016x}"
                    events.append((f"loop-{d}-{k}", t, user, "human", 30_000, 300, 60_000, fp))
        if scheduled and i == 38:
            for d in range(WEEKS * 7):
                day = START + timedelta(days=d)
                t = datetime(day.year, day.month, day.day, 2)
                for k in range(50):
                    t += timedelta(seconds=120)
                    events.append((f"job-{d}-{k}", t, user, "schedule", 40_000, 500, 80_000, None))
    frame = pd.DataFrame(
        events,
        columns=[
            "event_id",
            "ts",
            "user_id",
            "initiated_by",
            "input_tokens",
            "output_tokens",
            "cache_read_tokens",
            "prompt_fingerprint",
        ],
    ).assign(tool="claude-code", session_id=lambda f: f["user_id"] + "-" + f["ts"].dt.date.astype(str))
    frame["ts"] = frame["ts"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    frame.to_csv(tmp_path / "usage_events.csv", index=False)
    paths = [tmp_path / "teams.csv", tmp_path / "people.csv", tmp_path / "usage_events.csv"]
    if done:
        out = pd.DataFrame(done, columns=["outcome_id", "ts", "user_id", "kind", "quantity"])
        if outcome_tool:
            out = out.assign(tool="claude-code")
        out["ts"] = out["ts"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
        out.to_csv(tmp_path / "outcomes.csv", index=False)
        paths.append(tmp_path / "outcomes.csv")
    summary = ingest.ingest(con, paths, now=datetime(2026, 11, 25))
    assert not summary.failed
    return detect.detect(con, *detect.window(con, since, None))


def test_an_overnight_loop_is_flagged_with_reasons_and_nobody_else_is(tmp_path, con):
    found = build(tmp_path, con).people.set_index("user_id")
    assert found["flagged"].sum() == 1
    padder = found.loc["p39"]
    assert padder["flagged"] and padder["suspicion"] >= 0.5
    assert {"timing", "outcome"} <= set(padder["families"].split(","))
    assert "between 00:00 and 06:00 local time" in padder["reasons"]
    assert padder["tokens_at_stake"] > 0
    # the heaviest, burstiest genuine user is not flagged: burstiness alone is never a signal
    assert not found.loc["p00", "flagged"] and found.loc["p00", "suspicion"] < 0.5
    # nor is the agentic one: many agent steps per prompt is how heavy genuine users work
    assert not found.loc["p01", "flagged"]


def test_outcomes_that_name_no_tool_still_judge_yield(tmp_path, con):
    found = build(tmp_path, con, outcome_tool=False)
    assert found.weeks["tokens_per_outcome"].notna().any()
    padder = found.people.set_index("user_id").loc["p39"]
    assert padder["flagged"] and "outcome" in padder["families"].split(",")


def test_unlabelled_calls_are_not_read_as_sessions_without_a_person(tmp_path, con):
    found = build(tmp_path, con, labels=False)
    genuine = found.weeks[found.weeks["user_id"] != "p39"]
    assert genuine["unprompted_share"].isna().all()  # cannot tell, so never fires
    assert not found.people.set_index("user_id").drop("p39")["flagged"].any()


def test_a_window_starting_mid_week_does_not_make_full_weeks_look_like_spikes(tmp_path, con):
    found = build(tmp_path, con, padder=False, since=START + timedelta(days=3))  # a Thursday
    assert not found.weeks["families"].str.contains("change").any()
    assert not found.people["flagged"].any()


def test_declared_automation_is_never_suspected(tmp_path, con):
    found = build(tmp_path, con, padder=False, scheduled=True).people.set_index("user_id")
    assert found["flagged"].sum() == 0
    con.execute("SELECT 1")
    split = con.execute("SELECT sum(scheduled_tokens), sum(suspected_tokens) FROM mart_person_week").fetchone()
    assert split[0] > 0 and split[1] == 0


def test_without_outcome_reports_the_outcome_family_cannot_fire(tmp_path, con):
    found = build(tmp_path, con, outcomes=False)
    assert found.weeks["tokens_per_outcome"].isna().all()
    assert not found.weeks["families"].str.contains("outcome").any()


def test_refresh_marks_suspect_weeks_and_real_adoption_excludes_them(tmp_path, con):
    build(tmp_path, con)
    weeks = con.execute(
        "SELECT count(*), bool_and(is_suspected), sum(suspected_tokens) > 0 FROM mart_person_week "
        "WHERE user_id = 'p39' AND is_suspected"
    ).fetchone()
    assert weeks[0] >= 2 and weeks[1] and weeks[2]
    real = con.execute("SELECT sum(real_active) FROM mart_org_week").fetchone()[0]
    backed = con.execute("SELECT count(*) FILTER (WHERE is_outcome_backed) FROM mart_person_week").fetchone()[0]
    assert real == backed - weeks[0]


def test_detect_command_writes_the_contract_csv(tmp_path, con):
    build(tmp_path, con)
    db = con.execute("SELECT path FROM duckdb_databases() WHERE NOT internal").fetchone()[0]
    con.close()
    out = tmp_path / "detect.csv"
    run = subprocess.run(
        [sys.executable, "-m", "analytics", "detect", "--db", db, "--out", str(out), "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    assert (summary["people"], summary["flagged"]) == (40, 1)
    table = pd.read_csv(out, keep_default_na=False, dtype=str)
    assert list(table.columns[:4]) == ["user_id", "suspicion", "flagged", "reasons"]
    assert set(table["flagged"]) == {"true", "false"}
    assert table.loc[table["flagged"] == "false", "reasons"].eq("").all()
    assert table["suspicion"].astype(float).between(0, 1).all()
    bad = subprocess.run(
        [sys.executable, "-m", "analytics", "detect", "--db", db, "--since", "2026-10-10", "--until", "2026-10-01"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
    after = subprocess.run(
        [sys.executable, "-m", "analytics", "detect", "--db", db, "--since", "2030-01-01"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert after.returncode == 2 and "no days to score" in after.stderr and after.stderr.count("\n") == 1


def test_a_window_without_usage_flags_nobody_and_still_lists_everyone_employed(tmp_path, con):
    build(tmp_path, con)
    found = detect.detect(con, date(2030, 1, 1), date(2030, 2, 1))
    assert list(found.people.columns) == list(detect.PEOPLE_COLUMNS)
    assert len(found.people) == 40 and not found.people["flagged"].any()
    assert (found.people["suspicion"] == 0).all() and found.people["flagged"].dtype == bool


def test_detect_refuses_a_settings_file_that_is_missing_or_out_of_range(tmp_path, con):
    build(tmp_path, con)
    db = con.execute("SELECT path FROM duckdb_databases() WHERE NOT internal").fetchone()[0]
    con.close()
    wide = tmp_path / "wide.toml"
    wide.write_text("night_share = 2.0\n")
    for config, message in ((tmp_path / "typo.toml", "no detection settings file"), (wide, "outside 0.0..1.0")):
        run = subprocess.run(
            [sys.executable, "-m", "analytics", "detect", "--db", db, "--config", str(config)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert run.returncode == 2 and message in run.stderr and run.stderr.count("\n") == 1


def test_threshold_files_are_checked(tmp_path):
    good = tmp_path / "ok.toml"
    good.write_text("[detection]\nz = 4\nmin_suspect_weeks = 3\n")
    assert thresholds.load(good) == Thresholds(z=4.0, min_suspect_weeks=3)
    for text, message in (
        ("zz = 1\n", "unknown detection setting"),
        ("min_families = 1\n", "at least 2"),
        ("z = 'high'\n", "must be a float"),
        ("z = [\n", "not valid TOML"),
        ('snapshot_dates = "2026-13-01"\n', "snapshot_dates must be"),
        ("snapshot_days = 100000000\n", "outside 1..31"),
    ):
        bad = tmp_path / "bad.toml"
        bad.write_text(text)
        with pytest.raises(ValueError, match=message):
            thresholds.load(bad)


def test_a_dismissal_holds_until_newer_evidence(tmp_path):
    store = tmp_path / "r.duckdb"
    reviews.record(store, "p1", "dismiss", "Ann", "fine", date(2026, 10, 5))
    reviews.record(store, "p2", "confirm", "Ann")
    reviews.record(store, "p3", "note", "Bo", "looking")
    suspects = pd.DataFrame(
        {"user_id": ["p1", "p2", "p3"], "last_suspect_week": pd.to_datetime(["2026-10-05", "2026-10-05", "2026-10-05"])}
    )
    log = reviews.history(store)
    assert len(log) == 3 and log["reviewer"].tolist()[-1] == "Ann"
    assert reviews.states(log, suspects).to_dict() == {"p1": "dismissed", "p2": "confirmed", "p3": "open"}
    suspects.loc[0, "last_suspect_week"] = pd.Timestamp("2026-10-12")
    assert reviews.states(log, suspects)["p1"] == "reopened"
    with pytest.raises(ValueError):
        reviews.record(store, "p1", "erase", "Ann")


def test_the_example_settings_file_documents_the_defaults():
    from pathlib import Path

    example = Path(__file__).resolve().parents[1] / "data" / "detection.example.toml"
    assert thresholds.load(example) == Thresholds()


def test_every_stored_week_column_is_the_weeks_own_or_spanning(demo_db, tmp_path):
    """A refresh of later weeks rewrites only the SPANNING columns of earlier weeks (detect.persist): every other
    column must come from the week's own rows (the features query) or its judgement against that week's peers."""
    import shutil

    from analytics.warehouse import connect

    path = tmp_path / "copy.duckdb"
    shutil.copy(demo_db, path)
    con = connect(path)
    t = Thresholds()
    since, until = detect.window(con, None, None)
    detect._load_event_features(con)
    detect.run_script(con, "detect_features", detect.script_params(t, since=since, until=until, fresh=since))
    own = {row[0] for row in con.execute("DESCRIBE _det_week").fetchall()}
    own |= {*detect._peer_columns(t), "peer_tool", "peer_group", "active_days"}
    stored = [row[0] for row in con.execute("DESCRIBE det_person_week").fetchall()]
    con.close()
    assert not own & set(detect.SPANNING)
    assert set(stored) == own | set(detect.SPANNING)
