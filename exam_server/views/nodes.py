"""Hub and station-node pages and the hub's API for nodes (docs/nodes.md).

On the hub (EXAM_NODE_ROLE=hub): centre and provincial admins register stations' nodes, build and download a
session's package, read out its release code by phone, and take results bundles from a USB stick; nodes call
/api/node/* with signed requests (no login, so no CSRF: the signature is the credential).

On a node (EXAM_NODE_ROLE=station): the station manager trusts the hub, receives packages (online or from a
file), unlocks them (online or with the code the supervisor types), and sends results back (online or as a file).
Each side's pages answer 404 on the other side."""
from __future__ import annotations

import hashlib
import json
from functools import wraps
from typing import Callable

from flask import Blueprint, Response, abort, current_app, g, jsonify, redirect, render_template, request, url_for
from sqlalchemy import select

from .. import nodes, openapi
from ..errors import UserError
from ..hub_client import HubClient
from ..models import ExamSession, Organisation, OrganisationKind, Role
from ..models.transfer import ReceivedPackage, ResultBundle, SessionPackage, StationNode, TrustedHub
from ..security.access import NODE_SIGNED, in_scope, requires
from ..transfer import node_requests
from ..transfer.envelopes import EnvelopeError
from ..certificate_signing import public_key_from_text
from ..web import get_db

bp = Blueprint("nodes", __name__)

HUB_ADMINS = (Role.centre_admin, Role.provincial_admin)
NODE_STAFF = (Role.station_manager,)
UNLOCKERS = (Role.station_manager, Role.supervisor)
MAX_FILE = 256 * 1024 * 1024
PACKAGES_SCHEMA = {"type": "object", "properties": {"packages": {"type": "array", "items": {
    "type": "object", "properties": {"id": {"type": "integer"}, "session_id": {"type": "integer"},
                                     "version": {"type": "integer"}, "sha256": {"type": "string"},
                                     "size": {"type": "integer"}}}}}}
CODE_SCHEMA = {"type": "object", "properties": {"code": {"type": "string"}}}
BUNDLE_SCHEMA = {"type": "object", "properties": {"received": {"type": "integer"}, "imported": {"type": "boolean"},
                                                  "bundle_id": {"type": "integer"}, "conflicts": {"type": "array"},
                                                  "regrade": {"type": "object"}}}


def _settings():
    return current_app.extensions["exam_settings"]


def _on(role: str) -> None:
    if _settings().node_role != role:
        abort(404)


def _roles():
    return sorted({a.role for a in g.user.active_roles()}, key=list(Role).index)


def _upload() -> bytes:
    upload = request.files.get("file")
    data = upload.read(MAX_FILE + 1) if upload else b""
    if not data:
        raise UserError("transfer.no_file")
    if len(data) > MAX_FILE:
        raise UserError("error.too_large", 413)
    return data


def _download(data: bytes, filename: str) -> Response:
    return Response(data, mimetype="application/octet-stream",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


# ------------------------------------------------------------------------------------------ hub: pages

def session_organisation(session_id: int):
    session = get_db().get(ExamSession, session_id)
    return session.organisation if session else None


@bp.get("/nodes")
@requires(*HUB_ADMINS)
def hub_page():
    _on("hub")
    db = get_db()
    stations = [s for s in db.execute(select(Organisation).where(Organisation.kind == OrganisationKind.station)
                                      .order_by(Organisation.code)).scalars() if in_scope(g.assignments, s)]
    registered = {n.organisation_id: n for n in db.execute(select(StationNode).where(
        StationNode.revoked_at.is_(None))).scalars()}
    sessions = db.execute(select(ExamSession).where(ExamSession.organisation_id.in_([s.id for s in stations]),
                                                    ExamSession.started_at.is_(None))
                          .order_by(ExamSession.scheduled_start_at)).scalars().all() if stations else []
    bundles = db.execute(select(ResultBundle).order_by(ResultBundle.id.desc()).limit(50)).scalars().all()
    return render_template("nodes/hub.html", stations=stations, registered=registered, sessions=sessions,
                           bundles=[b for b in bundles if in_scope(g.assignments, b.node.organisation)],
                           packages={s.id: _latest(db, s.id) for s in sessions}, roles=_roles(), role=None,
                           loads=json.loads)


def _latest(db, session_id: int):
    return db.execute(select(SessionPackage).where(SessionPackage.exam_session_id == session_id)
                      .order_by(SessionPackage.version.desc()).limit(1)).scalar_one_or_none()


@bp.post("/nodes")
@requires(*HUB_ADMINS)
def register_node():
    _on("hub")
    db = get_db()
    station = db.execute(select(Organisation).where(Organisation.code == request.form.get("station", "").strip())
                         ).scalar_one_or_none()
    if station is None or not in_scope(g.assignments, station):
        raise UserError("transfer.not_a_station")
    nodes.register_node(db, station, request.form.get("public_key", ""), g.user, g.now)
    db.commit()
    return redirect(url_for("nodes.hub_page"))


@bp.post("/nodes/sessions/<int:session_id>/packages")
@requires(*HUB_ADMINS, scope=session_organisation)
def build_package(session_id: int):
    _on("hub")
    db = get_db()
    settings = _settings()
    nodes.build_package(db, db.get(ExamSession, session_id), g.user, g.now, nodes.transfer_key(settings),
                        settings.paper_key())
    db.commit()
    return redirect(url_for("nodes.hub_page"))


@bp.get("/nodes/sessions/<int:session_id>/package")
@requires(*HUB_ADMINS, scope=session_organisation)
def package_file(session_id: int):
    _on("hub")
    package = nodes.latest_package(get_db(), get_db().get(ExamSession, session_id))
    return _download(package.data, f"session-{session_id}-v{package.version}.pkg")


@bp.post("/nodes/sessions/<int:session_id>/release")
@requires(*HUB_ADMINS, scope=session_organisation)
def release_by_phone(session_id: int):
    """The code to read out to the station's supervisor when the node cannot reach the hub."""
    _on("hub")
    db = get_db()
    session = db.get(ExamSession, session_id)
    code = nodes.release(db, nodes.latest_package(db, session), g.user, "phone", g.now, _settings().paper_key())
    db.commit()
    return render_template("nodes/code.html", session=session, code=code, roles=_roles(), role=None)


@bp.post("/nodes/bundles")
@requires(*HUB_ADMINS)
def upload_bundle_file():
    _on("hub")
    db = get_db()
    bundle = nodes.import_bundle(db, _upload(), g.user, g.now, _settings().paper_key())
    if not in_scope(g.assignments, bundle.node.organisation):
        abort(404)
    db.commit()
    return redirect(url_for("nodes.hub_page"))


# ------------------------------------------------------------------------------------------ hub: node API

def node_signed(view: Callable) -> Callable:
    """The caller is a registered, unrevoked node: its signature is checked; ``g.node`` is set."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        _on("hub")
        db = get_db()
        registered = {n.key_id: n for n in db.execute(select(StationNode).where(
            StationNode.revoked_at.is_(None))).scalars()}
        try:
            signer = node_requests.verify(request.headers, request.method, request.full_path.rstrip("?"),
                                          request.get_data(), g.now,
                                          {k: public_key_from_text(n.public_key) for k, n in registered.items()})
        except EnvelopeError as error:
            raise UserError(error.key, 401, detail=error.detail) from None
        g.node = registered[signer]
        return view(*args, **kwargs)
    wrapper.access = NODE_SIGNED
    return wrapper


def _node_package(package_id: int) -> SessionPackage:
    package = get_db().get(SessionPackage, package_id)
    if package is None or package.node_id != g.node.id:
        abort(404)
    return package


@bp.get("/api/node/packages")
@node_signed
@openapi.documented("The newest package of each of the node's station's sessions not ended", tags=("nodes",),
                    responses={200: PACKAGES_SCHEMA})
def node_packages():
    db = get_db()
    sessions = db.execute(select(ExamSession).where(ExamSession.organisation_id == g.node.organisation_id,
                                                    ExamSession.ended_at.is_(None))).scalars()
    listed = [p for p in (_latest(db, s.id) for s in sessions) if p is not None and p.node_id == g.node.id]
    return jsonify(packages=[{"id": p.id, "session_id": p.exam_session_id, "version": p.version, "sha256": p.sha256,
                              "size": p.size} for p in listed])


@bp.get("/api/node/packages/<int:package_id>")
@node_signed
@openapi.documented("A package's bytes, or the Range asked for (206): a download resumes", tags=("nodes",))
def node_package_bytes(package_id: int):
    """The package, or the byte range asked for (a download over a slow link resumes)."""
    data = _node_package(package_id).data
    wanted = request.headers.get("Range", "")
    if not wanted.startswith("bytes="):
        return Response(data, mimetype="application/octet-stream")
    first, _, last = wanted[len("bytes="):].partition("-")
    start, end = int(first or 0), min(int(last) if last else len(data) - 1, len(data) - 1)
    if start > end:
        abort(416)
    return Response(data[start:end + 1], status=206, mimetype="application/octet-stream",
                    headers={"Content-Range": f"bytes {start}-{end}/{len(data)}"})


@bp.post("/api/node/packages/<int:package_id>/release")
@node_signed
@openapi.documented("The package's release code, from 30 minutes before the session's start (audited)",
                    tags=("nodes",), responses={200: CODE_SCHEMA})
def node_release(package_id: int):
    db = get_db()
    code = nodes.release(db, _node_package(package_id), None, "online", g.now, _settings().paper_key(),
                         actor_name=f"node:{g.node.key_id}")
    db.commit()
    return jsonify(code=code)


def _part_path(sha256: str):
    folder = _settings().instance_path / "bundle_uploads"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{sha256}.part"


def _bundle_status(sha256: str) -> dict:
    bundle = get_db().execute(select(ResultBundle).where(ResultBundle.sha256 == sha256)).scalar_one_or_none()
    if bundle is not None:
        return {"received": len(bundle.data), "imported": True, "bundle_id": bundle.id,
                "conflicts": json.loads(bundle.conflicts), "regrade": json.loads(bundle.regrade)}
    path = _part_path(sha256)
    return {"received": path.stat().st_size if path.exists() else 0, "imported": False}


def _sha(sha256: str) -> str:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        abort(404)
    return sha256


@bp.get("/api/node/bundles/<sha256>")
@node_signed
@openapi.documented("How much of a results bundle the hub holds, or its import's result", tags=("nodes",),
                    responses={200: BUNDLE_SCHEMA})
def node_bundle_status(sha256: str):
    return jsonify(_bundle_status(_sha(sha256)))


@bp.put("/api/node/bundles/<sha256>")
@node_signed
@openapi.documented("The next chunk of a results bundle (?offset=&total=); imported once complete", tags=("nodes",),
                    responses={200: BUNDLE_SCHEMA})
def node_bundle_chunk(sha256: str):
    """Append a chunk at ``offset`` (anything else answers where the hub's copy ends); import when complete."""
    status = _bundle_status(_sha(sha256))
    offset, total = request.args.get("offset", type=int), request.args.get("total", type=int)
    if status["imported"] or offset != status["received"] or total is None or total > MAX_FILE:
        return jsonify(status)
    path = _part_path(sha256)
    with path.open("ab") as part:
        part.write(request.get_data()[:total - offset])
    if path.stat().st_size < total:
        return jsonify(_bundle_status(sha256))
    data = path.read_bytes()
    path.unlink()
    if hashlib.sha256(data).hexdigest() != sha256:
        raise UserError("transfer.bad_member", 409, detail="bundle")
    db = get_db()
    bundle = nodes.import_bundle(db, data, None, g.now, _settings().paper_key(), actor_name=f"node:{g.node.key_id}")
    if bundle.node_id != g.node.id:
        abort(404)
    db.commit()
    return jsonify(_bundle_status(sha256))


# ------------------------------------------------------------------------------------------ node: pages

def _client(db) -> HubClient:
    hub = nodes.trusted_hub(db)
    if not hub.hub_url:
        raise UserError("transfer.hub_unreachable", 503, detail="")
    transport = current_app.config.get("HUB_TRANSPORT")
    key = nodes.transfer_key(_settings())
    clock = current_app.config.get("HUB_CLOCK") or (lambda: g.now)
    return HubClient(hub.hub_url, key, clock, transport) if transport else HubClient(hub.hub_url, key, clock)


def _committed_refusal(work):
    """Run ``work``; a refusal is committed (it is audited) before it is shown."""
    db = get_db()
    try:
        return work(db)
    except nodes.Refused:
        db.commit()
        raise


@bp.get("/node")
@requires(*UNLOCKERS)
def node_page():
    _on("station")
    db = get_db()
    hub = db.execute(select(TrustedHub).order_by(TrustedHub.id.desc()).limit(1)).scalar_one_or_none()
    received = db.execute(select(ReceivedPackage).order_by(ReceivedPackage.not_before, ReceivedPackage.version)
                          ).scalars().all()
    sessions = {r.exam_session_id: db.get(ExamSession, r.exam_session_id) for r in received if r.exam_session_id}
    return render_template("nodes/node.html", hub=hub, received=received, sessions=sessions,
                           public_key=nodes.public_key_text(nodes.transfer_key(_settings())), roles=_roles(),
                           role=None)


@bp.post("/node/hub")
@requires(*NODE_STAFF)
def trust_hub():
    _on("station")
    db = get_db()
    nodes.trust_hub(db, request.form.get("public_key", ""), request.form.get("station", "").strip(),
                    request.form.get("hub_url", "").strip(), g.user, g.now)
    db.commit()
    return redirect(url_for("nodes.node_page"))


@bp.post("/node/packages")
@requires(*NODE_STAFF)
def receive_file():
    _on("station")
    data = _upload()
    _committed_refusal(lambda db: nodes.receive_package(db, data, "file", g.user, g.now))
    get_db().commit()
    return redirect(url_for("nodes.node_page"))


@bp.post("/node/sync")
@requires(*NODE_STAFF)
def sync():
    _on("station")
    db = get_db()
    folder = _settings().instance_path / "package_downloads"
    _committed_refusal(lambda db: nodes.sync_packages(db, _client(db), folder, g.user, g.now))
    db.commit()
    return redirect(url_for("nodes.node_page"))


def _received(package_id: int) -> ReceivedPackage:
    row = get_db().get(ReceivedPackage, package_id)
    if row is None:
        abort(404)
    return row


@bp.post("/node/packages/<int:package_id>/unlock")
@requires(*UNLOCKERS)
def unlock(package_id: int):
    """With the code the supervisor types, or (no code given) fetched from the hub online."""
    _on("station")
    received, code = _received(package_id), request.form.get("code", "").strip()

    def work(db):
        given = code or nodes.fetch_code(db, _client(db), received)
        return nodes.unlock(db, received, given, g.user, g.now, _settings().paper_key())
    _committed_refusal(work)
    get_db().commit()
    return redirect(url_for("nodes.node_page"))


@bp.get("/node/packages/<int:package_id>/results")
@requires(*NODE_STAFF)
def results_file(package_id: int):
    _on("station")
    db = get_db()
    data = nodes.result_bundle(db, _received(package_id), nodes.transfer_key(_settings()), g.user, g.now)
    db.commit()
    return _download(data, f"results-{package_id}.bundle")


@bp.post("/node/packages/<int:package_id>/upload")
@requires(*NODE_STAFF)
def upload_results(package_id: int):
    _on("station")
    db = get_db()
    data = nodes.result_bundle(db, _received(package_id), nodes.transfer_key(_settings()), g.user, g.now)
    db.commit()
    _client(db).upload(hashlib.sha256(data).hexdigest(), data)
    return redirect(url_for("nodes.node_page"))
