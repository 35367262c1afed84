"""Goodhart's router: page config, the database, shared filters, and the pages that work."""

from __future__ import annotations

import streamlit as st

from pages import data as data_page
from pages import demand, leaderboards, overview, suspects
from pages._shared import data, filters

st.set_page_config(page_title="Goodhart", page_icon=":material/balance:", layout="wide")

path = data.db_path()
data.ensure_database(path)
wh = data.warehouse()

st.sidebar.title("Goodhart")
st.sidebar.caption("Real AI adoption vs inflated consumption")
if wh.is_demo:
    st.sidebar.warning("Demo data: a generated organisation, not real people.", icon=":material/science:")

bounds = data.Loaders(wh).date_bounds() if wh.is_built else None


# Pages are listed only once they work. Each entry is a function defined here that calls its page
# module, with a url_path unlike any file name in pages/: otherwise Streamlit's test runner resolves
# a rerun to the page file itself instead of this router.
def overview_page() -> None:
    overview.page()


def leaderboards_page() -> None:
    leaderboards.page()


def suspects_page() -> None:
    suspects.page()


def demand_page() -> None:
    demand.page()


def data_sources_page() -> None:
    data_page.page()


def empty_page() -> None:
    st.title("Goodhart")
    st.info(
        "The database holds no usage yet. Upload telemetry on the **Data** page, load it with "
        "`python -m analytics ingest PATH`, or build the demo with `python -m analytics demo`."
    )


data_entry = st.Page(data_sources_page, title="Data", icon=":material/database:", url_path="data-sources")
if bounds is None:
    # Nothing to chart yet, but the Data page is where the first files can be uploaded.
    st.navigation(
        [st.Page(empty_page, title="Start", icon=":material/home:", url_path="home", default=True), data_entry]
    ).run()
    st.stop()

st.session_state["goodhart.range"] = filters.date_range(bounds)
st.session_state["goodhart.bounds"] = bounds

pages = [
    st.Page(overview_page, title="Overview", icon=":material/monitoring:", url_path="home", default=True),
    st.Page(leaderboards_page, title="Leaderboards", icon=":material/leaderboard:", url_path="rankings"),
    st.Page(suspects_page, title="Suspected inflation", icon=":material/policy:", url_path="suspected"),
    st.Page(demand_page, title="Demand & scenarios", icon=":material/query_stats:", url_path="demand-scenarios"),
    data_entry,
]
st.navigation(pages).run()
