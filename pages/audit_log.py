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
    intact, checked = audit.verify(store)
    if not intact:
        st.error(
            f"The log's hash chain breaks at line {checked}: a line was edited or removed outside Goodhart. "
            "Keep a copy of the file for investigation.",
            icon=":material/gpp_bad:",
        )
    log = audit.read(store)
    if log.empty:
        st.info("No individual-level view has been recorded yet.")
        return
    if intact:
        st.caption(f"{checked:,} entries; the hash chain is intact.")
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
