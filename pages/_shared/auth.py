"""Who is looking (CONTRACT.md section 3) and the audit trail of what they saw.

In order: OpenID Connect through `st.login` when the secrets have an `[auth]` section; else the
trusted proxy header named by `$GOODHART_AUTH_HEADER`; else demo mode, with a banner and a switch
for trying each role. The viewer, and with it the scope, comes from the identity alone.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

import streamlit as st

from analytics import access, audit
from analytics.access import AccessError, Scope, Viewer
from analytics.queries import Warehouse
from pages._shared import data
from pages._shared.text import md


@dataclass(frozen=True)
class View:
    """What a page is handed for one run: who is looking, their scope, and loaders bound to that scope."""

    viewer: Viewer
    scope: Scope
    loaders: data.Loaders

    def audit(self, page: str, subject: str) -> bool:
        return audit_view(self.viewer, self.scope, page, subject)


VIEWER_KEY = "goodhart.view_as"  # the demo switch's widget; read only in demo mode
_AUDITED = "goodhart.audited"


def mode() -> str:
    """'oidc', 'proxy' or 'demo'."""
    try:
        if "auth" in st.secrets:
            return "oidc"
    except Exception:
        pass
    return "proxy" if os.environ.get("GOODHART_AUTH_HEADER", "").strip() else "demo"


@st.cache_data(ttl=60, max_entries=1024, show_spinner=False)
def _resolve(_wh: Warehouse, key: tuple, email: str, source: str) -> tuple[Viewer, str | None]:
    problem = None
    try:
        roles = access.load_roles()
    except AccessError as exc:
        roles, problem = {}, str(exc)  # no elevated role for anyone until the file is fixed
    return access.resolve(_wh.con, email, roles, source=source), problem


def _roles_key() -> tuple:
    path = access.roles_path()
    try:
        return (str(path), path.stat().st_mtime_ns)
    except OSError:
        return (str(path), 0)


def current(wh: Warehouse) -> Viewer:
    """The viewer of this session. Without one, the sign-in message is the app's only page and the run stops."""
    how = mode()
    if how == "oidc":
        if not st.user.get("is_logged_in"):
            data.only_page(_sign_in_page, "Sign in")
        email = str(st.user.get("email") or "")
        if not email:
            data.only_page(_no_email_page, "Sign in")
        if unverified(st.user.get("email_verified")):
            data.only_page(_unverified_page, "Sign in")
    elif how == "proxy":
        header = os.environ["GOODHART_AUTH_HEADER"].strip()
        email = proxy_email(st.context.headers.get_all(header))
        if not email:
            data.only_page(_proxy_page, "Sign in")
    else:
        return _demo_viewer(wh)
    viewer, problem = _resolve(wh, (*data.warehouse_key(wh), _roles_key()), email, how)
    if problem:
        st.sidebar.error(f"Roles are not applied: {problem}", icon=":material/error:")
    return viewer


def proxy_email(values: list[str]) -> str:
    """The e-mail a trusted proxy's header carries: exactly one non-empty value, holding no comma.

    Several values (a header the client sent as well as the proxy), or one joined with commas, could name
    the client's choice of person rather than the proxy's: such a request carries no usable identity.
    """
    cleaned = [v.strip() for v in values]
    if len(cleaned) != 1 or not cleaned[0] or "," in cleaned[0]:
        return ""
    return cleaned[0]


def unverified(claim: object) -> bool:
    """Did the identity provider say, explicitly, that the e-mail is not verified? (An absent claim is accepted.)"""
    return claim is False or (isinstance(claim, str) and claim.strip().lower() == "false")


def _sign_in_page() -> None:
    st.title("Goodhart")
    st.write("Goodhart shows your organisation's AI usage. Sign in with your company account to continue.")
    st.button("Log in", type="primary", on_click=st.login, icon=":material/login:")


def _no_email_page() -> None:
    st.title("Goodhart")
    st.error("Your sign-in did not carry an e-mail address, which Goodhart needs to know who you are.")
    st.button("Log out", on_click=st.logout)


def _unverified_page() -> None:
    st.title("Goodhart")
    st.error(
        "Your identity provider says your e-mail address is not verified, so Goodhart cannot tell who you are. "
        "Verify the address with your identity provider, then sign in again."
    )
    st.button("Log out", on_click=st.logout)


def _proxy_page() -> None:
    st.title("Goodhart")
    st.info(
        "Sign in through your company's single sign-on to see Goodhart; this request carried no identity "
        "(or more than one)."
    )


@st.cache_data(ttl=600, show_spinner=False)
def _demo_choices(_wh: Warehouse, key: tuple) -> dict[str, Viewer]:
    return access.demo_viewers(_wh.con)


DEMO_ON_REAL_DATA = (
    "Real data with no sign-in configured: anyone who reaches this app can view it as any role. Configure "
    "sign-in (README, Who sees what)."
)
UNAUTHENTICATED = "(unauthenticated demo mode)"


def _demo_viewer(wh: Warehouse) -> Viewer:
    choices = _demo_choices(wh, data.warehouse_key(wh))
    real = not wh.is_demo
    if real:  # CONTRACT.md section 3 keeps demo mode here, so say loudly what it means
        st.sidebar.error(DEMO_ON_REAL_DATA, icon=":material/gpp_bad:")
    else:
        st.sidebar.warning(
            "Demo mode: nobody is signed in, so you can view as any role. Configure sign-in (README) before real "
            "people's data goes in.",
            icon=":material/lock_open:",
        )
    if VIEWER_KEY in st.session_state:
        # Streamlit drops a widget's value when a run ends in st.switch_page (the landing page does, and so does
        # a role switch from a page the new role lacks); set, it survives, so the switch sticks.
        st.session_state[VIEWER_KEY] = st.session_state[VIEWER_KEY]
    label = st.sidebar.selectbox(
        "View as",
        list(choices),
        key=VIEWER_KEY,
        help="Demo mode only: see the app as each role sees it. With sign-in configured, your identity decides.",
    )
    viewer = choices.get(label, choices["Admin"])
    if real:  # nobody signed in: the audit log must not name the person whose view this borrows
        viewer = dataclasses.replace(viewer, audit_as=f"{UNAUTHENTICATED} {viewer.label}")
    return viewer


def sidebar(viewer: Viewer) -> None:
    label = md(viewer.label)
    st.sidebar.caption(f"Signed in as {label}" if viewer.source != "demo" else f"Viewing as {label}")
    if viewer.source == "oidc":
        st.sidebar.button("Log out", on_click=st.logout, icon=":material/logout:")


def audit_view(viewer: Viewer, scope: Scope, page: str, subject: str) -> bool:
    """Record a view of individual-level data once per session, page and subject.

    Returns False (after saying why) when the view could not be recorded: the caller then does not
    show it, since an unrecorded individual view is what the log exists to prevent.
    """
    seen = st.session_state.setdefault(_AUDITED, set())
    key = (viewer.audit_name, scope, page, subject)
    if key in seen:
        return True
    try:
        audit.record(
            audit.path_for(data.db_path()),
            viewer=viewer.audit_name,
            role=viewer.role,
            page=page,
            subject=subject,
            scope=scope.describe(),
        )
    except audit.AuditError as exc:
        st.error(f"This view of individual data is withheld because it could not be audit-logged: {exc}")
        return False
    seen.add(key)
    return True
