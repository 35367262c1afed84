"""Tests for the demo organisation generator: determinism, contract validity and persona signatures."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from analytics.canonical import INITIATED_BY, OUTCOME_KINDS
from analytics.demo import PERSONAS, TOKENMAXXER_STYLES, generate

END = date(2026, 11, 22)
DAYS = 60
START = END - timedelta(days=DAYS - 1)
FILES = ("teams", "people", "usage_events", "usage_daily", "outcomes")
TOKEN_COLUMNS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")
KINDS = set(OUTCOME_KINDS)
# Outcomes that count as "work delivered" when comparing tokens per outcome.
DELIVERED = ("edit_accepted", "commit", "pr_merged")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    files = generate(folder, users=300, days=DAYS, seed=7, end=END)
    tables = {name: pq.read_table(folder / f"{name}.parquet") for name in FILES}
    frames = {name: table.to_pandas() for name, table in tables.items()}
    personas = pd.read_parquet(folder / "eval" / "personas.parquet")
    return files, tables, frames, personas


def _local(events: pd.DataFrame, people: pd.DataFrame) -> pd.DataFrame:
    """Events with their person's local timestamp."""
    zones = people.set_index("user_id")["timezone"]
    events = events[events.user_id.isin(zones.index)].copy()
    events["zone"] = events.user_id.map(zones)
    parts = [
        group.assign(local=group.ts.dt.tz_convert(zone).dt.tz_localize(None))
        for zone, group in events.groupby("zone", sort=True)
    ]
    return pd.concat(parts).sort_index()


def _cv(seconds: np.ndarray) -> float:
    gaps = np.diff(np.sort(seconds))
    return float(gaps.std() / gaps.mean())


def _near_duplicate_share(fingerprints: pd.Series, max_bits: int = 6) -> float:
    """Share of prompts with another prompt of the same person at most ``max_bits`` bits away."""
    values = np.array([int(f, 16) for f in fingerprints], dtype=np.uint64)
    distance = np.bitwise_count(values[:, None] ^ values[None, :])
    np.fill_diagonal(distance, 64)
    return float((distance.min(axis=1) <= max_bits).mean())


def _tokens_per_outcome(frames, personas) -> pd.DataFrame:
    events, outcomes = frames["usage_events"], frames["outcomes"]
    coding = events[events.tool == "claude-code"]
    tokens = coding[list(TOKEN_COLUMNS)].sum(axis=1).groupby(coding.user_id).sum().rename("tokens")
    delivered = outcomes[(outcomes.tool == "claude-code") & outcomes.kind.isin(DELIVERED)]
    done = delivered.groupby("user_id").quantity.sum().rename("delivered")
    table = personas.set_index("user_id").join(tokens).join(done)
    table["per_outcome"] = table.tokens / table.delivered.replace(0, np.nan)
    table.loc[table.tokens.gt(0) & table.delivered.fillna(0).eq(0), "per_outcome"] = np.inf
    return table


# ---- determinism -------------------------------------------------------------------------------


def test_same_seed_gives_identical_files_and_another_seed_differs(tmp_path: Path):
    first = generate(tmp_path / "a", users=150, days=28, seed=3, end=END)
    second = generate(tmp_path / "b", users=150, days=28, seed=3, end=END)
    other = generate(tmp_path / "c", users=150, days=28, seed=4, end=END)
    for name in FILES:
        assert (tmp_path / "a" / f"{name}.parquet").read_bytes() == (tmp_path / "b" / f"{name}.parquet").read_bytes()
    assert (tmp_path / "a/eval/personas.parquet").read_bytes() == (tmp_path / "b/eval/personas.parquet").read_bytes()
    pd.testing.assert_frame_equal(first.personas, second.personas)
    assert (first.events, first.outcomes, first.daily_rows) == (second.events, second.outcomes, second.daily_rows)
    assert (tmp_path / "a/usage_events.parquet").read_bytes() != (tmp_path / "c/usage_events.parquet").read_bytes()
    assert not first.personas.equals(other.personas)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"users": 19}, "users"),
        ({"users": 0}, "users"),
        ({"days": 6}, "days"),
        ({"days": -1}, "days"),
    ],
)
def test_rejects_too_small_arguments(tmp_path: Path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        generate(tmp_path, end=END, **kwargs)
    assert not (tmp_path / "usage_events.parquet").exists()


def test_writes_the_five_canonical_files_and_ground_truth_out_of_the_way(demo, tmp_path):
    files, tables, _, _ = demo
    names = sorted(p.name for p in files.folder.iterdir() if p.is_file())
    assert names == sorted(f"{name}.parquet" for name in FILES)
    assert (files.folder / "eval" / "personas.parquet").is_file()
    assert files.people == tables["people"].num_rows
    assert files.events == tables["usage_events"].num_rows
    assert files.outcomes == tables["outcomes"].num_rows
    assert files.daily_rows == tables["usage_daily"].num_rows
    calls = []
    generate(tmp_path, users=40, days=14, end=END, progress=lambda f, m: calls.append((f, m)))
    fractions = [f for f, _ in calls]
    assert len(calls) >= 3 and fractions == sorted(fractions) and fractions[-1] == 1.0
    assert all(isinstance(m, str) and m for _, m in calls)


# ---- contract validity -------------------------------------------------------------------------


def test_columns_types_and_required_values_follow_the_contract(demo):
    _, tables, _, _ = demo
    required = {
        "teams": ("team_id", "team_name"),
        "people": ("user_id", "display_name", "team_id"),
        "usage_events": ("event_id", "ts", "user_id", "tool", "input_tokens", "output_tokens"),
        "usage_daily": ("day", "user_id", "tool", "input_tokens", "output_tokens"),
        "outcomes": ("outcome_id", "ts", "user_id", "kind"),
    }
    for name, columns in required.items():
        table = tables[name]
        assert table.num_rows > 0
        for column in columns:
            assert table.column(column).null_count == 0, f"{name}.{column} has nulls"
    events, daily, outcomes = tables["usage_events"], tables["usage_daily"], tables["outcomes"]
    people = tables["people"]
    for table in (events, outcomes):
        assert table.schema.field("ts").type == pa.timestamp("us", tz="UTC")
    assert daily.schema.field("day").type == pa.date32()
    assert people.schema.field("active_from").type == pa.date32()
    assert people.schema.field("active_to").type == pa.date32()
    for column in (*TOKEN_COLUMNS, "prompt_chars"):
        assert events.schema.field(column).type == pa.int64()
    for column in (*TOKEN_COLUMNS, "requests", "human_prompts"):
        assert daily.schema.field(column).type == pa.int64()
    assert set(events.schema.names) >= {
        "session_id",
        "prompt_id",
        "initiated_by",
        "model",
        "cost_usd",
        "prompt_fingerprint",
        *TOKEN_COLUMNS,
    }


def test_values_are_valid(demo):
    _, _, frames, _ = demo
    events, daily, outcomes = frames["usage_events"], frames["usage_daily"], frames["outcomes"]
    assert set(events.tool) == {"claude-code", "chat-assistant"}
    assert set(daily.tool) == {"copilot"}
    assert set(events.initiated_by) <= set(INITIATED_BY)
    assert set(outcomes.kind) <= KINDS
    assert set(outcomes.tool.dropna()) <= {"claude-code", "copilot"}
    for frame in (events, daily):
        assert (frame[list(TOKEN_COLUMNS)] >= 0).all().all()
    assert (outcomes.quantity >= 0).all() and (daily.requests >= 0).all() and (daily.active_minutes >= 0).all()
    fingerprints = events.prompt_fingerprint.dropna()
    assert len(fingerprints) > 1000
    assert fingerprints.map(lambda f: re.fullmatch(r"[0-9a-f]{16}", f) is not None).all()
    assert events.event_id.is_unique and outcomes.outcome_id.is_unique
    assert not daily.duplicated(["day", "user_id", "tool", "model"]).any()
    assert events.ts.is_monotonic_increasing and outcomes.ts.is_monotonic_increasing
    # Prompt metadata belongs to calls that open a turn, never to agent steps.
    agent = events[events.initiated_by == "agent"]
    assert agent.prompt_chars.isna().all() and agent.prompt_fingerprint.isna().all()
    human = events[events.initiated_by == "human"]
    assert human.prompt_chars.notna().all() and human.prompt_fingerprint.notna().all()
    # Chat reports no outcomes, and the data stay inside the period.
    assert not (outcomes.tool == "chat-assistant").any()
    first, last = pd.Timestamp(START, tz="UTC"), pd.Timestamp(END + timedelta(days=1), tz="UTC")
    for frame in (events, outcomes):
        assert frame.ts.min() >= first and frame.ts.max() < last
    assert daily.day.min() >= START and daily.day.max() <= END


def test_org_tree_is_four_to_five_levels_and_consistent(demo):
    _, _, frames, _ = demo
    teams, people = frames["teams"], frames["people"]
    assert teams.team_id.is_unique and people.user_id.is_unique
    assert people.email.is_unique and people.login.is_unique
    assert people.team_id.isin(teams.team_id).all()
    roots = teams[teams.parent_team_id.isna()]
    assert len(roots) == 1
    assert teams.parent_team_id.dropna().isin(teams.team_id).all()
    parent = dict(zip(teams.team_id, teams.parent_team_id, strict=True))

    def depth(team: str) -> int:
        level = 1
        while isinstance(parent[team], str):
            team, level = parent[team], level + 1
        return level

    assert max(depth(t) for t in teams.team_id) in (4, 5)
    assert teams.team_id.str.fullmatch(r"t-\d{4}").all() and people.user_id.str.fullmatch(r"u-\d{5}").all()
    # Every lead is a member of the team they lead.
    members = people.set_index("user_id").team_id
    assert (teams.lead_user_id.map(members) == teams.team_id).all()
    leaves = people.groupby("team_id").size()
    leaf_sizes = leaves[~leaves.index.isin(teams.parent_team_id.dropna()) & ~leaves.index.isin(roots.team_id)]
    assert leaf_sizes.between(1, 12).all() and leaf_sizes.median() >= 5
    assert people.timezone.nunique() >= 5
    assert people.email.str.fullmatch(r"[a-z0-9.]+@meridian\.example").all()


def test_people_join_and_leave_and_unknown_identities_are_few(demo):
    _, _, frames, _ = demo
    people, events = frames["people"], frames["usage_events"]
    joiners = people.active_from > START
    assert 0.05 <= joiners.mean() <= 0.15
    assert 0.01 <= people.active_to.notna().mean() <= 0.06
    unknown = ~events.user_id.isin(people.user_id)
    assert 0 < unknown.mean() < 0.01
    assert events.user_id[unknown].str.contains("contractor-").any()


# ---- persona signatures ------------------------------------------------------------------------


def test_persona_table_lists_every_person_once(demo):
    files, _, frames, personas = demo
    assert personas.user_id.is_unique
    assert set(personas.user_id) == set(frames["people"].user_id)
    assert set(personas.persona) == set(PERSONAS)
    assert set(personas.loc[personas.persona == "tokenmaxxer", "style"]) == set(TOKENMAXXER_STYLES)
    assert personas.loc[personas.persona != "tokenmaxxer", "style"].isna().all()
    counts = personas[personas.persona == "tokenmaxxer"]["style"].value_counts()
    assert counts["gaming_team"] >= 4 and counts["shared_script"] >= 4
    assert personas.padding_from.notna().eq(personas.persona == "tokenmaxxer").all()
    pd.testing.assert_frame_equal(files.personas.astype(str), personas.astype(str))


def test_nobody_uses_ai_outside_employment_and_non_users_not_at_all(demo):
    _, _, frames, personas = demo
    people = frames["people"].set_index("user_id")
    for name in ("usage_events", "outcomes"):
        rows = frames[name]
        rows = rows[rows.user_id.isin(people.index)]
        day = rows.ts.dt.date
        assert (day >= rows.user_id.map(people.active_from)).all()
        until = rows.user_id.map(people.active_to)
        assert (until.isna() | (day <= until)).all()
    daily = frames["usage_daily"]
    daily = daily[daily.user_id.isin(people.index)]
    assert (daily.day >= daily.user_id.map(people.active_from)).all()
    until = daily.user_id.map(people.active_to)
    assert (until.isna() | (daily.day <= until)).all()
    non_users = set(personas.user_id[personas.persona == "non_user"])
    for name in ("usage_events", "usage_daily", "outcomes"):
        assert not frames[name].user_id.isin(non_users).any()


def test_heavy_agentic_use_many_more_tokens_at_a_genuine_cost_per_outcome(demo):
    _, _, frames, personas = demo
    table = _tokens_per_outcome(frames, personas)
    genuine = table[(table.persona == "genuine") & table.tokens.gt(0) & table.delivered.gt(0)]
    heavy = table[table.persona == "heavy_agentic"]
    assert heavy.tokens.median() > 5 * genuine.tokens.median()
    ratio = heavy.per_outcome.median() / genuine.per_outcome.median()
    assert 0.5 < ratio < 2.5
    # Long runs: many steps per human prompt, with the prompt itself made during the day.
    steps = frames["usage_events"].groupby("prompt_id").size()
    heavy_prompts = frames["usage_events"][frames["usage_events"].user_id.isin(heavy.index)].prompt_id
    assert steps[heavy_prompts.dropna().unique()].max() >= 21


def test_tokenmaxxers_burn_far_more_tokens_per_outcome(demo):
    _, _, frames, personas = demo
    table = _tokens_per_outcome(frames, personas)
    genuine = table[(table.persona == "genuine") & table.tokens.gt(0) & table.delivered.gt(0)].per_outcome.median()
    maxxers = table[table.persona == "tokenmaxxer"]
    assert maxxers.per_outcome.median() > 5 * genuine
    by_style = maxxers.groupby("style").per_outcome.median()
    assert (by_style > 2.5 * genuine).all(), by_style
    automation = table[table.persona == "automation_owner"].per_outcome.median()
    assert automation < 2.5 * genuine


def test_compliance_clickers_click_once_a_week_and_deliver_nothing(demo):
    _, _, frames, personas = demo
    events = frames["usage_events"]
    clickers = set(personas.user_id[personas.persona == "compliance_clicker"])
    theirs = events[events.user_id.isin(clickers)]
    assert len(theirs) > 0
    week = theirs.ts.dt.tz_convert(None).dt.to_period("W")
    per_week = theirs.groupby([theirs.user_id, week]).size()
    assert per_week.max() <= 2 and per_week.mean() < 1.1
    assert len(theirs) / len(clickers) <= frames["usage_events"].ts.dt.tz_convert(None).dt.to_period("W").nunique()
    assert (theirs[list(TOKEN_COLUMNS)].sum(axis=1) < 300).all()
    assert not frames["outcomes"].user_id.isin(clickers).any()
    assert not frames["usage_daily"].user_id.isin(clickers).any()


def test_metronome_loops_are_regular_while_genuine_people_are_bursty(demo):
    _, _, frames, personas = demo
    events = _local(frames["usage_events"], frames["people"])
    human = events[(events.initiated_by == "human") & (events.tool == "claude-code")]
    seconds = human.ts.astype("int64") / 1e6
    metronomes = personas.user_id[personas["style"] == "metronome_overnight"]
    assert len(metronomes) > 0
    for user in metronomes:
        night = human[(human.user_id == user) & (human.local.dt.hour < 5)]
        s = np.sort(seconds[night.index].to_numpy())
        gaps = np.diff(s)
        gaps = gaps[gaps < 1_800]  # within one night's loop
        assert len(gaps) > 50
        assert gaps.std() / gaps.mean() < 0.3
        # The loop re-sends a few templates with small edits: SimHash neighbours.
        assert _near_duplicate_share(night.prompt_fingerprint.iloc[:1500]) > 0.95
    genuine = personas.user_id[personas.persona == "genuine"]
    cvs = [
        _cv(seconds[g.index].to_numpy())
        for u, g in human[human.user_id.isin(genuine)].groupby("user_id")
        if len(g) >= 20
    ]
    assert len(cvs) > 30
    assert np.median(cvs) > 1.0 and np.mean(np.array(cvs) > 1.0) > 0.8
    repeats = [
        _near_duplicate_share(g.prompt_fingerprint)
        for _, g in human[human.user_id.isin(genuine)].groupby("user_id")
        if len(g) >= 20
    ]
    assert np.median(repeats) < 0.3


def test_genuine_people_work_office_hours_on_weekdays(demo):
    _, _, frames, personas = demo
    events = _local(frames["usage_events"], frames["people"])
    genuine = set(personas.user_id[personas.persona == "genuine"])
    human = events[(events.initiated_by == "human") & events.user_id.isin(genuine)]
    office = human.local.dt.day_of_week.lt(5) & human.local.dt.hour.between(8, 18)
    assert office.mean() > 0.8
    night = human.local.dt.hour.lt(6)
    assert night.mean() < 0.02
    # The metronome's loop, in contrast, lives at night.
    metronome = events[events.user_id.isin(personas.user_id[personas["style"] == "metronome_overnight"])]
    assert metronome.local.dt.hour.lt(7).mean() > 0.5


def _mirrored(human: pd.DataFrame, within_s: float = 60.0) -> pd.Series:
    """Whether another person sent the same prompt fingerprint within ``within_s`` seconds."""
    ordered = human.sort_values(["prompt_fingerprint", "ts"], kind="stable")
    same_prompt = ordered.prompt_fingerprint
    close = []
    for step in (1, -1):
        other = ordered.shift(step)
        close.append(
            same_prompt.eq(other.prompt_fingerprint)
            & ordered.user_id.ne(other.user_id)
            & (ordered.ts - other.ts).abs().dt.total_seconds().le(within_s)
        )
    return (close[0] | close[1]).reindex(human.index)


def test_shared_script_people_fire_the_same_prompts_in_lockstep(demo):
    _, _, frames, personas = demo
    events, people = frames["usage_events"], frames["people"]
    members = personas.user_id[personas["style"] == "shared_script"]
    assert people.set_index("user_id").loc[members, "team_id"].nunique() == len(members)
    human = events[(events.initiated_by == "human") & (events.tool == "claude-code")]
    mirrored = _mirrored(human)
    by_member = mirrored[human.user_id.isin(members)].groupby(human.user_id).mean()
    assert len(by_member) == len(members) and (by_member > 0.5).all(), by_member
    # The script's prompts are shared by most of the group; genuine people share prompts by chance at most.
    script = human[human.user_id.isin(members) & mirrored]
    assert (script.groupby("prompt_fingerprint").user_id.nunique() >= 3).mean() > 0.5
    genuine = human.user_id.isin(personas.user_id[personas.persona == "genuine"])
    assert mirrored[genuine].mean() < 0.01


def test_padding_styles_leave_their_signatures(demo):
    _, _, frames, personas = demo
    events, people = frames["usage_events"], frames["people"]
    style = personas.set_index("user_id")["style"]
    persona = personas.set_index("user_id")["persona"]
    # Padding is never declared as scheduled automation.
    scheduled = events[events.initiated_by == "schedule"].user_id
    assert scheduled.map(persona).eq("automation_owner").all() and len(scheduled) > 0
    # Cache padders' volume is mostly cache re-reads of huge contexts.
    coding = events[events.tool == "claude-code"]
    total = coding[list(TOKEN_COLUMNS)].sum(axis=1)
    padders = coding.user_id.map(style).eq("cache_padder")
    genuine = coding.user_id.map(persona).eq("genuine")
    assert coding.cache_read_tokens[padders].quantile(0.9) >= 200_000
    assert (coding.cache_read_tokens[genuine] < 200_000).mean() > 0.99
    assert coding.cache_read_tokens[padders].sum() / total[padders].sum() > 0.9
    # Snapshot bursters pile up tokens in the last days of each month; genuine people do not.
    day = coding.ts.dt.tz_convert(None).dt.normalize()
    month_end = (day + pd.offsets.MonthEnd(0) - day).dt.days < 3
    burst = coding.user_id.map(style).eq("snapshot_burst")
    per_day_in = total[burst & month_end].sum() / day[burst & month_end].nunique()
    per_day_out = total[burst & ~month_end].sum() / day[burst & ~month_end].nunique()
    assert per_day_in > 5 * per_day_out
    share_genuine = total[genuine & month_end].sum() / total[genuine].sum()
    assert share_genuine < 0.2
    # The gaming team is one whole team.
    gamers = personas.user_id[personas["style"] == "gaming_team"]
    team = people.set_index("user_id").loc[gamers, "team_id"]
    assert team.nunique() == 1
    assert set(people.user_id[people.team_id == team.iloc[0]]) == set(gamers)
    # Late starters pad only after their recorded start; before it they look like anyone else.
    late = personas[personas["style"] == "late_starter"].set_index("user_id")
    for user, start in late.padding_from.items():
        mine = coding[coding.user_id == user]
        before = total[mine.index][mine.ts.dt.date < start].sum()
        after = total[mine.index][mine.ts.dt.date >= start].sum()
        assert after > 3 * max(before, 1)


def test_copilot_acceptance_is_a_quarter_of_suggestions(demo):
    _, _, frames, _ = demo
    copilot = frames["outcomes"][frames["outcomes"].tool == "copilot"]
    by_kind = copilot.groupby("kind").quantity.sum()
    acceptance = by_kind["edit_accepted"] / (by_kind["edit_accepted"] + by_kind["edit_rejected"])
    assert 0.2 < acceptance < 0.35
    daily = frames["usage_daily"]
    assert daily.requests.between(30, 800).all()
    per_request = daily.input_tokens / daily.requests
    assert per_request.between(1_000, 2_000).all()
