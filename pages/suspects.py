"""Suspected inflation: who pads tokens, why we think so, the evidence, and the review queue."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pandas as pd
import streamlit as st

from analytics import charts, detect, reviews, thresholds
from analytics import leaderboard as lb
from analytics.privacy import suppress_small_groups
from pages import overview
from pages._shared.text import md

STATE_LABELS = {
    "open": "Open",
    "reopened": "Reopened (new evidence)",
    "confirmed": "Confirmed",
    "dismissed": "Dismissed",
}
ACTION_LABELS = {"confirm": "Confirm: this is inflation", "dismiss": "Dismiss: not inflation", "note": "Add a note"}


def main(
    loaders, start: date, end: date, store, *, reviewer: str = "", audit: Callable[[str], bool] | None = None
) -> None:
    """The page for the loaders' scope. Viewers allowed individual views (admins, and leads in their own line)
    see names, evidence and the review queue, recorded as `reviewer`; others see pseudonyms and reasons only.
    `audit(subject)` records each individual view first and returns False when it could not."""
    st.title("Suspected inflation")
    # everyone scored is counted and summed, only the flagged are fetched (61,000 people against 4,800 at 100 M)
    flagged, totals = loaders.suspect_cases()
    if not totals["people"]:
        st.info(
            "Nobody has been scored yet: detection runs whenever data is loaded (`python -m analytics ingest`) "
            "or refreshed (`python -m analytics refresh`)."
        )
        return
    flagged = flagged.copy()
    try:
        log = reviews.history(store)
    except reviews.ReviewStoreError as exc:
        st.warning(f"Review history unavailable, so reviews cannot be recorded right now: {exc}")
        log = None
    states = (
        reviews.states(log, flagged) if log is not None else pd.Series(dtype=object, index=pd.Index([], dtype=object))
    )
    flagged["state"] = flagged["user_id"].map(states).astype(object).fillna("open")
    window = f"{pd.Timestamp(totals['first_suspect_week']):%d %b %Y}" if len(flagged) else ""
    st.caption(
        "Scored over all loaded data, week by week against peers on the same tool in the same role. "
        "The sidebar's date range applies to the charts below."
        + (f" Earliest suspect week: {window}." if window else "")
    )

    total_tokens = totals["tokens"]
    at_stake = int(flagged["tokens_at_stake"].sum())
    cols = st.columns(4)
    cols[0].metric("People suspected", f"{len(flagged):,}", help=f"Out of {totals['people']:,} people scored.")
    cols[1].metric(
        "Tokens at stake",
        overview.short_number(at_stake),
        help="Tokens of suspected people in their suspect weeks, declared automation excluded.",
    )
    cols[2].metric("Share of all tokens", f"{at_stake / total_tokens:.0%}" if total_tokens else "–")
    open_cases = int(flagged["state"].isin(["open", "reopened"]).sum())
    cols[3].metric("Cases to review", f"{open_cases:,}", help="Open, or reopened by new evidence after a dismissal.")
    how_it_works()

    tab_people, tab_teams, tab_automation = st.tabs(["People", "Teams", "Declared automation"])
    audit = audit or (lambda subject: True)
    with tab_people:
        if audit("suspects list"):
            people_tab(loaders, flagged, start, end, store, log, reviewer=reviewer, audit=audit)
    with tab_teams:
        teams_tab(loaders.suspect_teams(), loaders.scope.k)
    with tab_automation:
        if audit("declared automation owners"):
            automation_tab(loaders.automation_lane(start, end), loaders.scope.named, loaders.pseudonym_key())


def how_it_works() -> None:
    with st.expander("How detection works, and its thresholds"):
        st.markdown(
            "Each person's week is compared with **peers**: people whose main tool and role are the same. "
            "Signals are grouped into independent families — "
            + ", ".join(f"**{v}**" for v in detect.FAMILY_LABELS.values())
            + ". A week is a **suspect week** when at least two families fire and the week's tokens reach "
            "the peer median; a person is **suspected** with two suspect weeks or more (one in short windows). "
            "Missing is not zero: a tool that reports no outcomes never triggers outcome signals. "
            "Scheduled jobs (`initiated_by = schedule`) are **declared automation** and never suspected.\n\n"
            "The **suspicion score** (0–1) is the mean strength of the two strongest families; 0.5 means "
            "both sit at their thresholds. People who are not suspected stay below 0.5."
        )
        try:
            current = thresholds.load()
            note = "Admins change these in `data/detection.toml` (or the file `$GOODHART_DETECTION` names)."
        except ValueError as exc:
            current, note = thresholds.Thresholds(), f"The settings file is invalid, so defaults apply: {exc}"
        st.caption(note)
        st.dataframe(
            pd.DataFrame({"setting": list(current.as_dict()), "value": [str(v) for v in current.as_dict().values()]}),
            hide_index=True,
            width="stretch",
        )


def people_tab(loaders, flagged: pd.DataFrame, start, end, store, log, *, reviewer: str, audit) -> None:
    if flagged.empty:
        st.success("Nobody is suspected: no person has two signal families agreeing in two weeks.")
        return
    left, right = st.columns(2)
    states = left.multiselect(
        "Review state",
        list(STATE_LABELS),
        default=["open", "reopened"],
        format_func=STATE_LABELS.get,
        help="Dismissed cases stay dismissed until detection finds a suspect week after the dismissal's evidence.",
    )
    families = right.multiselect(
        "Signal family",
        list(detect.FAMILIES),
        format_func=detect.FAMILY_LABELS.get,
        help="Show people for whom any of these families fired.",
    )
    shown = flagged[flagged["state"].isin(states)] if states else flagged
    if families:
        shown = shown[shown["families"].str.split(",").map(lambda fs: bool(set(fs) & set(families)))]
    if shown.empty:
        st.info("No case matches these filters.")
        return
    named = loaders.scope.named
    if not named:
        # pseudonyms only, and no team beside them: a small team's name would narrow a pseudonym down
        key = loaders.pseudonym_key()
        shown = shown.assign(display_name=shown["user_id"].map(lambda u: lb.pseudonym(u, key)), team_name="")
    table = shown.assign(
        state=shown["state"].map(STATE_LABELS),
        families=shown["families"].map(lambda fs: ", ".join(detect.FAMILY_LABELS[f] for f in fs.split(",") if f)),
    )
    columns = ["display_name", "team_name", "suspicion", "families", "reasons", "tokens_at_stake", "suspect_weeks"]
    if not named:
        columns.remove("team_name")
    st.dataframe(
        table[[*columns, "state"]],
        hide_index=True,
        width="stretch",
        column_config={
            "display_name": "Person" if named else "Pseudonym",
            "team_name": "Team",
            "suspicion": st.column_config.ProgressColumn("Suspicion", min_value=0.0, max_value=1.0, format="%.2f"),
            "families": "Families",
            "reasons": st.column_config.TextColumn("Reasons", width="large"),
            "tokens_at_stake": st.column_config.NumberColumn("Tokens at stake", format="compact"),
            "suspect_weeks": "Suspect weeks",
            "state": "Review",
        },
    )
    st.download_button(
        "Download these cases (CSV)",
        (table if named else table[[*columns, "state"]])
        .drop(columns=["team_id", "org_id"], errors="ignore")
        .to_csv(index=False),
        file_name="suspected-inflation.csv",
        mime="text/csv",
    )
    if not loaders.scope.individuals:
        st.caption(
            "Your role sees suspects under pseudonyms with their reasons. Evidence and reviews are for admins and "
            "for team leads within their own org."
        )
        return
    labels = {
        r.user_id: f"{r.display_name or r.user_id} — {r.team_name or 'no team'} ({r.suspicion:.2f})"
        for r in shown.itertuples()
    }
    chosen = st.selectbox(
        "Open a case", list(labels), format_func=labels.get, help="Shows the evidence and the review history."
    )
    if chosen and audit(f"evidence of {chosen}"):
        case(loaders, shown.set_index("user_id").loc[chosen], chosen, start, end, store, log, reviewer)


def case(loaders, row: pd.Series, user_id: str, start, end, store, log, reviewer: str) -> None:
    st.subheader(md(row["display_name"] or user_id))
    st.caption(
        f"{md(row['team_name'] or 'no team')} · {md(row['org_name'] or '')} · suspicion {row['suspicion']:.2f} · "
        f"{row['suspect_weeks']} suspect week(s) of {row['weeks']}"
    )
    for reason in str(row["reasons"]).split("; "):
        if reason:
            st.markdown(f"- {md(reason)}")
    evidence = loaders.evidence(user_id, start, end)
    left, right = st.columns(2)
    with left:
        if evidence["heatmap"].empty:
            st.info("No per-call events in this date range (daily reports have no time of day).")
        else:
            st.plotly_chart(charts.hour_heatmap(evidence["heatmap"]), key="evidence_heatmap")
    with right:
        if evidence["gaps"].empty:
            st.info("No prompt timings in this date range.")
        else:
            st.plotly_chart(charts.gap_histogram(evidence["gaps"]), key="evidence_gaps")
    if not evidence["weeks"].empty:
        st.plotly_chart(charts.tokens_vs_outcomes(evidence["weeks"]), key="evidence_weeks")
    partners = evidence["partners"]
    if partners.empty:
        st.caption("No lockstep partners: nobody else sent near-identical prompts in the same weeks.")
    else:
        st.markdown("**Lockstep partners** — people sending near-identical prompts in the same weeks")
        st.dataframe(
            partners[["display_name", "team_name", "weeks", "shared_prompts"]],
            hide_index=True,
            column_config={"display_name": "Person", "team_name": "Team", "shared_prompts": "Shared prompts"},
        )
    review_form(user_id, row, store, log, reviewer)


def review_form(user_id: str, row: pd.Series, store, log: pd.DataFrame | None, reviewer: str) -> None:
    st.markdown("**Review**")
    if log is None:
        st.caption("Reviews are unavailable until the review history can be opened (see the warning above).")
        return
    evidence_until = pd.Timestamp(row["last_suspect_week"]).date() if pd.notna(row["last_suspect_week"]) else None
    with st.form(f"review-{user_id}", clear_on_submit=True):
        action = st.radio("Decision", list(ACTION_LABELS), format_func=ACTION_LABELS.get, horizontal=True)
        note = st.text_area("Note", max_chars=reviews.MAX_NOTE, help="Why; kept with your name and the time.")
        st.caption(f"Recorded as {md(reviewer)}, with the time.")
        submitted = st.form_submit_button("Record")
    if submitted:
        try:
            reviews.record(store, user_id, action, reviewer, note, evidence_until)
        except (ValueError, OSError, reviews.ReviewStoreError) as exc:
            st.error(f"Not recorded, nothing was lost: {exc}")
        else:
            st.success("Recorded.")
            log = reviews.history(store)
    mine = log[log["user_id"] == user_id]
    if mine.empty:
        st.caption("No reviews yet.")
    else:
        st.dataframe(
            mine[["recorded_at", "action", "reviewer", "note", "evidence_until"]],
            hide_index=True,
            width="stretch",
            column_config={"recorded_at": "When (UTC)", "evidence_until": "Evidence up to week"},
        )


def teams_tab(teams: pd.DataFrame, k: int) -> None:
    if teams.empty:
        st.info("No team has a suspected member.")
        return
    teams, withheld = suppress_small_groups(teams, size_col="people", k=k)
    if withheld:
        st.caption(
            f"{withheld} team(s) are not listed: fewer than {k} people were scored in each, or they are held back so "
            "that totals minus the teams listed do not reveal a smaller one."
        )
    if teams.empty:
        return
    st.caption("Teams with suspected members; a whole team padding together shows here as a high share.")
    teams = teams.assign(
        families=teams["families"].map(
            lambda fs: ", ".join(detect.FAMILY_LABELS[f] for f in str(fs).split(",") if f in detect.FAMILY_LABELS)
        )
    )
    st.dataframe(
        teams[
            [
                "team_name",
                "org_name",
                "people",
                "flagged",
                "top_suspicion",
                "families",
                "tokens_at_stake",
                "share_at_stake",
            ]
        ],
        hide_index=True,
        width="stretch",
        column_config={
            "team_name": "Team",
            "org_name": "Org",
            "people": "People scored",
            "flagged": "Suspected",
            "top_suspicion": st.column_config.ProgressColumn(
                "Highest suspicion", min_value=0.0, max_value=1.0, format="%.2f"
            ),
            "families": "Families among suspects",
            "tokens_at_stake": st.column_config.NumberColumn("Tokens at stake", format="compact"),
            "share_at_stake": st.column_config.ProgressColumn("Share of team tokens", min_value=0.0, max_value=1.0),
        },
    )


def automation_tab(lane: pd.DataFrame, named: bool, key: str) -> None:
    st.caption(
        "Jobs their owners declared as scheduled (`initiated_by = schedule`). They are counted here, "
        "never as suspected inflation, and left out of every signal."
    )
    if lane.empty:
        st.info("No declared automation in this date range.")
        return
    if not named:
        lane = lane.assign(display_name=lane["user_id"].map(lambda u: lb.pseudonym(u, key)), team_name="")
    st.dataframe(
        lane[
            [
                "display_name",
                "team_name",
                "automation_tokens",
                "automation_cost_usd",
                "scheduled_requests",
                "share_of_their_tokens",
            ]
        ],
        hide_index=True,
        width="stretch",
        column_config={
            "display_name": "Owner",
            "team_name": "Team",
            "automation_tokens": st.column_config.NumberColumn("Tokens", format="compact"),
            "automation_cost_usd": st.column_config.NumberColumn("Cost", format="dollar"),
            "scheduled_requests": "Scheduled calls",
            "share_of_their_tokens": st.column_config.ProgressColumn(
                "Share of their tokens", min_value=0.0, max_value=1.0
            ),
        },
    )


def page(view) -> None:
    from pages._shared import data

    start, end = st.session_state["goodhart.range"]
    main(
        view.loaders,
        start,
        end,
        reviews.path_for(data.db_path()),
        reviewer=view.viewer.email or view.viewer.display_name,
        audit=lambda subject: view.audit("Suspected inflation", subject),
    )
