"""A hub and a station node, each with its own database: package, receive, unlock, run the exam on the node
with the hub out of reach, bundle the results, import them on the hub and re-grade them there."""
from __future__ import annotations

import io
import json
import shutil
import uuid
import zipfile
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from exam_server import audit, delivery, grading_jobs, nodes, scoring
from exam_server.accounts import find_user
from exam_server.db import Database
from exam_server.errors import UserError
from exam_server.models import (Attempt, AuditEvent, ExamPart, ExamSession, Organisation,
                                OrganisationKind, ResultBundle, Role, RoleAssignment, RosterEntry, ScoreReport,
                                SealedPaper,
                                TraceEvent, User, utcnow)
from exam_server.schema import upgrade
from simulators.core import trace

from .conftest import PAPER_KEY, SERVER_URL, _admin_engine
from .test_scoring import ANSWERS, HAND_TOTAL, TRACE

NODE_PAPER_KEY = bytes(range(32))
HUB_KEY, NODE_KEY = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def node_template(tmp_path_factory):
    """An empty, migrated database of a station's own server, made once for these tests."""
    if not SERVER_URL:
        path = tmp_path_factory.mktemp("node") / "node.db"
        upgrade(f"sqlite:///{path}")
        yield path
        return
    name, admin = f"exam_test_nodetmpl_{uuid.uuid4().hex[:10]}", _admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    upgrade(make_url(SERVER_URL).set(database=name).render_as_string(hide_password=False))
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def node_database(node_template, tmp_path):
    if not SERVER_URL:
        shutil.copy(node_template, tmp_path / "node.db")
        database = Database(f"sqlite:///{tmp_path / 'node.db'}")
        yield database
        database.dispose()
        return
    name, admin = node_template.replace("nodetmpl", "node" + uuid.uuid4().hex[:6]), _admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{node_template}"'))
    database = Database(make_url(SERVER_URL).set(database=name).render_as_string(hide_password=False))
    yield database
    database.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def hub_session(db, part: ExamPart) -> ExamSession:
    return db.execute(select(ExamSession).where(ExamSession.part == part).order_by(ExamSession.id)).scalars().first()


def package_on_hub(database, part: ExamPart) -> tuple[bytes, int, str]:
    """Register the station's node and build the session's package: (package, session id, station code)."""
    with database.transaction() as db:
        admin, session = find_user(db, "admin"), hub_session(db, part)
        nodes.register_node(db, session.organisation, nodes.public_key_text(NODE_KEY), admin, utcnow())
        package = nodes.build_package(db, session, admin, utcnow(), HUB_KEY, PAPER_KEY)
        return package.data, session.id, session.organisation.code


def release_code(database, session_id: int, now) -> str:
    with database.transaction() as db:
        session = db.get(ExamSession, session_id)
        return nodes.release(db, nodes.latest_package(db, session), find_user(db, "admin"), "phone", now, PAPER_KEY)


def set_up_node(node_database, station_code: str):
    """What `examctl node init` does: the station, its administrator and examiner, the trusted hub."""
    with node_database.transaction() as db:
        station = Organisation(code=station_code, name="鉴定站", kind=OrganisationKind.station)
        db.add(station)
        db.flush()
        station.path = f"/{station.id}/"
        for username, role in (("node_admin", Role.station_manager), ("examiner_nj01", Role.examiner)):
            user = User(username=username, display_name=username, password_hash="!", organisation=station,
                        created_at=utcnow())
            user.role_assignments = [RoleAssignment(role=role, organisation=station, granted_at=utcnow())]
            db.add(user)
        db.flush()
        nodes.trust_hub(db, nodes.public_key_text(HUB_KEY), station_code, "", find_user(db, "node_admin"), utcnow())


def receive_and_unlock(node_database, data: bytes, code: str, now) -> int:
    """As the node's pages do it: a refusal is committed (audited), then shown."""
    refused = None
    with node_database.transaction() as db:
        try:
            received = nodes.receive_package(db, data, "file", find_user(db, "node_admin"), now)
            return nodes.unlock(db, received, code, find_user(db, "node_admin"), now, NODE_PAPER_KEY).id
        except nodes.Refused as exc:
            refused = exc
    raise refused


def flipped(data: bytes, member: str) -> bytes:
    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            content = source.read(name)
            target.writestr(name, content[:-1] + bytes([content[-1] ^ 1]) if name == member else content)
    return out.getvalue()


def test_a_theory_session_runs_on_the_node_and_comes_back(database, node_database):
    data, session_id, station_code = package_on_hub(database, ExamPart.theory)
    set_up_node(node_database, station_code)
    with database.session(write=False) as db:
        start = db.get(ExamSession, session_id).scheduled_start_at
        hub_roster = [(e.ticket_number, e.candidate.id_number) for e in db.get(ExamSession, session_id).roster]

    with pytest.raises(UserError) as early:                      # the code is not given out a day ahead
        release_code(database, session_id, start - timedelta(hours=2))
    assert early.value.key == "transfer.too_early"
    code = release_code(database, session_id, start - timedelta(minutes=20))

    with pytest.raises(UserError) as wrong:
        receive_and_unlock(node_database, data, "00000-00000-00000-00000-00000", start - timedelta(minutes=20))
    assert wrong.value.key == "transfer.wrong_code"
    with pytest.raises(UserError) as tampered:
        receive_and_unlock(node_database, flipped(data, "payload.bin"), code, start - timedelta(minutes=20))
    assert tampered.value.key == "transfer.bad_member"

    node_session_id = receive_and_unlock(node_database, data, code, start - timedelta(minutes=20))
    with node_database.transaction() as db:                      # the exam, with the hub out of reach
        session = db.get(ExamSession, node_session_id)
        assert [(e.ticket_number, e.candidate.id_number) for e in session.roster] == hub_roster
        assert db.execute(select(SealedPaper)).scalar_one().exam_session_id == node_session_id
        assert session.paper_data_key is None                    # still sealed until the examiner starts
        examiner = find_user(db, "examiner_nj01")
        delivery.open_check_in(db, session, examiner, start - timedelta(minutes=10))
        delivery.start_session(db, session, examiner, start, NODE_PAPER_KEY)
        for seat in (0, 1):
            entry = session.roster[seat]
            attempt = delivery.start_attempt(db, entry, start + timedelta(minutes=1))
            for n, (item, value) in enumerate(sorted(ANSWERS.items()), start=1):
                delivery.apply_save(db, attempt, delivery.SaveOp(uuid.uuid4().hex, n, item, value),
                                    start + timedelta(minutes=2))
            delivery.submit(db, attempt, entry.candidate, start + timedelta(minutes=30))
            scoring.on_attempt_closed(db, attempt, start + timedelta(minutes=30))
        delivery.end_session(db, session, examiner, start + timedelta(minutes=120))
    assert grading_jobs.run_pending(node_database, "node-worker") == {"done": 2}
    with node_database.transaction() as db:
        received = db.execute(select(nodes.ReceivedPackage)).scalar_one()
        bundle = nodes.result_bundle(db, received, NODE_KEY, find_user(db, "node_admin"), start + timedelta(hours=3))

    with database.transaction() as db:                           # back on the hub
        first = nodes.import_bundle(db, bundle, find_user(db, "admin"), start + timedelta(hours=4), PAPER_KEY)
        assert json.loads(first.conflicts) == []
        regrade = json.loads(first.regrade)
        assert set(regrade) == {t for t, _ in hub_roster[:2]}
        assert all(r["match"] and r["hub"] == r["node"] == HAND_TOTAL for r in regrade.values())
        assert db.get(ExamSession, session_id).ended_at == start + timedelta(minutes=120)
    with database.transaction() as db:                           # the same bundle again changes nothing
        again = nodes.import_bundle(db, bundle, find_user(db, "admin"), start + timedelta(hours=5), PAPER_KEY)
        assert again.id == first.id
        assert db.execute(select(func.count()).select_from(ResultBundle)).scalar() == 1
        assert db.execute(select(func.count()).select_from(Attempt).join(RosterEntry)
                          .where(RosterEntry.exam_session_id == session_id)).scalar() == 2
        actions = db.execute(select(AuditEvent.action).where(AuditEvent.action.in_(
            ["node_registered", "package_built", "package_released", "results_imported"]))).scalars().all()
        assert sorted(actions) == ["node_registered", "package_built", "package_released", "results_imported"]
        assert audit.verify(db).ok
    with node_database.session(write=False) as db:
        node_actions = set(db.execute(select(AuditEvent.action)).scalars())
        assert {"hub_trusted", "package_received", "package_refused", "package_unlock_failed",
                "package_unlocked", "results_bundled"} <= node_actions
        assert audit.verify(db).ok


def test_a_practical_trace_is_regraded_on_the_hub(database, node_database):
    data, session_id, station_code = package_on_hub(database, ExamPart.practical)
    set_up_node(node_database, station_code)
    with database.session(write=False) as db:
        start = db.get(ExamSession, session_id).scheduled_start_at
    node_session_id = receive_and_unlock(node_database, data, release_code(database, session_id, start), start)
    events = trace.parse_jsonl(TRACE.read_text(encoding="utf-8"))
    from exam_server import practical
    with node_database.transaction() as db:
        session, examiner = db.get(ExamSession, node_session_id), find_user(db, "examiner_nj01")
        delivery.open_check_in(db, session, examiner, start)
        delivery.start_session(db, session, examiner, start, NODE_PAPER_KEY)
        entry = session.roster[0]
        attempt = delivery.start_attempt(db, entry, start)
        practical.assign_task(db, attempt, start)
        start_ms = int(attempt.started_at.timestamp() * 1000)
        for e in events:
            db.add(TraceEvent(attempt_id=attempt.id, seq=e["seq"], op_id=uuid.uuid4().hex, type=e["type"],
                              payload=json.dumps(e["payload"]), t_client=e["t_client"],
                              t_server=start_ms + e["t_client"], received_at=start))
        db.flush()
        end = attempt.started_at + timedelta(milliseconds=events[-1]["t_client"] + 1000)
        delivery.submit(db, attempt, entry.candidate, end)
        scoring.on_attempt_closed(db, attempt, end)
        scoring.record_finding(db, attempt, examiner, "civility", "工量具摆放凌乱", end)
        delivery.end_session(db, session, examiner, end + timedelta(minutes=1))
    assert grading_jobs.run_pending(node_database, "node-worker").get("done", 0) >= 1
    with node_database.transaction() as db:
        bundle = nodes.result_bundle(db, db.execute(select(nodes.ReceivedPackage)).scalar_one(), NODE_KEY,
                                     find_user(db, "node_admin"), end + timedelta(hours=1))

    with pytest.raises(UserError) as forged:                     # a bundle signed by an unknown node
        with node_database.transaction() as db:
            other = nodes.result_bundle(db, db.execute(select(nodes.ReceivedPackage)).scalar_one(),
                                        Ed25519PrivateKey.generate(), find_user(db, "node_admin"), end)
        with database.transaction() as db:
            nodes.import_bundle(db, other, find_user(db, "admin"), end, PAPER_KEY)
    assert forged.value.key == "transfer.unknown_signer"
    with database.transaction() as db:
        imported = nodes.import_bundle(db, bundle, find_user(db, "admin"), end + timedelta(hours=2), PAPER_KEY)
        result = json.loads(imported.regrade)
        (ticket, regrade), = result.items()
        assert ticket == entry.ticket_number and regrade["match"] and regrade["items"] == []
        hub_attempt = db.execute(select(Attempt).join(RosterEntry)
                                 .where(RosterEntry.ticket_number == ticket)).scalar_one()
        assert db.execute(select(func.count()).select_from(TraceEvent)
                          .where(TraceEvent.attempt_id == hub_attempt.id)).scalar() == len(events)
        node_total = regrade["node"]
    assert grading_jobs.run_pending(database, "hub-worker") == {"done": 1}     # the hub's own report, by its jobs
    with database.session(write=False) as db:
        report = json.loads(db.execute(select(ScoreReport.report_json).where(ScoreReport.attempt_id == hub_attempt.id))
                            .scalar_one())
        assert report["total"] == node_total and report["civility_deduction"] == 3    # the node examiner's finding


def test_rollback_and_other_stations_are_refused_on_the_node(database, node_database):
    first, session_id, station_code = package_on_hub(database, ExamPart.theory)
    with database.transaction() as db:
        newer = nodes.build_package(db, db.get(ExamSession, session_id), find_user(db, "admin"), utcnow(), HUB_KEY,
                                    PAPER_KEY).data
    set_up_node(node_database, station_code)
    now = utcnow()
    with node_database.transaction() as db:
        assert nodes.receive_package(db, newer, "download", find_user(db, "node_admin"), now).version == 2
        with pytest.raises(UserError) as rolled_back:
            nodes.receive_package(db, first, "file", find_user(db, "node_admin"), now)
        assert rolled_back.value.key == "transfer.rollback"
        assert nodes.receive_package(db, newer, "file", find_user(db, "node_admin"), now).version == 2   # idempotent
    with node_database.transaction() as db:
        db.execute(select(nodes.TrustedHub)).scalar_one().station_code = "JS-XX-99"
    with node_database.transaction() as db, pytest.raises(UserError) as elsewhere:
        with database.transaction() as hub:
            third = nodes.build_package(hub, hub.get(ExamSession, session_id), find_user(hub, "admin"), utcnow(),
                                        HUB_KEY, PAPER_KEY).data
        nodes.receive_package(db, third, "file", find_user(db, "node_admin"), now)
    assert elsewhere.value.key == "transfer.other_station"


def test_conflicts_are_reported_never_merged(database, node_database):
    """The hub changed the roster after packaging and voided a candidate's attempt meanwhile: those two come back
    as conflicts and the others are imported."""
    data, session_id, station_code = package_on_hub(database, ExamPart.theory)
    set_up_node(node_database, station_code)
    with database.session(write=False) as db:
        start = db.get(ExamSession, session_id).scheduled_start_at
    node_session_id = receive_and_unlock(node_database, data, release_code(database, session_id, start), start)
    with node_database.transaction() as db:
        session, examiner = db.get(ExamSession, node_session_id), find_user(db, "examiner_nj01")
        delivery.open_check_in(db, session, examiner, start)
        delivery.start_session(db, session, examiner, start, NODE_PAPER_KEY)
        tickets = []
        for entry in session.roster[:3]:
            attempt = delivery.start_attempt(db, entry, start)
            delivery.submit(db, attempt, entry.candidate, start + timedelta(minutes=5))
            tickets.append(entry.ticket_number)
        delivery.end_session(db, session, examiner, start + timedelta(minutes=10))
        bundle = nodes.result_bundle(db, db.execute(select(nodes.ReceivedPackage)).scalar_one(), NODE_KEY,
                                     find_user(db, "node_admin"), start + timedelta(hours=1))
    with database.transaction() as db:                       # meanwhile on the hub
        session = db.get(ExamSession, session_id)
        moved = next(e for e in session.roster if e.ticket_number == tickets[0])
        moved.ticket_number = "MOVED-0001"                   # the roster changed after the package
        voided = next(e for e in session.roster if e.ticket_number == tickets[1])
        hub_attempt = Attempt(roster_entry=voided, started_at=start, voided_at=start + timedelta(minutes=1))
        db.add(hub_attempt)
        db.flush()
    with database.transaction() as db:
        imported = nodes.import_bundle(db, bundle, find_user(db, "admin"), start + timedelta(hours=2), PAPER_KEY)
        conflicts = {c["ticket_number"]: c["conflict"] for c in json.loads(imported.conflicts)}
        assert conflicts == {tickets[0]: "not_on_roster", tickets[1]: "voided_on_hub"}
        assert set(json.loads(imported.regrade)) == {tickets[2]}
        assert db.get(Attempt, hub_attempt.id).voided_at is not None     # the hub's decision stands
