"""The registry of examiners and supervisors: qualifications with what they cover and until when, ended early
with a reason, audited, and managed by centres only."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from exam_server import staffing
from exam_server.accounts import find_user
from exam_server.errors import UserError
from exam_server.models import AuditEvent, QualificationRole, StaffQualification, utcnow
from tests.server.test_scheduling import job_type, org, qualify


def test_validity_is_inclusive_and_an_early_end_counts_from_its_day(database):
    with database.transaction() as db:
        q = qualify(db, "examiner_sz01", valid=(date(2026, 1, 1), date(2026, 12, 31)))
        assert [staffing.is_valid_on(q, d) for d in (date(2025, 12, 31), date(2026, 1, 1), date(2026, 12, 31),
                                                      date(2027, 1, 1))] == [False, True, True, False]
        staffing.expire_qualification(db, q, "年度考核不合格", find_user(db, "admin"),
                                      datetime(2026, 6, 1, 8, tzinfo=timezone.utc))
        assert staffing.is_valid_on(q, date(2026, 5, 31)) and not staffing.is_valid_on(q, date(2026, 6, 1))
        with pytest.raises(UserError) as again:
            staffing.expire_qualification(db, q, "again", find_user(db, "admin"), utcnow())
        assert again.value.key == "staffing.already_expired"
        actions = db.execute(select(AuditEvent.action).where(AuditEvent.object_type == "staff_qualification")
                             ).scalars().all()
        assert actions == ["qualification_added", "qualification_expired"]


def test_a_level_covers_itself_and_every_lower_level(database):
    with database.transaction() as db:
        q = qualify(db, "examiner_sz01", level=3)                      # 三级/高级工
        lathe, mill = job_type(db), job_type(db, "数控铣工")
        assert [staffing.covers(q, lathe.id, level) for level in (2, 3, 4, 5)] == [False, True, True, True]
        assert not staffing.covers(q, mill.id, 4)


@pytest.mark.parametrize("change, key", [
    ({"username": "supervisor_nj"}, "staffing.wrong_account_role"),      # an examiner's certificate, wrong account
    ({"valid": (date(2027, 1, 1), date(2026, 1, 1))}, "staffing.bad_dates"),
    ({"coverage": []}, "staffing.no_coverage"),
    ({"number": " "}, "staffing.bad_number"),
    ({"level": 6}, "staffing.bad_level"),
])
def test_bad_qualifications_are_refused(database, change, key):
    with database.transaction() as db:
        args = {"username": "examiner_sz01", "number": "Q-1", "valid": (date(2026, 1, 1), date(2027, 1, 1)),
                "level": 4}
        args.update(change)
        coverage = change.get("coverage", [staffing.Coverage(job_type(db), args["level"])])
        user = find_user(db, args["username"])
        with pytest.raises(UserError) as refused:
            staffing.add_qualification(db, user, args["number"], QualificationRole.examiner, org(db, "JS-SZ-01"),
                                       *args["valid"], coverage, find_user(db, "admin"), utcnow())
        assert refused.value.key == key


def test_a_certificate_number_is_registered_once(database):
    with database.transaction() as db:
        qualify(db, "examiner_sz01", number="JS-KP-0001")
        with pytest.raises(UserError) as refused:
            qualify(db, "examiner_sz02", number="JS-KP-0001")
        assert (refused.value.key, refused.value.status) == ("staffing.number_exists", 409)


def test_the_centre_registers_and_ends_qualifications_from_its_page(database, new_browser):
    with database.session(write=False) as db:
        lathe_id = job_type(db).id
    station = new_browser()
    station.login("nj01_manager")
    assert station.get("/scheduling/staff").status_code == 403          # centres keep the registry
    centre = new_browser()
    centre.login("sz_admin")
    form = {"username": "examiner_sz01", "number": "SZ-KP-2026-07", "role": "examiner", "home": "JS-SZ-01",
            "valid_from": "2026-01-01", "valid_until": "2029-12-31", f"level-{lathe_id}": "3"}
    assert centre.post("/scheduling/staff", {**form, "username": "examiner_nj01"}).status_code == 404  # not theirs
    assert centre.post("/scheduling/staff", form).status_code == 302
    page = centre.get("/scheduling/staff").get_data(as_text=True)
    assert "SZ-KP-2026-07" in page and "数控车工 ≤ 三级/高级工" in page
    with database.session(write=False) as db:
        q = db.execute(select(StaffQualification)).scalar_one()
        assert (q.user.username, q.home_station.code, q.valid_until) == \
            ("examiner_sz01", "JS-SZ-01", date(2029, 12, 31))
        q_id, user_id = q.id, q.user_id
    other_centre = new_browser()
    other_centre.login("nj_admin")
    assert other_centre.post(f"/scheduling/staff/qualifications/{q_id}/expire", {"reason": "x"}).status_code == 403
    assert centre.post(f"/scheduling/staff/qualifications/{q_id}/expire", {"reason": "调离"}).status_code == 302
    assert "已终止：调离" in centre.get(f"/scheduling/staff/{user_id}").get_data(as_text=True)
