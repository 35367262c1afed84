"""Suspected inflation: who pads tokens, why we think so, the evidence, and the review queue."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from analytics import charts, detect, reviews, thresholds
from pages import overview
from pages._shared import data
from pages._shared.text import md

STATE_LABELS = {
    "open": "Open",
    "reopened": "Reopened (new evidence)",
    "confirmed": "Confirmed",
    "dismissed": "Dismissed",
}
ACTION_LABELS = {"confirm": "Confirm: this is inflation", "dismiss": "Dismiss: not inflation", "note": "Add a note"}


def main(loaders: data.Loaders, start: date, end: date, store) -> None:
    st.title("Suspected inflation")
    people = loaders.suspects()
    if people.empty:
        st.info(
            "Nobody has been scored yet: detection runs whenever data is loaded (`python -m analytics ingest`) "
            "or refreshed (`python -m analytics refresh`)."
        )
        return
    flagged = people[people["flagged"]].copy()
    try:
        log = reviews.history(store)
    except reviews.ReviewStoreError as exc:
        st.warning(f"Review history unavailable, so reviews cannot be recorded right now: {exc}")
        log = None
    states = (
        reviews.states(log, flagged) if log is not None else pd.Series(dtype=object, index=pd.Index([], dtype=object))
    )
    flagged["state"] = flagged["user_id"].map(states).astype(object).fillna("open")
    window = f"{pd.Timestamp(people['first_suspect_week'].min()):%d %b %Y}" if len(flagged) else ""
    st.caption(
        "Scored over all loaded data, week by week against peers on the same tool in the same role. "
        "The sidebar's date range applies to the charts below."
        + (f" Earliest suspect week: {window}." if window else "")
    )

    total_tokens = int(people["tokens"].sum())
    at_stake = int(flagged["tokens_at_stake"].sum())
    cols = st.columns(4)
    cols[0].metric("People suspected", f"{len(flagged):,}", help=f"Out of {len(people):,} people scored.")
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
    with tab_people:
        people_tab(loaders, flagged, start, end, store, log)
    with tab_teams:
        teams_tab(loaders.suspect_teams())
    with tab_automation:
        automation_tab(loaders.automation_lane(start, end))


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


def people_tab(loaders, flagged: pd.DataFrame, start, end, store, log: pd.DataFrame) -> None:
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
    table = shown.assign(
        state=shown["state"].map(STATE_LABELS),
        families=shown["families"].map(lambda fs: ", ".join(detect.FAMILY_LABELS[f] for f in fs.split(",") if f)),
    )
    st.dataframe(
        table[
            [
                "display_name",
                "team_name",
                "suspicion",
                "families",
                "reasons",
                "tokens_at_stake",
                "suspect_weeks",
                "state",
            ]
        ],
        hide_index=True,
        width="stretch",
        column_config={
            "display_name": "Person",
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
        table.drop(columns=["team_id", "org_id"], errors="ignore").to_csv(index=False),
        file_name="suspected-inflation.csv",
        mime="text/csv",
    )
    labels = {
        r.user_id: f"{r.display_name or r.user_id} — {r.team_name or 'no team'} ({r.suspicion:.2f})"
        for r in shown.itertuples()
    }
    chosen = st.selectbox(
        "Open a case", list(labels), format_func=labels.get, help="Shows the evidence and the review history."
    )
    if chosen:
        case(loaders, shown.set_index("user_id").loc[chosen], chosen, start, end, store, log)


def case(loaders, row: pd.Series, user_id: str, start, end, store, log: pd.DataFrame) -> None:
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
    review_form(user_id, row, store, log)


def review_form(user_id: str, row: pd.Series, store, log: pd.DataFrame | None) -> None:
    st.markdown("**Review**")
    if log is None:
        st.caption("Reviews are unavailable until the review history can be opened (see the warning above).")
        return
    evidence_until = pd.Timestamp(row["last_suspect_week"]).date() if pd.notna(row["last_suspect_week"]) else None
    with st.form(f"review-{user_id}", clear_on_submit=True):
        action = st.radio("Decision", list(ACTION_LABELS), format_func=ACTION_LABELS.get, horizontal=True)
        note = st.text_area("Note", max_chars=reviews.MAX_NOTE, help="Why; kept with your name and the time.")
        reviewer = st.text_input(
            "Reviewer",
            value=st.session_state.get("goodhart.viewer", ""),
            help="Recorded with the decision. There is no sign-in yet, so the name is typed here.",
        )
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


def teams_tab(teams: pd.DataFrame) -> None:
    if teams.empty:
        st.info("No team has a suspected member.")
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


def automation_tab(lane: pd.DataFrame) -> None:
    st.caption(
        "Jobs their owners declared as scheduled (`initiated_by = schedule`). They are counted here, "
        "never as suspected inflation, and left out of every signal."
    )
    if lane.empty:
        st.info("No declared automation in this date range.")
        return
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


def page() -> None:
    wh = data.warehouse()
    start, end = st.session_state["goodhart.range"]
    main(data.Loaders(wh), start, end, reviews.path_for(data.db_path()))
