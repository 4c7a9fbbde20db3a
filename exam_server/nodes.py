"""Test-centre nodes (统一鉴定试卷传输): the use cases on both ends of the trip.

On the hub: register a station's node by its public key, build a session's package for it, release the package's
code at the start (to the node online, or to the supervisor on the phone), and take the results bundle back —
once per content, with conflicts reported and the node's scores re-graded from its traces.

On a node: trust the hub's key, receive packages (download or USB stick; rollback and tampering refused), unlock
one with its release code from RELEASE_LEAD before the start (the roster is needed for check-in; the papers stay
sealed under the node's own paper key until the examiner starts the session), and write the results bundle.
Every step is audited on the side where it happens."""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Optional

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import audit, papers, scoring, session_files
from .certificate_signing import key_id, private_key_from_hex, public_bytes, public_key_from_text
from .config import Settings
from .errors import UserError
from .models import Attempt, ExamSession, Organisation, OrganisationKind, User
from .models.transfer import ReceivedPackage, ResultBundle, SessionPackage, StationNode, TrustedHub
from .transfer import packages
from .transfer.envelopes import EnvelopeError, open_envelope, seal

RELEASE_LEAD = timedelta(minutes=30)       # check-in opens about this long before the start
PACKAGE_LIFETIME = timedelta(days=7)       # after the scheduled end
BUNDLE = "result-bundle"


def transfer_key(settings: Settings) -> Ed25519PrivateKey:
    """This instance's transfer key (the hub's package key, or a node's bundle key), kept outside the database:
    EXAM_TRANSFER_KEY (64 hex digits), or one generated on first use into the instance folder (mode 600)."""
    return private_key_from_hex(os.environ.get("EXAM_TRANSFER_KEY", "") or settings._instance_secret("transfer_key"))


def public_key_text(key: Ed25519PrivateKey) -> str:
    return public_bytes(key).hex()


class Refused(UserError):
    """A package or code the node refused; the caller commits anyway, so that the refusal stays audited."""


def _refuse(error: EnvelopeError) -> UserError:
    return UserError(error.key, 409, detail=error.detail)


# ------------------------------------------------------------------------------------------ hub

def register_node(db: Session, station: Organisation, public_key: str, actor: User, now: datetime) -> StationNode:
    """The station's node from now on (an earlier one is revoked: one node per station)."""
    if station.kind != OrganisationKind.station:
        raise UserError("transfer.not_a_station")
    try:
        key = public_key_from_text(public_key)
    except ValueError:
        raise UserError("transfer.bad_key") from None
    for old in db.execute(select(StationNode).where(StationNode.organisation_id == station.id,
                                                    StationNode.revoked_at.is_(None))).scalars():
        old.revoked_at = now
    node = StationNode(organisation_id=station.id, key_id=key_id(key), public_key=public_bytes(key).hex(),
                       registered_at=now, registered_by_id=actor.id)
    db.add(node)
    db.flush()
    audit.record(db, "node_registered", actor=actor, object_type="station_node", object_id=node.id, now=now,
                 data={"station": station.code, "key_id": node.key_id})
    return node


def _node_of(db: Session, station: Organisation) -> StationNode:
    node = db.execute(select(StationNode).where(StationNode.organisation_id == station.id,
                                                StationNode.revoked_at.is_(None))).scalar_one_or_none()
    if node is None:
        raise UserError("transfer.no_node", 409)
    return node


def _code_context(session: ExamSession, version: int) -> bytes:
    return f"release_code:{session.id}:{version}".encode()


def build_package(db: Session, session: ExamSession, actor: User, now: datetime, hub_key: Ed25519PrivateKey,
                  paper_key: bytes) -> SessionPackage:
    if session.started_at is not None:
        raise UserError("transfer.session_started", 409)
    node = _node_of(db, session.organisation)
    version = (db.execute(select(func.max(SessionPackage.version))
                          .where(SessionPackage.exam_session_id == session.id)).scalar() or 0) + 1
    end = session.scheduled_start_at + timedelta(seconds=session.duration_s)
    info = packages.PackageInfo(session_files.session_ref(session), session.organisation.code, version,
                                session.scheduled_start_at, end + PACKAGE_LIFETIME)
    data, code = packages.build(info, session_files.package_files(db, session, paper_key), hub_key)
    nonce = os.urandom(12)
    row = SessionPackage(exam_session_id=session.id, node_id=node.id, version=version,
                         sha256=hashlib.sha256(data).hexdigest(), size=len(data), data=data, code_nonce=nonce,
                         code_sealed=AESGCM(paper_key).encrypt(nonce, code.encode(), _code_context(session, version)),
                         built_at=now, built_by_id=actor.id)
    db.add(row)
    db.flush()
    audit.record(db, "package_built", actor=actor, object_type="exam_session", object_id=session.id, now=now,
                 data={"version": version, "sha256": row.sha256, "node": node.key_id})
    return row


def latest_package(db: Session, session: ExamSession) -> SessionPackage:
    row = db.execute(select(SessionPackage).where(SessionPackage.exam_session_id == session.id)
                     .order_by(SessionPackage.version.desc()).limit(1)).scalar_one_or_none()
    if row is None:
        raise UserError("transfer.no_package", 404)
    return row


def release(db: Session, package: SessionPackage, actor: Optional[User], channel: str, now: datetime,
            paper_key: bytes, actor_name: str = "") -> str:
    """The release code of a package, from RELEASE_LEAD before the session's start; every release is audited
    (online: to the node itself, ``actor_name`` naming it; phone: read out by a hub user)."""
    session = db.get(ExamSession, package.exam_session_id)
    if now < session.scheduled_start_at - RELEASE_LEAD:
        raise UserError("transfer.too_early", 409, detail=(session.scheduled_start_at - RELEASE_LEAD).isoformat())
    if channel not in ("online", "phone"):
        raise UserError("transfer.bad_channel")
    code = AESGCM(paper_key).decrypt(package.code_nonce, package.code_sealed,
                                     _code_context(session, package.version)).decode()
    if package.released_at is None:
        package.released_at, package.release_channel = now, channel
        package.released_by_id = actor.id if actor else None
    audit.record(db, "package_released", actor=actor, actor_name=actor_name, object_type="exam_session",
                 object_id=session.id, now=now,
                 data={"version": package.version, "channel": channel})
    return code


def import_bundle(db: Session, data: bytes, actor: Optional[User], now: datetime, paper_key: bytes,
                  actor_name: str = "") -> ResultBundle:
    """A node's results bundle; the same bytes a second time return the first import and change nothing.
    The session ran on the node, so the hub opens its own sealed papers now, to re-grade."""
    digest = hashlib.sha256(data).hexdigest()
    known = db.execute(select(ResultBundle).where(ResultBundle.sha256 == digest)).scalar_one_or_none()
    if known is not None:
        return known
    nodes = {n.key_id: n for n in db.execute(select(StationNode).where(StationNode.revoked_at.is_(None))).scalars()}
    try:
        envelope = open_envelope(data, BUNDLE, {k: public_key_from_text(n.public_key) for k, n in nodes.items()})
    except EnvelopeError as error:
        raise _refuse(error) from None
    node, session = nodes[envelope.signer], _session_of_ref(db, envelope.header["session"])
    if session.organisation_id != node.organisation_id:
        raise UserError("transfer.other_station", 409, detail=envelope.header["session"])
    document = json.loads(envelope.members[session_files.RESULTS])
    if session.paper_data_key is None:
        papers.release_key(db, session, paper_key, actor, now)
    attempts, conflicts = session_files.import_results(db, session, document, now)
    records = {r["ticket_number"]: r for r in document["attempts"]}
    regrade = {a.roster_entry.ticket_number: _regrade(db, a, records[a.roster_entry.ticket_number]) for a in attempts}
    for attempt in attempts:        # the hub's own score reports, by the usual jobs, for results and certificates
        if attempt.submitted_at is not None and attempt.voided_at is None:
            scoring.enqueue_grading(db, attempt, now, reason="node_results")
    bundle = ResultBundle(sha256=digest, node_id=node.id, exam_session_id=session.id, data=data, received_at=now,
                          imported_at=now, conflicts=json.dumps(conflicts, ensure_ascii=False),
                          regrade=json.dumps(regrade, ensure_ascii=False))
    db.add(bundle)
    db.flush()
    audit.record(db, "results_imported", actor=actor, actor_name=actor_name, object_type="exam_session",
                 object_id=session.id, now=now,
                 data={"sha256": digest, "attempts": len(attempts), "conflicts": len(conflicts),
                       "mismatches": sorted(t for t, r in regrade.items() if not r["match"])})
    return bundle


def _session_of_ref(db: Session, ref: str) -> ExamSession:
    code, _, number = ref.rpartition("/")
    session = db.get(ExamSession, int(number)) if number.isdigit() else None
    if session is None or session.exam.code != code:
        raise UserError("transfer.unknown_session", 409, detail=ref)
    return session


def _regrade(db: Session, attempt: Attempt, record: dict) -> dict:
    """The hub's own grading of the imported answers or trace, with the node examiners' inputs, against the
    node's report: the same total and the same score on every item, or a mismatch to look at."""
    node_report = record["report"]
    if node_report is None:
        return {"node": None, "hub": None, "match": False, "items": []}
    inputs = _with_node_inputs(scoring.load_inputs(db, attempt), record["examiner_inputs"])
    hub_report = scoring.compute(inputs)
    node_items = {row["id"]: row["score"] for row in node_report["rows"]}
    differing = sorted(row["id"] for row in hub_report["rows"] if node_items.get(row["id"]) != row["score"])
    return {"node": node_report["total"], "hub": hub_report["total"], "items": differing,
            "match": not differing and node_report["total"] == hub_report["total"]}


def _with_node_inputs(inputs: scoring.Inputs, given: dict) -> scoring.Inputs:
    marks: dict[str, list[float]] = {}
    for mark in given["marks"]:
        marks.setdefault(mark["item_id"], []).append(mark["score"])
    overrides = {o["item_id"]: (o["score"], o["reason"]) for o in given["overrides"]}
    findings: dict[str, list[str]] = {}
    for finding in given["findings"]:
        findings.setdefault(finding["kind"], []).append(finding["description"])
    if inputs.part == "practical":
        submission = dataclasses.replace(inputs.submission, examiner_marks=marks, overrides=overrides,
                                         civility_violations=tuple(findings.get("civility", ())),
                                         vetoes=tuple(findings.get("veto", ())))
    else:
        submission = inputs.submission
    return dataclasses.replace(inputs, submission=submission, marks=marks, overrides=overrides, findings=findings)


# ------------------------------------------------------------------------------------------ node

def init_station(db: Session, code: str, name: str, now: datetime) -> Organisation:
    """A node's own station, the root of its (empty) database's organisations: `examctl node init`."""
    if db.execute(select(Organisation.id)).first() is not None:
        raise UserError("transfer.not_empty", 409)
    station = Organisation(code=code.strip(), name=name.strip(), kind=OrganisationKind.station, created_at=now)
    db.add(station)
    db.flush()
    station.path = f"/{station.id}/"
    audit.record(db, "node_initialised", actor_name="examctl", object_type="organisation", object_id=station.id,
                 now=now, data={"code": station.code})
    return station


def trust_hub(db: Session, public_key: str, station_code: str, hub_url: str, actor: User, now: datetime) -> TrustedHub:
    try:
        key = public_key_from_text(public_key)
    except ValueError:
        raise UserError("transfer.bad_key") from None
    hub = TrustedHub(key_id=key_id(key), public_key=public_bytes(key).hex(), station_code=station_code,
                     hub_url=hub_url, registered_at=now)
    db.add(hub)
    db.flush()
    audit.record(db, "hub_trusted", actor=actor, object_type="trusted_hub", object_id=hub.id, now=now,
                 data={"key_id": hub.key_id, "station": station_code})
    return hub


def trusted_hub(db: Session) -> TrustedHub:
    hub = db.execute(select(TrustedHub).order_by(TrustedHub.id.desc()).limit(1)).scalar_one_or_none()
    if hub is None:
        raise UserError("transfer.no_hub", 409)
    return hub


def _hub_keys(hub: TrustedHub) -> dict:
    return {hub.key_id: public_key_from_text(hub.public_key)}


def receive_package(db: Session, data: bytes, source: str, actor: User, now: datetime) -> ReceivedPackage:
    """Store a package after checking it; the same package again changes nothing."""
    hub = trusted_hub(db)
    digest = hashlib.sha256(data).hexdigest()
    known = db.execute(select(ReceivedPackage).where(ReceivedPackage.sha256 == digest)).scalar_one_or_none()
    if known is not None:
        return known
    try:
        ref = str(open_envelope(data, packages.KIND, _hub_keys(hub)).header.get("session", ""))
        highest = db.execute(select(func.max(ReceivedPackage.version))
                             .where(ReceivedPackage.session_ref == ref)).scalar() or 0
        info = packages.check(data, _hub_keys(hub), hub.station_code, highest + 1, now)
    except EnvelopeError as error:
        audit.record(db, "package_refused", actor=actor, object_type="package", object_id=digest[:16], now=now,
                     data={"reason": error.key, "detail": error.detail, "source": source})
        raise Refused(error.key, 409, detail=error.detail) from None
    row = ReceivedPackage(session_ref=info.session_ref, version=info.version, not_before=info.not_before,
                          sha256=digest, data=data, source=source, received_at=now)
    db.add(row)
    db.flush()
    audit.record(db, "package_received", actor=actor, object_type="package", object_id=row.id, now=now,
                 data={"session": info.session_ref, "version": info.version, "sha256": digest, "source": source})
    return row


def unlock(db: Session, received: ReceivedPackage, code: str, actor: User, now: datetime,
           paper_key: bytes) -> ExamSession:
    """Open the newest package of a session with its release code and import the session."""
    if db.execute(select(ReceivedPackage.id).where(ReceivedPackage.session_ref == received.session_ref,
                                                   ReceivedPackage.unlocked_at.is_not(None))).first() is not None:
        raise UserError("transfer.already_unlocked", 409)
    newest = db.execute(select(func.max(ReceivedPackage.version))
                        .where(ReceivedPackage.session_ref == received.session_ref)).scalar()
    if received.version != newest:
        raise UserError("transfer.rollback", 409, detail=f"{received.version} < {newest}")
    if now < received.not_before - RELEASE_LEAD:
        raise UserError("transfer.too_early", 409, detail=(received.not_before - RELEASE_LEAD).isoformat())
    try:
        files = packages.unlock(received.data, _hub_keys(trusted_hub(db)), code)
    except EnvelopeError as error:
        audit.record(db, "package_unlock_failed", actor=actor, object_type="package", object_id=received.id, now=now,
                     data={"reason": error.key})
        raise Refused(error.key, 409, detail=error.detail) from None
    session = session_files.import_package(db, files, paper_key, actor, now)
    db.flush()
    received.unlocked_at, received.unlocked_by_id, received.exam_session_id = now, actor.id, session.id
    audit.record(db, "package_unlocked", actor=actor, object_type="exam_session", object_id=session.id, now=now,
                 data={"session": received.session_ref, "version": received.version})
    return session


def result_bundle(db: Session, received: ReceivedPackage, node_key: Ed25519PrivateKey, actor: User,
                  now: datetime) -> bytes:
    """The signed results of an ended session, for upload or a USB stick."""
    session = db.get(ExamSession, received.exam_session_id) if received.exam_session_id else None
    if session is None or session.ended_at is None:
        raise UserError("transfer.not_ended", 409)
    hub = trusted_hub(db)
    header = {"session": received.session_ref, "station": hub.station_code}   # the same results, the same bytes
    data = seal(BUNDLE, header, session_files.result_files(db, session, received.session_ref), node_key)
    audit.record(db, "results_bundled", actor=actor, object_type="exam_session", object_id=session.id, now=now,
                 data={"sha256": hashlib.sha256(data).hexdigest()})
    return data


def sync_packages(db: Session, client, folder: Path, actor: User, now: datetime) -> list[ReceivedPackage]:
    """Download the hub's packages for this station that are not here yet; a download cut by the link goes on
    from its partial file in ``folder`` next time."""
    folder.mkdir(parents=True, exist_ok=True)
    received = []
    for listed in client.packages():
        if db.execute(select(ReceivedPackage.id).where(ReceivedPackage.sha256 == listed["sha256"])).first():
            continue
        part = folder / f"{listed['sha256']}.part"
        partial = part.read_bytes() if part.exists() else b""
        with part.open("ab") as out:
            data = client.download(listed, partial, on_chunk=lambda piece: (out.write(piece), out.flush()))
        part.unlink()
        if hashlib.sha256(data).hexdigest() != listed["sha256"]:
            raise UserError("transfer.bad_member", 409, detail="download")
        received.append(receive_package(db, data, "download", actor, now))
    return received


def fetch_code(db: Session, client, received: ReceivedPackage) -> str:
    """The release code from the hub, online (the hub refuses before the start window and audits the release)."""
    listed = {p["sha256"]: p for p in client.packages()}
    if received.sha256 not in listed:
        raise UserError("transfer.no_package", 404)
    return client.release_code(listed[received.sha256]["id"])
