"""Deny by default, role and scope checks, and the OpenAPI document."""
from __future__ import annotations

import re

import pytest
from flask import Flask

from exam_server.app import _refuse_undeclared_views
from exam_server.openapi import build


def test_every_view_declares_who_may_call_it(app):
    assert all(hasattr(view, "access") for view in app.view_functions.values())


def test_an_undeclared_view_stops_the_app_from_starting():
    app = Flask(__name__)
    app.add_url_rule("/leak", "leak", lambda: "secret")
    with pytest.raises(RuntimeError, match="leak"):
        _refuse_undeclared_views(app)


def test_anonymous_pages_redirect_to_login(client):
    response = client.get("/home/provincial_admin")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_login_redirect_stays_on_site(browser):
    response = browser.login("admin", next="https://evil.example/x")
    assert response.headers["Location"] == "/"
    response = browser.login("admin", next="//evil.example/x")
    assert response.headers["Location"] == "/"


def test_security_headers(client):
    response = client.get("/login")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"


def test_openapi_documents_every_api_route(app, client):
    spec = client.get("/api/openapi.json").json
    assert spec["openapi"].startswith("3.")
    api_rules = {r.rule for r in app.url_map.iter_rules() if r.rule.startswith("/api/")}
    documented = set(spec["paths"])
    expected = {re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule) for rule in api_rules}
    assert documented == expected
    reset = spec["paths"]["/api/candidates/{user_id}/login-delay/reset"]["post"]
    assert reset["parameters"][0]["schema"]["type"] == "integer" and "security" in reset
    assert "requestBody" in spec["paths"]["/api/login"]["post"]
    assert build(app) == spec
