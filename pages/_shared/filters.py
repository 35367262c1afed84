"""Filters shared by every page, kept in session state so they survive moving between pages."""

from __future__ import annotations

from datetime import date, timedelta

import streamlit as st

RANGE_KEY = "date_range"
DEFAULT_KEY = "goodhart.range_default"  # the default last set, to tell an untouched range from a chosen one


def date_range(bounds: tuple[date, date]) -> tuple[date, date]:
    """The sidebar's date range (default: the last 13 weeks of data), clamped to the data's bounds."""
    first, last = bounds
    default = (max(first, last - timedelta(weeks=13) + timedelta(days=1)), last)
    if RANGE_KEY not in st.session_state or st.session_state[RANGE_KEY] == st.session_state.get(DEFAULT_KEY):
        # untouched, the range follows the data: new days arriving while the page is open move it along
        st.session_state[RANGE_KEY] = default
    st.session_state[DEFAULT_KEY] = default
    picked = st.sidebar.date_input(
        "Date range",
        key=RANGE_KEY,
        min_value=first,
        max_value=last,
        help="Shared by every page. Weekly figures include every week that overlaps the range.",
    )
    if not isinstance(picked, tuple) or len(picked) != 2:
        st.sidebar.caption("Pick an end date too; until then the default range is shown.")
        return default
    start, end = sorted(picked)
    return max(start, first), min(end, last)
