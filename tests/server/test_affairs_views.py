"""Exam affairs pages: who may see and do what, CSRF, the plan form, registering with a photo, the Excel import's
errors by cell in the user's language, and review."""
from __future__ import annotations

import io
from datetime import timedelta

from sqlalchemy import func, select

from exam_server import photos, plans
from exam_server.models import AuditEvent, ExamPlan, Registration, utcnow

from .test_affairs import FEMALE, MALE, MALE2, lathe, org, person, published_plan, row, workbook


def make_plan(database, **kwargs) -> int:
    with database.transaction() as db:
        return published_plan(db, utcnow(), **kwargs).id


def station_id(database, code="JS-NJ-01") -> int:
    with database.transaction() as db:
        return org(db, code).id


def register(browser, plan_id, site_id, photo=None, **changes):
    data = {**person(**changes), "csrf_token": browser.csrf()}
    if photo is not None:
        data["photo"] = (io.BytesIO(photo), "photo.png")
    return browser.client.post(f"/affairs/plans/{plan_id}/stations/{site_id}/register", data=data,
                               content_type="multipart/form-data")


def registration_ids(database) -> list[int]:
    with database.transaction() as db:
        return list(db.execute(select(Registration.id).order_by(Registration.id)).scalars())


def test_the_province_creates_and_publishes_a_plan_through_the_form(browser, database):
    today = plans.local_today(utcnow())
    with database.transaction() as db:
        job_level, nj01, sz01 = f"{lathe(db).id}:4", org(db, "JS-NJ-01").id, org(db, "JS-SZ-01").id
    browser.login("admin")
    form = {"code": "JS-2026-12", "name": "数控车工四级第十二期", "job_level": job_level,
            "registration_opens_on": str(today), "registration_closes_on": str(today + timedelta(days=7)),
            "exam_from": str(today + timedelta(days=14)), "exam_to": str(today + timedelta(days=15)),
            "theory_fee": "80.00", "practical_fee": "220.5", f"capacity_{nj01}": "40", f"capacity_{sz01}": ""}
    bad = browser.post("/affairs/plans", {**form, "exam_from": str(today - timedelta(days=1))})
    assert bad.status_code == 400 and "考试开始" in bad.get_data(as_text=True)
    created = browser.post("/affairs/plans", form)
    assert created.status_code == 302
    with database.transaction() as db:
        plan = db.execute(select(ExamPlan).where(ExamPlan.code == "JS-2026-12")).scalar_one()
        assert (plan.theory_fee_fen, plan.practical_fee_fen) == (8000, 22050)
        assert [(s.station_id, s.capacity) for s in plan.stations] == [(nj01, 40)]
        plan_id = plan.id
    page = browser.get(f"/affairs/plans/{plan_id}").get_data(as_text=True)
    assert 'id="publish"' in page and "草稿" in page
    assert browser.post(f"/affairs/plans/{plan_id}/publish").status_code == 302
    assert browser.post(f"/affairs/plans/{plan_id}/publish").status_code == 409      # frozen once published
    assert "JS-2026-12" in browser.get("/affairs/plans").get_data(as_text=True)


def test_a_station_registers_and_only_its_own_people_and_the_centre_see_it(new_browser, database):
    plan_id, nj01 = make_plan(database), station_id(database)
    station = new_browser()
    station.login("nj01_manager")
    png = photos.placeholder_png(7)
    assert register(station, plan_id, nj01, photo=png).status_code == 302
    (reg_id,) = registration_ids(database)
    detail = station.get(f"/affairs/registrations/{reg_id}").get_data(as_text=True)
    assert "王伟" in detail and "待审核" in detail
    assert station.get(f"/affairs/registrations/{reg_id}/photo").data == png
    for username, status in (("nj02_manager", 403), ("sz_admin", 403), ("sz01_manager", 403), ("ks001", 403),
                             ("nj_admin", 200), ("admin", 200)):
        other = new_browser()
        other.login(username)
        assert other.get(f"/affairs/registrations/{reg_id}").status_code == status, username
    other_station = new_browser()
    other_station.login("nj02_manager")
    listing = other_station.get(f"/affairs/plans/{plan_id}")
    assert listing.status_code == 404                      # NJ-02 does not take part in the plan
    sz = new_browser()
    sz.login("sz01_manager")
    assert "王伟" not in sz.get(f"/affairs/plans/{plan_id}").get_data(as_text=True)
    assert register(sz, plan_id, nj01).status_code == 403  # another station's places
    assert station.get(f"/affairs/registrations/{reg_id + 99}").status_code == 404


def test_candidates_are_refused_and_forms_need_the_csrf_token(new_browser, database):
    plan_id, nj01 = make_plan(database), station_id(database)
    candidate = new_browser()
    candidate.login("ks001")
    assert candidate.get("/affairs/plans").status_code == 403
    assert candidate.get(f"/affairs/plans/{plan_id}").status_code == 403
    assert register(candidate, plan_id, nj01).status_code == 403
    station = new_browser()
    station.login("nj01_manager")
    forged = station.client.post(f"/affairs/plans/{plan_id}/stations/{nj01}/register", data=person())
    assert forged.status_code == 403 and registration_ids(database) == []


def test_a_bad_form_is_shown_again_with_its_problems(browser, database):
    plan_id, nj01 = make_plan(database), station_id(database)
    browser.login("nj01_manager")
    response = register(browser, plan_id, nj01, id_number="320106199003071235", sex="F")
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "证件号码：身份证号码校验位不正确。" in page
    assert 'value="320106199003071235"' in page and registration_ids(database) == []


def upload(browser, plan_id, site_id, data: bytes):
    return browser.client.post(f"/affairs/plans/{plan_id}/stations/{site_id}/import",
                               content_type="multipart/form-data",
                               data={"csrf_token": browser.csrf(), "file": (io.BytesIO(data), "报名.xlsx")})


def test_an_import_reports_cells_in_the_users_language_and_stores_nothing(browser, database):
    plan_id, nj01 = make_plan(database), station_id(database)
    browser.login("nj01_manager")
    template = browser.get("/affairs/registration-template.xlsx")
    assert template.status_code == 200 and template.data[:2] == b"PK"
    data = workbook([row(MALE), row("320106199003071235"), row(FEMALE, sex="男")])
    rejected = upload(browser, plan_id, nj01, data)
    page = rejected.get_data(as_text=True)
    assert rejected.status_code == 422
    assert "B3 单元格：身份证号码校验位不正确。" in page and "D4 单元格：性别与身份证号码不一致。" in page
    browser.post("/language", {"locale": "en", "next": "/"})
    english = upload(browser, plan_id, nj01, data).get_data(as_text=True)
    assert "Cell B3: The ID number&#39;s check character is wrong." in english
    assert registration_ids(database) == []
    assert upload(browser, plan_id, nj01, workbook([row(MALE), row(FEMALE)])).status_code == 302
    assert len(registration_ids(database)) == 2


def test_the_centre_reviews_bulk_approves_and_records_fees(new_browser, database):
    plan_id, nj01 = make_plan(database), station_id(database)
    station, centre = new_browser(), new_browser()
    station.login("nj01_manager")
    centre.login("nj_admin")
    for number in (MALE, FEMALE, MALE2):
        assert register(station, plan_id, nj01, id_number=number, sex="").status_code == 302
    first, second, third = registration_ids(database)
    assert station.post(f"/affairs/registrations/{first}/review", {"decision": "approve"}).status_code == 403
    rejected = centre.post(f"/affairs/registrations/{third}/review", {"decision": "reject", "reason": "照片不清晰"})
    assert rejected.status_code == 302
    assert "审核未通过：照片不清晰" in station.get(f"/affairs/plans/{plan_id}").get_data(as_text=True)
    bulk = centre.post(f"/affairs/plans/{plan_id}/approve", {"registration": [str(first), str(second)]})
    assert bulk.status_code == 302
    assert centre.post(f"/affairs/plans/{plan_id}/approve", {"registration": [str(third)]}).status_code == 409
    assert centre.post(f"/affairs/registrations/{first}/fee").status_code == 302
    resubmitted = station.client.post(f"/affairs/registrations/{third}/correct", content_type="multipart/form-data",
                                      data={**person(MALE2), "csrf_token": station.csrf(),
                                            "photo": (io.BytesIO(photos.placeholder_png(3)), "new.png")})
    assert resubmitted.status_code == 302
    with database.transaction() as db:
        states = {r.id: (r.approved, r.fee_paid_at is not None) for r in db.execute(select(Registration)).scalars()}
        assert states == {first: (True, True), second: (True, False), third: (None, False)}
        actions = db.execute(select(AuditEvent.action, func.count()).where(AuditEvent.action.like("registration.%"))
                             .group_by(AuditEvent.action)).all()
        assert dict(actions) == {"registration.create": 3, "registration.reject": 1, "registration.approve": 2,
                                 "registration.fee_paid": 1, "registration.resubmit": 1}
    other_centre = new_browser()
    other_centre.login("sz_admin")
    assert other_centre.post(f"/affairs/plans/{plan_id}/approve", {"registration": [str(third)]}).status_code == 404


def test_the_forms_render_in_both_languages(browser, database):
    plan_id, nj01 = make_plan(database), station_id(database)
    browser.login("nj_admin")                  # a centre admin over the station may register too
    for locale, word in (("zh_CN", "证件号码"), ("en", "ID number")):
        browser.post("/language", {"locale": locale, "next": "/"})
        for path in (f"/affairs/plans/{plan_id}/stations/{nj01}/register",
                     f"/affairs/plans/{plan_id}/stations/{nj01}/import"):
            page = browser.get(path)
            assert page.status_code == 200 and 'name="csrf_token"' in page.get_data(as_text=True)
        assert word in browser.get(f"/affairs/plans/{plan_id}/stations/{nj01}/register").get_data(as_text=True)
    assert browser.get("/affairs/plans/new").status_code == 403      # a city centre publishes no plans
    admin = browser
    admin.login("admin")
    assert 'id="plan-form"' in admin.get("/affairs/plans/new").get_data(as_text=True)
