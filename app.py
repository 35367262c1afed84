"""Goodhart's router: page config, the database, who is looking, and the pages their role may open."""

from __future__ import annotations

import streamlit as st

from pages import audit_log, demand, explorer, leaderboards, mine, overview, suspects
from pages import data as data_page
from pages._shared import auth, data, filters

st.set_page_config(page_title="Goodhart", page_icon=":material/balance:", layout="wide")

path = data.db_path()
data.ensure_database(path)
wh = data.warehouse()
data.follow_snapshots()  # an idle page picks up data published while it is open

st.sidebar.title("Goodhart")
st.sidebar.caption("Real AI adoption vs inflated consumption")
if wh.is_demo:
    st.sidebar.warning("Demo data: a generated organisation, not real people.", icon=":material/science:")

# The viewer comes from the identity alone (sign-in, proxy header or the demo switch); the scope from the
# viewer. Pages receive both from here, never from session state or the URL.
viewer = auth.current(wh) if wh.is_built else None
scope = viewer.scope() if viewer else None
view = auth.View(viewer, scope, data.Loaders(wh, scope)) if viewer else None
if viewer:
    auth.sidebar(viewer)

bounds = view.loaders.date_bounds() if view else None


# Each entry is a function defined here that calls its page module, with a url_path unlike any file name in
# pages/: otherwise Streamlit's test runner resolves a rerun to the page file itself instead of this router.
def overview_page() -> None:
    overview.page(view)


def leaderboards_page() -> None:
    leaderboards.page(view)


def suspects_page() -> None:
    suspects.page(view)


def demand_page() -> None:
    demand.page(view)


def explorer_page() -> None:
    explorer.page(view)


def mine_page() -> None:
    mine.page(view)


def data_sources_page() -> None:
    data_page.page(view)


def audit_page() -> None:
    audit_log.page(view)


def empty_page() -> None:
    st.title("Goodhart")
    st.info(
        "The database holds no usage yet. Upload telemetry on the **Data** page, load it with "
        "`python -m analytics ingest PATH`, or build the demo with `python -m analytics demo`."
    )


def nothing_page() -> None:
    from pages._shared.text import md  # the e-mail comes from the identity provider or a header: inert text

    st.title("Goodhart")
    st.info(
        f"You are signed in as {md(viewer.email) if viewer.email else 'an unknown viewer'}, but Goodhart's data has "
        "no person with that e-mail (or more than one, which names nobody) and the roles file gives it no role, so "
        "there is nothing for you to see. Ask an admin to add your address to the org data or the roles file."
    )


PAGES = {
    "home": (overview_page, "Overview", ":material/monitoring:"),
    "rankings": (leaderboards_page, "Leaderboards", ":material/leaderboard:"),
    "suspected": (suspects_page, "Suspected inflation", ":material/policy:"),
    "demand-scenarios": (demand_page, "Demand & scenarios", ":material/query_stats:"),
    "org": (explorer_page, "Org explorer", ":material/account_tree:"),
    "my-usage": (mine_page, "My usage", ":material/person:"),
    "data-sources": (data_sources_page, "Data", ":material/database:"),
    "audit": (audit_page, "Audit log", ":material/history:"),
}

if bounds is None:
    # Nothing to chart yet, but the Data page is where the first files can be uploaded (admins only, once
    # there are people to sign in as; before that the database is empty and holds nobody's data).
    entries = [st.Page(empty_page, title="Start", icon=":material/home:", url_path="home", default=True)]
    if viewer is not None and viewer.role == "admin":
        fn, title, icon = PAGES["data-sources"]
        entries.append(st.Page(fn, title=title, icon=icon, url_path="data-sources"))
    st.navigation(entries).run()
    st.stop()

st.session_state["goodhart.range"] = filters.date_range(bounds)
st.session_state["goodhart.bounds"] = bounds

allowed = [p for p in viewer.pages if p in PAGES]
if not allowed:
    data.only_page(nothing_page)
entries = [st.Page(PAGES[p][0], title=PAGES[p][1], icon=PAGES[p][2], url_path=p) for p in allowed]


def landing() -> None:
    # The default page is served at "/" only, and Streamlit answers its own address with "Page not found".
    # So "/" is this hidden page, which moves on to the role's first page: every page keeps its address.
    st.switch_page(entries[0])


page = st.navigation(
    [st.Page(landing, title="Goodhart", url_path="start", default=True, visibility="hidden"), *entries]
)
if page.url_path and (built := st.session_state.pop(data.BUILT_NOTE, None)):  # "" is the landing page
    st.success(built)  # the demo this session waited for, said again on the page it landed on
page.run()
