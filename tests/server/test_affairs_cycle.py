"""The whole pipeline in-process (issue #11): plan → registration → review → fee → registry → rooms → sessions
→ staff → sealed paper (the demo load, through the use cases), then check-in → answers → submission → grading
→ release → confirmation → certificates (`examctl demo cycle`) → public lookup. Every step leaves its audit
record on its own object and the chain verifies. Runs on SQLite and, with EXAM_DATABASE_URL, PostgreSQL."""
from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select

from exam_server import audit, certificates, commands, demo_affairs
from exam_server.models import (AuditEvent, Certificate, ExamPart, ExamPlan, PartScore, Registration, Result,
                                utcnow)

from .conftest import PAPER_KEY

PASSING = {"欧阳明轩", "上官雨桐", "司马文涛"}      # 20, 18, 16 of 20 items right; 诸葛晓峰 9 of 20
# Theory: 5 points an item. Practical: the reference trace scores 94 with Q01 pending (test_scoring), + 3 for
# Q01 once two examiners agree on full marks = 97, for everyone.
THEORY_TENTHS = {"欧阳明轩": 1000, "上官雨桐": 900, "司马文涛": 800, "诸葛晓峰": 450}
PRACTICAL_TENTHS = 970


def load_affairs(database) -> None:
    """What `examctl demo load` adds to the tests' template: the plan through to the two staffed sessions."""
    with database.transaction() as db:
        demo_affairs.load(db, utcnow(), PAPER_KEY)


@pytest.fixture
def affairs(database):
    load_affairs(database)
    return database


def audited(db, action: str) -> Counter:
    """How many records of the action each object has."""
    return Counter(db.execute(select(AuditEvent.object_id).where(AuditEvent.action == action)).scalars())


@pytest.fixture
def cycled(app, affairs, database):
    settings = app.extensions["exam_settings"]
    return demo_affairs.cycle(database, utcnow(), settings.paper_key(), certificates.signing_key(settings))


def test_plan_to_public_certificate_every_step_audited(cycled, database, client):
    assert (cycled.candidates, cycled.passed) == (4, 3)
    with database.session(write=False) as db:
        plan = db.execute(select(ExamPlan).where(ExamPlan.code == demo_affairs.PLAN_CODE)).scalar_one()
        registrations = db.execute(select(Registration).where(Registration.plan_id == plan.id)).scalars().all()
        sessions = demo_affairs.sessions_of(db)
        for action in ("plan.create", "plan.publish"):
            assert audited(db, action)[str(plan.id)] == 1
        assert len(registrations) == 4
        for action in ("registration.create", "registration.approve", "registration.fee_paid"):
            assert all(audited(db, action)[str(r.id)] == 1 for r in registrations), action
        assert sum(audited(db, "candidate_account_created")[str(r.candidate_id)] for r in registrations) == 4
        assert sum(audited(db, "qualification_added").values()) >= 4
        for action in ("session_scheduled", "session_staff_assigned", "session_check_in_opened", "session_started",
                       "session_ended", "score_reports_released"):
            assert all(audited(db, action)[str(s.id)] == 1 for s in sessions.values()), action
        assert audited(db, "paper_sealed")[str(sessions[ExamPart.theory].id)] == 1
        entries = [e for s in sessions.values() for e in s.roster]
        assert len(entries) == 8 and all(audited(db, "checked_in")[str(e.id)] == 1 for e in entries)
        assert all(audited(db, "attempt_started")[str(e.attempt.id)] == 1 for e in entries)
        assert all(audited(db, "score_report_stored")[str(e.attempt.id)] >= 1 for e in entries)

        names = {r.candidate_id: r.name for r in registrations}
        scores = {(names[p.candidate_id], p.part): p.score_tenths
                  for p in db.execute(select(PartScore)).scalars() if p.candidate_id in names}
        assert scores == {**{(n, "theory"): t for n, t in THEORY_TENTHS.items()},
                          **{(n, "practical"): PRACTICAL_TENTHS for n in THEORY_TENTHS}}
        results = db.execute(select(Result).where(Result.candidate_id.in_(names))).scalars().all()
        assert all(audited(db, "result.confirm")[str(r.id)] == 1 for r in results) and len(results) == 4
        issued = db.execute(select(Certificate).where(Certificate.result_id.in_([r.id for r in results]))
                            ).scalars().all()
        assert {c.holder_name for c in issued} == PASSING
        assert all(audited(db, "certificate.issue")[c.number] == 1 for c in issued)
        # S + 0001 + 32 + site (the station's id on 6 digits) + year + level 4 + serial
        station_id = sessions[ExamPart.theory].organisation_id
        assert all(c.number[:13] == f"S000132{station_id:06d}" and len(c.number) == 22 and c.number[15] == "4"
                   for c in issued)
        assert audit.verify(db).first_broken_seq is None

    for cert in issued:
        found = client.get("/api/certificates/lookup", query_string={"number": cert.number, "name": cert.holder_name})
        assert found.status_code == 200
        (view,) = found.json["certificates"]
        assert (view["name"], view["signed"], view["revoked"]) == (cert.holder_name, True, False)
        assert "*" in view["id_number"] and view["id_number"] != cert.id_number
    failed = next(r for r in registrations if r.name not in PASSING)
    nothing = client.get("/api/certificates/lookup", query_string={"name": failed.name,
                                                                   "id_number": failed.id_number})
    assert nothing.status_code == 200 and nothing.json["certificates"] == []


def test_the_cycle_runs_once(cycled, app, database):
    settings = app.extensions["exam_settings"]
    with pytest.raises(commands.UserError) as again:
        demo_affairs.cycle(database, utcnow(), settings.paper_key(), certificates.signing_key(settings))
    assert again.value.key == "demo.cycle_already_run"
