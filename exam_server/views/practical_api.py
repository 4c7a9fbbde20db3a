"""The practical exam for the candidate: the machine's state for a (re)load, the REST fallback for machine
events (the same operations as the Socket.IO `machine` event), the task's drawing, the practical page and the
client files it loads (candidate_client/practical/ and three.js from npm). Submission and time use the theory
attempt's routes. Protocol: docs/practical-protocol.md."""
from __future__ import annotations

import re
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, g, jsonify, redirect, render_template, request, \
    send_from_directory, url_for

from .. import delivery, i18n, monitor_events, openapi, practical, seb
from ..errors import UserError
from ..models import Attempt, Role, RosterEntry
from ..security.access import public, requires
from ..web import get_db, t
from .exam_api import own_attempt

bp = Blueprint("practical_api", __name__)

CLIENT = Path(__file__).resolve().parents[2] / "candidate_client"
PRACTICAL_DIR = CLIENT / "practical"
THREE_DIR = CLIENT / "node_modules" / "three"
PRACTICAL_ASSET = re.compile(r"^[a-z0-9_]+\.(js|css)$")
THREE_BUILD = re.compile(r"^three\.(module|core)(\.min)?\.js$")
THREE_ADDON = re.compile(r"^examples/jsm/[a-z]+/[A-Za-z0-9_]+\.js$")
BARE_THREE = re.compile(r"""from (['"])three\1""")
MAX_BATCH = 200
SVG_HEADERS = {"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
               "Content-Type": "image/svg+xml; charset=utf-8"}

OP_SCHEMA = {"type": "object", "required": ["op_id", "seq", "event"], "properties": {
    "attempt_id": {"type": "integer"}, "client_id": {"type": "string", "maxLength": 40},
    "op_id": {"type": "string", "maxLength": 40}, "seq": {"type": "integer"},
    "event": {"type": "object", "required": ["type", "payload"], "properties": {
        "type": {"type": "string"}, "payload": {"type": "object"}, "t_client": {"type": "integer"}}}}}
ACK_SCHEMA = {"type": "object", "properties": {
    "ok": {"type": "boolean"}, "seq": {"type": "integer"}, "duplicate": {"type": "boolean"},
    "update": {"type": "object"}, "last_seq": {"type": "integer"},
    "error": openapi.ERROR_SCHEMA["properties"]["error"]}}
MACHINE_SCHEMA = {"type": "object", "properties": {
    "attempt_id": {"type": "integer"}, "machine_type": {"type": "string", "enum": ["lathe", "mill"]},
    "task": {"type": "object"}, "view": {"type": "object"}, "last_seq": {"type": "integer"},
    "clock": {"type": "object"}}}
CLIENT_MESSAGES = ("exam.", "nav.", "error.", "delivery.", "practical.")


def _machine_attempt(attempt_id: int) -> Attempt:
    """The candidate's own attempt, in a practical session (404 otherwise: ids cannot be probed); when its exam
    has a Safe Exam Browser Config Key, the request must carry the SEB proof (own_attempt checks it: 403
    `seb.required`), as every theory route and the Socket.IO connection do."""
    attempt = own_attempt(attempt_id)
    if attempt.roster_entry.exam_session.part.value != "practical":
        abort(404)
    return attempt


def _ensure_assignment(attempt: Attempt) -> None:
    """Assign the attempt's task on its first load, in a write transaction of its own (GET requests read)."""
    db = get_db()
    if practical.assignment_of(db, attempt) is not None:
        return
    db.commit()   # end the read snapshot: it must see the assignment written below
    with current_app.extensions["exam_db"].transaction() as writer:
        practical.assign_task(writer, writer.get(Attempt, attempt.id), g.now)


@bp.get("/api/attempts/<int:attempt_id>/machine")
@requires(Role.candidate)
@openapi.documented("The practical attempt's machine for a (re)load: task, the exact machine view (replay of "
                    "every stored event), last_seq to continue the outbox from, and the clock",
                    tags=("candidate",), responses={200: MACHINE_SCHEMA})
def machine(attempt_id: int):
    attempt = _machine_attempt(attempt_id)
    delivery.check_browser(attempt, request.args.get("client_id"))
    _ensure_assignment(attempt)
    manager = practical.manager_for(current_app)
    drawing = url_for("practical_api.drawing", attempt_id=attempt.id)
    return jsonify(practical.machine_state(get_db(), manager, attempt, g.now, drawing))


@bp.post("/api/attempts/<int:attempt_id>/machine/events")
@requires(Role.candidate)
@openapi.documented("Machine events by REST (the Socket.IO `machine` fallback): a list of operations, applied "
                    "in order; one ack each, in the same order", tags=("candidate",),
                    request={"type": "array", "maxItems": MAX_BATCH, "items": OP_SCHEMA},
                    responses={200: {"type": "array", "items": ACK_SCHEMA}})
def machine_events(attempt_id: int):
    ops = request.get_json(silent=True)
    if not isinstance(ops, list) or not 0 < len(ops) <= MAX_BATCH:
        raise UserError("error.json_body")
    _machine_attempt(attempt_id)
    get_db().commit()   # release this request's write lock: the group-commit writer takes it for every op
    from ..practical_events import app_commit

    app = current_app._get_current_object()
    commit, manager = app_commit(app), practical.manager_for(app)
    return jsonify([_one_op(commit, manager, attempt_id, op) for op in ops])


def _one_op(commit, manager, attempt_id: int, op) -> dict:
    try:
        if not isinstance(op, dict) or op.get("attempt_id", attempt_id) != attempt_id:
            raise UserError("delivery.bad_op")
        ack = practical.submit_op(commit, manager, g.user.id, {**op, "attempt_id": attempt_id})
    except UserError as exc:
        return practical.error_ack(exc, t(exc.key, **exc.values))
    monitor_events.machine_applied(current_app._get_current_object(), {**op, "attempt_id": attempt_id}, ack)
    return ack


@bp.get("/api/attempts/<int:attempt_id>/machine/drawing")
@requires(Role.candidate)
@openapi.documented("The drawing of the attempt's task (SVG)", tags=("candidate",),
                    responses={200: {"type": "string"}})
def drawing(attempt_id: int):
    attempt = _machine_attempt(attempt_id)
    assignment = practical.assignment_of(get_db(), attempt)
    if assignment is None:
        abort(404)
    return Response(assignment.task.drawing_svg, headers=SVG_HEADERS)


# ---- pages and client files ------------------------------------------------------------------------------

def client_messages() -> dict[str, str]:
    return {k: v for k, v in i18n.catalogue(g.locale).items() if k.startswith(CLIENT_MESSAGES)}


@bp.get("/exam/practical/<int:attempt_id>")
@requires(Role.candidate)
def practical_page(attempt_id: int):
    attempt = _machine_attempt(attempt_id)
    return render_template("client/practical.html", attempt=attempt, attempt_id=attempt.id,
                           entry=attempt.roster_entry, messages=client_messages())


@bp.get("/exam/practical/entry/<int:entry_id>")
@requires(Role.candidate)
def practical_entry(entry_id: int):
    """From check-in: the running attempt's page, or the page that starts it (attempt None: the page claims
    the attempt with POST /api/roster/<entry_id>/attempt, as the theory page does)."""
    entry = get_db().get(RosterEntry, entry_id)
    if entry is None or entry.candidate_id != g.user.id or entry.exam_session.part.value != "practical":
        abort(404)
    seb.require(entry.exam_session.exam.seb_config_key, request)
    if entry.attempt is not None:
        return redirect(url_for("practical_api.practical_page", attempt_id=entry.attempt.id))
    return render_template("client/practical.html", attempt=None, attempt_id=None, entry=entry,
                           messages=client_messages())


@bp.get("/client/practical/<filename>")
@public
def practical_asset(filename: str):
    if not PRACTICAL_ASSET.match(filename):
        abort(404)
    return send_from_directory(PRACTICAL_DIR, filename)


@bp.get("/client/vendor/<filename>")
@public
def three_build(filename: str):
    """three.js from npm (candidate_client/node_modules/three/build); the .min names fall back to the plain
    build when the package ships none (0.187 ships only three.module.js and three.core.js)."""
    if not THREE_BUILD.match(filename):
        abort(404)
    build = THREE_DIR / "build"
    if not (build / filename).is_file():
        filename = filename.replace(".min.js", ".js")
    return send_from_directory(build, filename, mimetype="text/javascript")


@bp.get("/client/vendor/three/<path:filename>")
@public
def three_addon(filename: str):
    """three.js add-ons (e.g. examples/jsm/controls/OrbitControls.js). They import the bare name `three`; the
    page's CSP forbids an inline import map, so the name is rewritten to the served build's URL."""
    path = THREE_DIR / filename
    if not THREE_ADDON.match(filename) or not path.is_file():
        abort(404)
    source = BARE_THREE.sub(r"from \1/client/vendor/three.module.js\1", path.read_text(encoding="utf-8"))
    return Response(source, mimetype="text/javascript")
