"""The application factory."""
from __future__ import annotations

from dataclasses import fields

from flask import Flask

from . import web
from .config import Settings
from .db import Database
from flask_socketio import SocketIO
from .security.access import public


def _settings(overrides: dict | None) -> Settings:
    settings = Settings()
    for f in fields(Settings):
        if overrides and f.name in overrides:
            setattr(settings, f.name, overrides[f.name])
    return settings


def build_app(test_config: dict | None = None) -> Flask:
    settings = _settings(test_config)
    database_url = settings.resolved_database_url()
    if database_url.startswith("sqlite"):
        settings.ensure_instance()
    app = Flask(__name__, instance_path=str(settings.instance_path), static_folder="static")
    app.config.update(SECRET_KEY=settings.resolved_secret_key(), MAX_CONTENT_LENGTH=16 * 1024 * 1024,
                      TESTING=bool(test_config and test_config.get("testing")))
    app.extensions["exam_settings"] = settings
    if settings.proxy_hops:      # behind nginx: the client's address is in X-Forwarded-For (docs/deployment.md)
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.proxy_hops)
    app.extensions["exam_db"] = Database(database_url)

    web.install(app)
    from .views import (affairs, api, auth, bank, certificates, client, competitions, exam_api, grading, home,
                        monitor, nodes, practical_api, practical_bank, reports, scheduling)
    for blueprint in (auth.bp, home.bp, api.bp, exam_api.bp, client.bp, bank.bp, practical_api.bp, practical_bank.bp,
                      grading.bp, monitor.bp, certificates.bp, competitions.bp, affairs.bp, scheduling.bp, reports.bp,
                      nodes.bp):
        app.register_blueprint(blueprint)
    send_static = app.view_functions["static"]
    app.view_functions["static"] = public(lambda filename: send_static(filename=filename))
    _refuse_undeclared_views(app)

    # One SocketIO per app (kept in app.extensions["socketio"]): a shared one would carry one app's message
    # queue into the next.
    # Behind the cluster's connection balancer, long-polling requests would land on different servers.
    transports = {"transports": ["websocket"]} if settings.websocket_only else {}
    socketio = SocketIO(app, async_mode=settings.async_mode, message_queue=settings.redis_url or None,
                        max_http_buffer_size=64 * 1024, **transports)
    from . import competition_events, events, monitor_events, practical_events
    events.register(socketio)
    practical_events.register(socketio)
    monitor_events.register(socketio)
    competition_events.register(socketio)
    return app


def _refuse_undeclared_views(app: Flask) -> None:
    """Deny by default, checked at start-up: every view must say who may call it."""
    undeclared = [name for name, view in app.view_functions.items() if not hasattr(view, "access")]
    if undeclared:
        raise RuntimeError(f"views without an access declaration: {undeclared}")
