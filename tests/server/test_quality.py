"""Station quality indicators, the red/black list with its evidence, responsibility agreements, and who may see
and do what. Three stations sit exams in March 2026 (seeded below); every expected figure is worked out by hand
in the comments."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from assessment.quality import parse_period
from exam_server import audit, quality
from exam_server.models import (Appeal, Attempt, AuditEvent, Exam, ExaminerFinding, ExamPart, ExamSession, Incident,
                                ItemAnalysis, JobType, MisconductRecord, MisconductTier, Organisation, RosterEntry,
                                ScoreOverride, ScoreReport, SessionReport, SupervisorAnnotation, User)

MARCH = "2026-03"
BEIJING = timezone(timedelta(hours=8))


@dataclass
class Seed:
    stations: dict = field(default_factory=dict)       # code → id
    sessions: dict = field(default_factory=dict)       # name → id
    attempts: dict = field(default_factory=dict)       # name → [attempt ids]
    records: dict = field(default_factory=dict)        # name → id


def _at(day: str, hour: int = 9, minute: int = 0) -> datetime:
    """A Beijing wall-clock time as an aware datetime."""
    y, m, d = (int(x) for x in day.split("-"))
    return datetime(y, m, d, hour, minute, tzinfo=BEIJING)


def _candidates(db, station: Organisation, prefix: str, count: int) -> list[User]:
    users = [User(username=f"{prefix}{i:03d}", display_name=f"考生{prefix}{i}", password_hash="x",
                  organisation_id=station.id) for i in range(count)]
    db.add_all(users)
    db.flush()
    return users


def _session(db, seed: Seed, name: str, exam: Exam, part: ExamPart, station: Organisation, start: datetime,
             candidates: list[User], passes: int, admin: User) -> ExamSession:
    """A session whose first ``passes`` candidates passed (score 80) and the rest failed (40)."""
    session = ExamSession(exam=exam, part=part, organisation=station, room="R1", scheduled_start_at=start,
                          duration_s=3600, started_at=start, ended_at=start + timedelta(hours=1), created_at=start)
    db.add(session)
    db.flush()
    seed.sessions[name], seed.attempts[name] = session.id, []
    for i, user in enumerate(candidates):
        entry = RosterEntry(exam_session=session, candidate=user, seat=f"{i + 1:02d}", ticket_number=f"{name}-{i}")
        db.add(entry)
        db.flush()
        attempt = Attempt(roster_entry_id=entry.id, started_at=start, submitted_at=start + timedelta(minutes=50))
        db.add(attempt)
        db.flush()
        passed = i < passes
        db.add(ScoreReport(attempt_id=attempt.id, sheet_id="s", sheet_version=1, inputs_digest="d", report_json="{}",
                           total=80.0 if passed else 40.0, passed=passed, pending=False, graded_at=start))
        seed.attempts[name].append(attempt.id)
    db.flush()
    return session


def _countersigned_report(db, session: ExamSession, user: User, countersigned: bool) -> None:
    at = session.ended_at
    db.add(SessionReport(exam_session_id=session.id, content="{}", content_sha256="0" * 64, generated_at=at,
                         generated_by_id=user.id, chief_signed_at=at, chief_signed_by_id=user.id,
                         supervisor_signed_at=at if countersigned else None,
                         supervisor_signed_by_id=user.id if countersigned else None))


def seed_march(database) -> Seed:
    """Station A (JS-NJ-01): 20 candidates, 19 pass both parts; 3 overrides, an incident, a note, a finding;
    the practical report is not countersigned.  → black: pass-rate anomaly with 15 overrides per 100.
    Station B (JS-SZ-01): 20 candidates, 10 pass both parts; reports countersigned; agreement for 2026; one
    appeal rejected; one superseded report (a pass replaced by a fail).  → red.
    Station C (JS-NJ-02): 40 candidates sit theory only, 20 pass; a signed void-all misconduct and an unsigned
    draft; an upheld appeal; an item analysis with one leak signal.  → black: void-all misconduct.
    Outside March (Beijing time): A's session at 2026-04-01 07:00 (still March 31 in UTC) with 5 failures."""
    seed = Seed()
    with database.transaction() as db:
        org = {o.code: o for o in db.execute(select(Organisation)).scalars()}
        a, b, c = org["JS-NJ-01"], org["JS-SZ-01"], org["JS-NJ-02"]
        seed.stations = {"A": a.id, "B": b.id, "C": c.id}
        admin = db.execute(select(User).where(User.username == "admin")).scalar_one()
        job_type = db.execute(select(JobType).where(JobType.name == "数控车工")).scalar_one()
        exam = Exam(code="Q-2026-03", name="2026 年 3 月 数控车工 四级", job_type=job_type, level=4)
        db.add(exam)
        people_a, people_b, people_c = (_candidates(db, a, "qa", 25), _candidates(db, b, "qb", 20),
                                        _candidates(db, c, "qc", 40))
        a_theory = _session(db, seed, "a_theory", exam, ExamPart.theory, a, _at("2026-03-10"), people_a[:20], 19, admin)
        a_practical = _session(db, seed, "a_practical", exam, ExamPart.practical, a, _at("2026-03-11"), people_a[:20],
                               19, admin)
        _session(db, seed, "a_april", exam, ExamPart.theory, a, _at("2026-04-01", 7), people_a[20:], 0, admin)
        b_theory = _session(db, seed, "b_theory", exam, ExamPart.theory, b, _at("2026-03-12"), people_b, 10, admin)
        b_practical = _session(db, seed, "b_practical", exam, ExamPart.practical, b, _at("2026-03-13"), people_b, 10,
                               admin)
        c_theory = _session(db, seed, "c_theory", exam, ExamPart.theory, c, _at("2026-03-15"), people_c, 20, admin)
        now = _at("2026-03-20").astimezone(timezone.utc)     # the audit chain hashes UTC timestamps
        for session, signed in ((a_theory, True), (a_practical, False), (b_theory, True), (b_practical, True),
                                (c_theory, True)):
            _countersigned_report(db, session, admin, signed)
        # A: three overrides (one more revoked, not counted), an incident, a supervisor's note, an examiner finding
        for attempt_id in seed.attempts["a_practical"][:4]:
            db.add(ScoreOverride(attempt_id=attempt_id, item_id="i1", score=10, reason="r", examiner_id=admin.id,
                                 created_at=now, revoked_at=now if attempt_id == seed.attempts["a_practical"][3]
                                 else None))
        incident = Incident(exam_session_id=a_theory.id, category="technical", description="停电", created_at=now,
                            created_by_id=admin.id)
        note = SupervisorAnnotation(exam_session_id=a_practical.id, text="考评员提示过多", created_at=now,
                                    created_by_id=admin.id)
        finding = ExaminerFinding(attempt_id=seed.attempts["a_practical"][0], kind="civility", description="未戴护目镜",
                                  examiner_id=admin.id, recorded_at=now)
        # B: one superseded pass under a current fail is already counted as the fail (candidate 19 failed);
        b_last = seed.attempts["b_theory"][-1]
        db.add(ScoreReport(attempt_id=b_last, sheet_id="s", sheet_version=0, inputs_digest="d", report_json="{}",
                           total=95.0, passed=True, pending=False, graded_at=now, superseded_at=now))
        rejected = _appeal(db, b_last, admin, now, upheld=False)
        # C: a void-all misconduct (signed), an unsigned draft, an upheld appeal, an item analysis with flags
        void_all = _misconduct(db, c_theory, seed.attempts["c_theory"][39], admin, now, signed=True)
        draft = _misconduct(db, c_theory, seed.attempts["c_theory"][38], admin, now, signed=False)
        upheld = _appeal(db, seed.attempts["c_theory"][0], admin, now, upheld=True)
        analysis = ItemAnalysis(exam_session_id=c_theory.id, n_candidates=40, n_items=100, forms_differ=True,
                                mean_total=60.0, sd_total=10.0, pass_rate=0.5, totals="[]", created_at=now,
                                review_flags=json.dumps([{"kind": "rapid_guessing"}, {"kind": "fast_and_correct"}]))
        db.add_all([incident, note, finding, analysis])
        db.flush()
        seed.records = {"incident": incident.id, "note": note.id, "finding": finding.id, "void_all": void_all,
                        "draft": draft, "upheld": upheld, "rejected": rejected, "analysis": analysis.id}
        quality.record_agreement(db, b, parse_period("2026"), "张站长", "站长", date(2026, 1, 5), admin, now)
    return seed


def _misconduct(db, session, attempt_id, user, now, signed: bool) -> int:
    row = MisconductRecord(exam_session_id=session.id, attempt_id=attempt_id, tier=MisconductTier.void_all,
                           description="夹带", voids_all=True, created_at=now, created_by_id=user.id,
                           examiner_signed_at=now if signed else None,
                           examiner_signed_by_id=user.id if signed else None)
    db.add(row)
    db.flush()
    return row.id


def _appeal(db, attempt_id, user, now, upheld: bool) -> int:
    report = db.execute(select(ScoreReport).where(ScoreReport.attempt_id == attempt_id)).scalars().first()
    row = Appeal(attempt_id=attempt_id, score_report_id=report.id, filed_by_id=user.id, reason="复核", filed_at=now,
                 decided_at=now, decided_by_id=user.id, upheld=upheld)
    db.add(row)
    db.flush()
    return row.id


@pytest.fixture
def seed(database) -> Seed:
    return seed_march(database)


def _indicators(browser, username: str, period: str = MARCH) -> dict:
    browser.login(username)
    response = browser.get(f"/api/reports/quality?period={period}")
    assert response.status_code == 200, response.data
    return {s["code"]: s for s in response.json["stations"]}


# ------------------------------------------------------------------------------------------ indicators

def test_indicators_per_station(seed, browser):
    found = _indicators(browser, "admin")
    assert set(found) == {"JS-NJ-01", "JS-NJ-02", "JS-SZ-01", "JS-SZ-02"}
    a, b, c = found["JS-NJ-01"], found["JS-SZ-01"], found["JS-NJ-02"]
    # A: 20 candidates in March (the 5 of April 1st 07:00 Beijing are out, though it is still March 31 in UTC)
    assert a["metrics"]["candidates"] == 20
    assert (a["parts"]["theory"]["passed"], a["parts"]["theory"]["graded"]) == (19, 20)
    assert (a["parts"]["overall"]["passed"], a["parts"]["overall"]["graded"]) == (19, 20)
    # the rest of the province, overall: B 10/20 + C 20/40 = 30/60
    assert a["parts"]["overall"]["rest_rate"] == pytest.approx(0.5)
    # z = (0.95 − 0.5) / sqrt(49/80 · 31/80 · (1/20 + 1/60)) = 0.45 / 0.125789 = 3.577
    assert a["parts"]["overall"]["z"] == pytest.approx(3.577, abs=1e-3)
    assert a["parts"]["overall"]["anomalous"] and a["metrics"]["pass_rate_anomaly"]
    assert (a["metrics"]["overrides"], a["metrics"]["overrides_per_100"]) == (3, 15.0)   # the revoked one is out
    assert (a["metrics"]["incidents"], a["metrics"]["annotations"], a["metrics"]["examiner_findings"]) == (1, 1, 1)
    assert (a["metrics"]["sessions"], a["metrics"]["sessions_not_countersigned"]) == (2, 1)
    assert a["evidence"]["sessions_not_countersigned"] == [{"type": "session", "id": seed.sessions["a_practical"]}]
    # B: the superseded pass does not count; 10 of 20 pass; clean
    assert (b["parts"]["theory"]["passed"], b["parts"]["theory"]["graded"]) == (10, 20)
    assert not b["metrics"]["pass_rate_anomaly"] and b["metrics"]["agreement"]
    assert (b["metrics"]["appeals_upheld"], b["metrics"]["misconduct"]) == (0, 0)
    # C: theory only, so the theory part decides the overall outcome: 20/40
    assert (c["parts"]["overall"]["passed"], c["parts"]["overall"]["graded"]) == (20, 40)
    assert (c["metrics"]["misconduct"], c["metrics"]["misconduct_void_all"]) == (1, 1)     # the draft is out
    assert c["evidence"]["misconduct_void_all"] == [{"type": "misconduct", "id": seed.records["void_all"]}]
    assert c["metrics"]["appeals_upheld"] == 1 and c["metrics"]["leak_signals"] == 1
    assert c["evidence"]["leak_signals"][0]["kind"] == "fast_and_correct"
    assert found["JS-SZ-02"]["metrics"]["candidates"] == 0


def test_other_periods(seed, browser):
    april = _indicators(browser, "admin", "2026-04")
    assert april["JS-NJ-01"]["metrics"]["candidates"] == 5
    assert april["JS-NJ-01"]["parts"]["theory"]["rate"] == 0.0
    quarter = _indicators(browser, "admin", "2026-Q1")
    assert quarter["JS-NJ-01"]["metrics"]["candidates"] == 20
    days = _indicators(browser, "admin", "2026-03-12..2026-03-13")
    assert days["JS-SZ-01"]["metrics"]["candidates"] == 20 and days["JS-NJ-01"]["metrics"]["candidates"] == 0


# ------------------------------------------------------------------------------------------ the list

def test_lists_computed_with_evidence_then_published_and_frozen(seed, new_browser, database):
    admin = new_browser()
    admin.login("admin")
    response = admin.post("/reports/quality/lists", {"period": MARCH})
    assert response.status_code == 302
    list_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    with database.session(write=False) as db:
        row = db.get(quality.QualityList, list_id)
        entries = {e.station.code: e for e in row.entries}
        assert {code: e.colour for code, e in entries.items()} == {"JS-NJ-01": "black", "JS-SZ-01": "red",
                                                                  "JS-NJ-02": "black"}
        assert json.loads(entries["JS-NJ-01"].rules) == ["anomaly_with_overrides"]
        assert json.loads(entries["JS-NJ-02"].rules) == ["void_all_misconduct"]
        evidence = json.loads(entries["JS-NJ-01"].evidence)
        assert [e["id"] for e in evidence["overrides_per_100"]] == sorted(
            o.id for o in db.execute(select(ScoreOverride).where(ScoreOverride.revoked_at.is_(None))).scalars())
        assert evidence["pass_rate_anomaly"][0]["part"] in ("theory", "practical", "overall")
        red = json.loads(entries["JS-SZ-01"].evidence)
        assert red["agreement"][0]["type"] == "agreement"
        assert {s["id"] for s in red["sessions"]} == {seed.sessions["b_theory"], seed.sessions["b_practical"]}
        assert row.status == "draft" and len(row.content_sha256) == 64
    page = admin.get(f"/reports/quality/lists/{list_id}")
    assert page.status_code == 200
    html = page.data.decode()
    assert 'data-rule="void_all_misconduct"' in html and f"/sessions/{seed.sessions['b_theory']}/report" in html

    # a station manager does not see a draft
    manager = new_browser()
    manager.login("sz01_manager")
    assert manager.get(f"/reports/quality/lists/{list_id}").status_code == 404

    assert admin.post(f"/reports/quality/lists/{list_id}/publish").status_code == 302
    assert admin.post("/reports/quality/lists", {"period": MARCH}).status_code == 409
    assert admin.post(f"/reports/quality/lists/{list_id}/publish").status_code == 409
    with database.session(write=False) as db:
        actions = [e.action for e in db.execute(select(AuditEvent).where(
            AuditEvent.object_type == "quality_list")).scalars()]
        assert actions == ["quality_list.compute", "quality_list.publish"]
        assert audit.verify(db).ok

    # once published, each station manager reads its own entry, not the others'
    html = manager.get(f"/reports/quality/lists/{list_id}").data.decode()
    assert 'data-station="JS-SZ-01"' in html and 'data-station="JS-NJ-01"' not in html


def test_a_centre_admin_lists_only_its_own_stations_and_may_recompute_a_draft(seed, browser, database):
    browser.login("nj_admin")
    response = browser.post("/reports/quality/lists", {"period": MARCH})
    list_id = int(response.headers["Location"].split("/")[-1])
    again = browser.post("/reports/quality/lists", {"period": MARCH})
    assert int(again.headers["Location"].split("/")[-1]) == list_id          # the same draft, recomputed
    with database.session(write=False) as db:
        codes = {e.station.code for e in db.get(quality.QualityList, list_id).entries}
        computed = db.execute(select(AuditEvent).where(AuditEvent.action == "quality_list.compute")).scalars().all()
    assert codes == {"JS-NJ-01", "JS-NJ-02"} and len(computed) == 2


# ------------------------------------------------------------------------------------------ agreements

def test_agreement_recorded_with_file_and_withdrawn(seed, new_browser, database):
    admin = new_browser()
    admin.login("sz_admin")
    pdf = b"%PDF-1.4 responsibility agreement"
    from io import BytesIO
    response = admin.post("/reports/agreements", {
        "station": str(seed.stations["B"]), "period": "2027", "signer_name": "李所长", "signer_title": "所长",
        "signed_on": "2026-12-20", "file": (BytesIO(pdf), "责任书.pdf", "application/pdf")},
        content_type="multipart/form-data")
    assert response.status_code == 302
    with database.session(write=False) as db:
        row = db.execute(select(quality.ResponsibilityAgreement).where(
            quality.ResponsibilityAgreement.signer_name == "李所长")).scalar_one()
        assert (row.period_start, row.period_end) == (date(2027, 1, 1), date(2027, 12, 31))
        agreement_id = row.id
    # a station outside the admin's subtree, and a bad file type, are refused
    refused = admin.post("/reports/agreements", {"station": str(seed.stations["A"]), "period": "2027",
                                                 "signer_name": "x", "signed_on": "2026-12-20"})
    assert refused.status_code == 403
    bad = admin.post("/reports/agreements", {
        "station": str(seed.stations["B"]), "period": "2027", "signer_name": "x", "signed_on": "2026-12-20",
        "file": (BytesIO(b"MZ"), "a.exe", "application/octet-stream")}, content_type="multipart/form-data")
    assert bad.status_code == 400
    page = admin.get("/reports/agreements")
    assert page.status_code == 200 and "李所长" in page.data.decode()
    own, other = new_browser(), new_browser()
    own.login("sz01_manager")
    other.login("nj01_manager")
    assert own.get(f"/reports/agreements/{agreement_id}/file").data == pdf
    assert other.get(f"/reports/agreements/{agreement_id}/file").status_code == 403
    assert admin.post(f"/reports/agreements/{agreement_id}/withdraw").status_code == 302
    assert admin.post(f"/reports/agreements/{agreement_id}/withdraw").status_code == 409
    with database.session(write=False) as db:
        actions = [e.action for e in db.execute(select(AuditEvent).where(
            AuditEvent.object_type == "responsibility_agreement")).scalars()]
    assert actions == ["agreement.record", "agreement.record", "agreement.withdraw"]   # the seed's, then these


# ------------------------------------------------------------------------------------------ access

def test_a_station_manager_sees_only_its_own_station(seed, browser):
    found = _indicators(browser, "nj01_manager")
    assert set(found) == {"JS-NJ-01"}
    # still compared with the whole province
    assert found["JS-NJ-01"]["parts"]["overall"]["rest_rate"] == pytest.approx(0.5)   # 30 of 60
    page = browser.get(f"/reports/quality?period={MARCH}")
    html = page.data.decode()
    assert page.status_code == 200 and 'data-station="JS-NJ-01"' in html
    assert "JS-SZ-01" not in html and "JS-NJ-02" not in html
    assert browser.get(f"/reports?period={MARCH}&station={seed.stations['B']}").status_code == 404
    assert browser.post("/reports/quality/lists", {"period": MARCH}).status_code == 403


def test_supervisors_read_their_subtree_and_cannot_act(seed, browser):
    found = _indicators(browser, "supervisor_sz")
    assert set(found) == {"JS-SZ-01", "JS-SZ-02"}
    assert browser.get(f"/reports/quality?period={MARCH}").status_code == 200
    assert browser.post("/reports/quality/lists", {"period": MARCH}).status_code == 403
    assert browser.post("/reports/certificates/national-export", {"period": MARCH}).status_code == 403


@pytest.mark.parametrize("username", ["examiner_nj01", "ks001"])
def test_examiners_and_candidates_are_refused(browser, username):
    browser.login(username)
    for path in (f"/reports/quality?period={MARCH}", f"/api/reports/quality?period={MARCH}", "/reports",
                 "/reports/export.csv", "/reports/agreements"):
        assert browser.get(path).status_code == 403, path


def test_anonymous_is_sent_to_log_in_and_bad_periods_are_refused(browser):
    assert browser.get("/reports/quality").status_code == 302
    assert browser.get("/api/reports/quality").status_code == 401
    browser.login("admin")
    response = browser.get("/api/reports/quality?period=2026-13")
    assert response.status_code == 400 and response.json["error"]["code"] == "reports.period_invalid"
