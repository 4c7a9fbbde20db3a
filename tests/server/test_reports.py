"""Reports: counts and pass rates with filters, charts on the page, Excel and CSV exports parsed back, and the
national data-exchange export of certificates with its manifest. Uses the March 2026 province of test_quality."""
from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from datetime import datetime, timezone

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from exam_server.id_numbers import check_character
from exam_server.models import AuditEvent, Certificate, Organisation
from tests.server.test_quality import MARCH, seed_march

# the field list documented in docs/affairs.md, in order
NATIONAL_FIELDS = ["certificate_number", "name", "id_type", "id_number", "occupation_code", "job_type_code",
                   "occupation", "level", "issue_date", "organisation_code", "issuer", "status", "revoked_on",
                   "source"]


@pytest.fixture
def seed(database):
    return seed_march(database)


def _csv(response) -> list[list[str]]:
    assert response.data.startswith(b"\xef\xbb\xbf")          # the BOM, so that Excel reads UTF-8
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


def test_csv_by_station(seed, browser):
    browser.login("admin")
    response = browser.get(f"/reports/export.csv?period={MARCH}&by=station")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = _csv(response)
    assert rows[0][0] == "分组 group"
    a = {r[1]: r for r in rows[1:] if r[0] == "南京技师学院鉴定站 (JS-NJ-01)"}
    # 19 of 20 scored 80, one 40: mean (19·80 + 40)/20 = 78
    assert a["theory"][2:] == ["20", "20", "19", "0.95", "78.0"]
    assert a["practical"][2:] == ["20", "20", "19", "0.95", "78.0"]
    assert a["overall"][2:] == ["20", "20", "19", "0.95", ""]
    c = {r[1]: r for r in rows[1:] if r[0].endswith("(JS-NJ-02)")}
    assert set(c) == {"theory", "overall"} and c["overall"][2:5] == ["40", "40", "20"]


def test_xlsx_has_a_sheet_per_grouping(seed, browser):
    browser.login("admin")
    response = browser.get(f"/reports/export.xlsx?period={MARCH}")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["month", "occupation", "job_type", "level", "station", "part"]
    level = {(r[0], r[1]): r for r in book["level"].iter_rows(min_row=3, values_only=True)}
    # theory: A 20 + B 20 + C 40 = 80 sat, 19 + 10 + 20 = 49 passed; practical: A and B only, 29 of 40
    assert level[("四级/中级工", "theory")][2:5] == (80, 80, 49)
    assert level[("四级/中级工", "practical")][2:5] == (40, 40, 29)
    assert level[("四级/中级工", "overall")][5] == pytest.approx(49 / 80, abs=1e-4)
    months = [r[0] for r in book["month"].iter_rows(min_row=3, values_only=True)]
    assert set(months) == {"2026-03"}


def test_filters_and_charts_on_the_page(seed, browser):
    browser.login("admin")
    page = browser.get(f"/reports?period={MARCH}&by=level").data.decode()
    assert page.count("<svg") == 3 and "四级/中级工" in page
    assert 'id="period-shortcuts"' in page and "by=level" in page.split('id="period-shortcuts"')[1].split("</p>")[0]
    assert "考生 80 人" in page                           # the theory histogram's summary line
    # the trend covers the twelve months up to the period: April's 5 candidates all failed, March has a dot too
    april = browser.get("/reports?period=2026-04").data.decode()
    assert "26-04：0.0%（5 人）" in april and "26-03：" in april and "25-05" in april and "25-04" not in april
    only_b = browser.get(f"/reports/export.csv?period={MARCH}&by=station&station={seed.stations['B']}")
    groups = {r[0] for r in _csv(only_b)[1:]}
    assert groups == {"苏州技师学院鉴定站 (JS-SZ-01)"}
    other_level = _csv(browser.get(f"/reports/export.csv?period={MARCH}&by=station&level=3"))
    assert other_level[1:] == []
    assert browser.get(f"/reports?period={MARCH}&by=colour").status_code == 400


def _certificates(database) -> None:
    def valid_id(first17: str) -> str:
        return first17 + check_character(first17)

    with database.transaction() as db:
        org = {o.code: o for o in db.execute(select(Organisation)).scalars()}
        at = datetime(2026, 3, 20, tzinfo=timezone.utc)
        rows = [
            ("S000132000004260000001", "王伟", valid_id("32010619900101123"), "JS-NJ-01", "2026-03-20", False, None),
            ("1600123456789012", "李芳", valid_id("32050519850505222"), "JS-SZ-01", "2026-03-25", True, None),
            ("S000132000004260000002", "张强", valid_id("32010619920202333"), "JS-NJ-01", "2026-04-02", False, None),
            ("S000132000007260000001", "赵敏", "P1234567", "JS-SZ-02", "2026-03-05", False, at)]
        for i, (number, name, id_number, org_code, issued_on, legacy, revoked) in enumerate(rows):
            db.add(Certificate(number=number, public_id=f"{i:032d}", holder_name=name, id_number=id_number,
                               occupation="车工(数控车工)", level=4, issuer=org[org_code].name, issued_on=issued_on,
                               organisation_id=org[org_code].id, issued_at=at, legacy=legacy, revoked_at=revoked,
                               revoked_reason="错发" if revoked else None))


def _unzip(response) -> dict[str, bytes]:
    assert response.status_code == 200 and response.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.data)) as z:
        return {name: z.read(name) for name in z.namelist()}


def test_national_export_with_manifest(seed, browser, database):
    _certificates(database)
    browser.login("admin")
    files = _unzip(browser.post("/reports/certificates/national-export", {"period": MARCH}))
    assert set(files) == {"certificates.csv", "certificates.json", "manifest.json"}
    manifest = json.loads(files["manifest.json"])
    assert manifest["fields"] == NATIONAL_FIELDS and manifest["count"] == 2      # April and legacy left out
    assert (manifest["from"], manifest["to"]) == ("2026-03-01", "2026-03-31")
    for name in ("certificates.csv", "certificates.json"):
        assert manifest["files"][name]["sha256"] == hashlib.sha256(files[name]).hexdigest()
    rows = list(csv.DictReader(io.StringIO(files["certificates.csv"].decode("utf-8-sig"))))
    assert [r["certificate_number"] for r in rows] == ["S000132000007260000001", "S000132000004260000001"]
    revoked, issued = rows
    assert (issued["id_type"], issued["occupation_code"], issued["organisation_code"], issued["status"]) == (
        "resident_id", "6-18-01-01", "JS-NJ-01", "valid")
    assert (revoked["id_type"], revoked["status"], revoked["revoked_on"]) == ("other", "revoked", "2026-03-20")
    assert json.loads(files["certificates.json"])[1]["name"] == "王伟"
    with_legacy = _unzip(browser.post("/reports/certificates/national-export",
                                      {"period": MARCH, "include_legacy": "1"}))
    assert json.loads(with_legacy["manifest.json"])["count"] == 3
    with database.session(write=False) as db:
        events = db.execute(select(AuditEvent).where(AuditEvent.action == "report.export.national")).scalars().all()
    assert len(events) == 2
    assert json.loads(events[0].data)["sha256"] == hashlib.sha256(files["manifest.json"]).hexdigest()


def test_national_export_is_limited_to_the_admins_subtree(seed, browser, database):
    _certificates(database)
    browser.login("nj_admin")
    files = _unzip(browser.post("/reports/certificates/national-export", {"period": MARCH}))
    assert [r["organisation_code"] for r in json.loads(files["certificates.json"])] == ["JS-NJ-01"]
    browser.login("nj01_manager")
    assert browser.post("/reports/certificates/national-export", {"period": MARCH}).status_code == 403
