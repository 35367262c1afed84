"""Runs one page under AppTest as a chosen demo viewer (`$GOODHART_TEST_VIEW`, a label of the demo switch)."""

from __future__ import annotations

import os
from pathlib import Path

APP = str(Path(__file__).resolve().parents[1] / "app.py")
# an [auth] section that turns OpenID Connect on under AppTest (no provider is reached: AppTest sets st.user)
AUTH = {
    "redirect_uri": "http://localhost:9/oauth2callback",
    "cookie_secret": "not-a-real-secret-for-tests",
    "client_id": "goodhart",
    "client_secret": "test",
    "server_metadata_url": "http://localhost:9/.well-known/openid-configuration",
}


def view_from_env():
    """The View the router would build for the demo viewer named by $GOODHART_TEST_VIEW (default Admin)."""
    from analytics import access
    from pages._shared import auth, data

    wh = data.warehouse()
    choices = access.demo_viewers(wh.con)
    label = os.environ.get("GOODHART_TEST_VIEW", "Admin")
    viewer = choices[label] if label in choices else next(v for k, v in choices.items() if k.startswith(label))
    scope = viewer.scope()
    return auth.View(viewer, scope, data.Loaders(wh, scope))
