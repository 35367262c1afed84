"""Audit log (admins): every view of individual-level data, who looked, at whose data, on which page, when."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from analytics import audit


def main(store: Path) -> None:
    st.title("Audit log")
    st.caption(
        "Every view of individual-level data is appended here: names or pseudonyms on a board, a suspect's evidence, "
        "a person in the Org explorer, someone's own usage. Nothing in the app edits or removes a line."
    )
    found = audit.check(store)
    if found.problem == "chain":
        st.error(
            f"The log's hash chain breaks at line {found.line}: a line was edited, removed or damaged outside "
            "Goodhart. Keep a copy of the file for investigation.",
            icon=":material/gpp_bad:",
        )
    elif found.problem == "truncated":
        st.error(
            f"Lines were removed from the end of the log: {found.written:,} lines were written but the log now "
            f"holds {found.lines:,} (its head file, {audit.head_path(store).name}, counts every line written). "
            "Keep a copy of both files for investigation.",
            icon=":material/gpp_bad:",
        )
    elif found.problem == "head":
        st.error(
            f"Line {found.line} of the log is not the line its head file ({audit.head_path(store).name}) recorded: "
            "the log was replaced or rewritten outside Goodhart. Keep a copy of both files for investigation.",
            icon=":material/gpp_bad:",
        )
    elif found.problem == "no head":
        st.warning(
            f"The log's head file ({audit.head_path(store).name}) is missing or unreadable, so lines removed from "
            "the end of the log could not be detected. The next recorded view writes a new one.",
            icon=":material/warning:",
        )
    log = audit.read(store)
    unreadable = int(log.attrs.get("unreadable", 0))
    if unreadable:
        lines, verb = ("line", "is") if unreadable == 1 else ("lines", "are")
        st.warning(
            f"{unreadable:,} {lines} of the log could not be read and {verb} not listed below.",
            icon=":material/warning:",
        )
    if log.empty:
        st.info(
            "No individual-level view has been recorded yet."
            if found.intact and not found.written
            else "No entry of the log can be listed."
        )
        return
    if found.intact:
        st.caption(f"{found.lines:,} entries; the hash chain is intact.")
    who = st.text_input("Filter by viewer or subject", help="Part of an e-mail, a user id or a page name.")
    shown = log
    if who:
        needle = who.strip().lower()
        mask = log[["viewer", "subject", "page"]].apply(
            lambda c: c.astype(str).str.lower().str.contains(needle, regex=False)
        )
        shown = log[mask.any(axis=1)]
    st.dataframe(
        shown[["at", "viewer", "role", "page", "subject", "scope"]],
        hide_index=True,
        width="stretch",
        column_config={"at": "When (UTC)"},
    )
    st.download_button(
        "Download the log (CSV)",
        shown.to_csv(index=False).encode(),
        file_name="goodhart-audit-log.csv",
        mime="text/csv",
        help="The rows shown, with each line's chain hash.",
    )


def page(view) -> None:
    from pages._shared import data

    if view.viewer.role != "admin":  # the router offers this page to admins only; this is the second lock
        st.error("The audit log is for admins.")
        return
    main(audit.path_for(data.db_path()))
