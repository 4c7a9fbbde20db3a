"""The `examctl` commands that work on the database or serve the app."""
from __future__ import annotations

import secrets
import sys

from . import i18n
from .config import Settings
from .errors import UserError


def _say(settings: Settings, key: str, **values) -> str:
    return i18n.translate(settings.default_locale, key, **values)


def run(args) -> int:
    settings = Settings()
    handler = {("db", "upgrade"): _db_upgrade, ("demo", "load"): _demo_load, ("demo", "cycle"): _demo_cycle,
               ("user", "create"): _user_create,
               ("audit", "verify"): _audit_verify, ("serve", None): _serve,
               ("cluster", None): _cluster,
               ("exam", "seb"): _exam_seb, ("grading", "worker"): _grading_worker,
               ("node", "init"): _node_init, ("node", "key"): _node_key}[(args.command, getattr(args, "action", None))]
    try:
        return handler(settings, args)
    except UserError as exc:
        print(_say(settings, exc.key, **exc.values), file=sys.stderr)
        return 1


def _database(settings: Settings):
    from .db import Database

    url = settings.resolved_database_url()
    if url.startswith("sqlite"):
        settings.ensure_instance()
    return Database(url)


def _db_upgrade(settings: Settings, args) -> int:
    from .schema import upgrade

    url = settings.resolved_database_url()
    if url.startswith("sqlite"):
        settings.ensure_instance()
    upgrade(url)
    print(_say(settings, "cli.db_upgraded"))
    return 0


def _demo_load(settings: Settings, args) -> int:
    from . import demo
    from .models import utcnow

    database = _database(settings)
    with database.transaction() as db:
        if demo.is_loaded(db):
            if args.if_empty:
                print(_say(settings, "cli.demo_present"))
                print(_logins(settings))
                return 0
            raise UserError("cli.demo_not_empty")
        summary = demo.load(db, utcnow(), settings.paper_key(), affairs=True)
    print(_say(settings, "cli.demo_loaded", organisations=summary.organisations, staff=summary.staff,
               candidates=summary.candidates))
    print(_logins(settings))
    return 0


def _demo_cycle(settings: Settings, args) -> int:
    from . import certificates, demo_affairs
    from .models import utcnow

    summary = demo_affairs.cycle(_database(settings), utcnow(), settings.paper_key(),
                                 certificates.signing_key(settings))
    print(_say(settings, "demo.cycle_done", candidates=summary.candidates, passed=summary.passed))
    for number, name in summary.certificates:
        print(f"  {number}  {name}")
    print(_say(settings, "demo.cycle_lookup"))
    return 0


def _logins(settings: Settings) -> str:
    from . import demo

    lines = [_say(settings, "cli.demo_logins", password=demo.DEMO_PASSWORD)]
    lines += [f"  {username:<16} {role.value:<18} {name}" for username, name, role, _ in demo.STAFF]
    lines.append(f"  {'ks001 … ks040':<16} {'candidate':<18} " + _say(settings, "cli.demo_candidates"))
    return "\n".join(lines)


def _user_create(settings: Settings, args) -> int:
    from . import accounts
    from .models import Role, utcnow

    try:
        role = Role(args.role)
    except ValueError:
        raise UserError("user.bad_role", role=args.role) from None
    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else secrets.token_urlsafe(12)
    with _database(settings).transaction() as db:
        user = accounts.create_user(db, args.username, args.name, role, args.org, password, utcnow(),
                                    actor_name="examctl")
    print(_say(settings, "cli.user_created", username=user.username, role=role.value, org=args.org))
    if not args.password_stdin:
        print(_say(settings, "cli.generated_password", password=password))
    return 0


def _exam_seb(settings: Settings, args) -> int:
    from sqlalchemy import select

    from . import audit, seb
    from .models import Exam, utcnow

    key = None if args.off else args.config_key.strip().lower()
    if key is not None and not seb.valid_config_key(key):
        raise UserError("cli.seb_bad_key")
    with _database(settings).transaction() as db:
        exam = db.execute(select(Exam).where(Exam.code == args.code)).scalar_one_or_none()
        if exam is None:
            raise UserError("cli.no_exam", code=args.code)
        exam.seb_config_key = key
        audit.record(db, "exam_seb_set" if key else "exam_seb_cleared", actor_name="examctl", object_type="exam",
                     object_id=exam.id, now=utcnow())
    print(_say(settings, "cli.seb_set" if key else "cli.seb_cleared", code=args.code))
    return 0


def _node_init(settings: Settings, args) -> int:
    from . import nodes
    from .models import utcnow

    with _database(settings).transaction() as db:
        nodes.init_station(db, args.station, args.name, utcnow())
    print(_say(settings, "cli.node_initialised", station=args.station))
    return 0


def _node_key(settings: Settings, args) -> int:
    from . import nodes

    print(nodes.public_key_text(nodes.transfer_key(settings)))
    return 0


def _grading_worker(settings: Settings, args) -> int:
    from . import grading_jobs

    if args.celery:
        if not grading_jobs.broker_url():
            raise UserError("cli.grading_needs_broker")
        grading_jobs.celery_worker_main()
        return 0
    return grading_jobs.standalone_worker(_database(settings).url)


def _audit_verify(settings: Settings, args) -> int:
    from . import audit

    with _database(settings).session(write=False) as db:
        report = audit.verify(db)
    if report.ok:
        print(_say(settings, "cli.audit_ok", count=report.checked))
        return 0
    print(_say(settings, "cli.audit_broken", seq=report.first_broken_seq, reason=report.reason), file=sys.stderr)
    return 1


def _cluster(settings: Settings, args) -> int:
    from .cluster import run_cluster

    if not settings.redis_url:
        raise UserError("cli.cluster_needs_redis")
    if args.workers < 1:
        raise UserError("cli.cluster_workers")
    host, port = args.host or settings.host, args.port or settings.port
    print(_say(settings, "cli.serving", url=f"http://{host}:{port}"))
    return run_cluster(settings, args.workers, host, port)


def _serve(settings: Settings, args) -> int:
    if settings.async_mode == "gevent":
        from gevent import monkey

        monkey.patch_all()  # before Flask, SQLAlchemy and the drivers import socket and threading
    from . import create_app
    from .sweeper import run_forever

    app = create_app()
    socketio = app.extensions["socketio"]
    socketio.start_background_task(run_forever, app, socketio.sleep)
    from .grading_jobs import start_for_server

    start_for_server(app, socketio)   # grading workers (processes), or with a broker the Celery resender
    host, port = args.host or settings.host, args.port or settings.port
    print(_say(settings, "cli.serving", url=f"http://{host}:{port}"))
    socketio.run(app, host=host, port=port, allow_unsafe_werkzeug=True)
    return 0
