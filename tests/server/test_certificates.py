"""Results and certificates: parts combine into results, the centre confirms and issues signed certificates that
the public lookup finds at once, signatures verify and tampering is detected, revocations show, lookups are
limited, legacy imports are all or nothing, and only the right centre may act."""
from __future__ import annotations

import io
import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from exam_server import audit, certificate_commands, certificate_pdf, certificates
from exam_server.accounts import find_user
from exam_server.certificate_lookup import Limit, LookupLimits
from exam_server.certificate_signing import (SignatureError, b64decode, b64encode, canonical, parse_document,
                                             parse_payload, private_key_from_hex, public_key_from_text, sign,
                                             verify)
from exam_server.models import AuditEvent, Certificate, JobType, JobTypeLevel, Result, ResultPart, utcnow
from exam_server.views import certificates as views

CERT_KEY_HEX = "1f" * 32


@pytest.fixture(autouse=True)
def _blueprint_and_key(app, monkeypatch):
    """Until app.py registers the blueprint (the lead's line), the tests register it; a fixed signing key."""
    if "certificates" not in app.blueprints:
        app.register_blueprint(views.bp)
    monkeypatch.setenv("EXAM_CERT_KEY", CERT_KEY_HEX)
    monkeypatch.delenv("EXAM_CERT_LETTER", raising=False)
    monkeypatch.delenv("EXAM_CERT_ORG_CODE", raising=False)
    monkeypatch.delenv("EXAM_CERT_PROVINCE", raising=False)


def _level(db, job_type_name: str = "数控车工", level: int = 4) -> JobTypeLevel:
    job_type = db.execute(select(JobType).where(JobType.name == job_type_name)).scalar_one()
    found = next((jtl for jtl in job_type.levels if jtl.level == level), None)
    if found is None:
        found = JobTypeLevel(job_type=job_type, level=level)
        db.add(found)
        db.flush()
    return found


def _passed_result(database, username: str = "ks001", now=None) -> int:
    now = now or utcnow()
    with database.transaction() as db:
        candidate, jtl = find_user(db, username), _level(db)
        certificates.record_part_score(db, candidate, jtl, "theory", 81.5, "test", now)
        result = certificates.record_part_score(db, candidate, jtl, "practical", 74, "test", now)
        return result.id


# ------------------------------------------------------------------------------------------ results

def test_parts_combine_and_a_resit_covers_only_the_failed_part(database):
    now = utcnow()
    with database.transaction() as db:
        candidate, jtl = find_user(db, "ks001"), _level(db)
        certificates.record_part_score(db, candidate, jtl, "theory", 59.9, "test", now)
        result = certificates.record_part_score(db, candidate, jtl, "practical", 72, "test", now)
        assert result.passed_at is None                       # 59.9 < 60
        assert certificates.parts_to_resit(db, result, now) == [ResultPart.theory]
        later = now + timedelta(days=60)
        result = certificates.record_part_score(db, candidate, jtl, "theory", 60, "resit", later)
        assert result.passed_at == later                      # exactly 60 passes; the practical pass was kept
        assert result.practical.score_tenths == 720 and result.theory.score_tenths == 600
        assert certificates.parts_to_resit(db, result, later) == []


def test_a_passed_part_is_kept_only_for_the_retention_period(database):
    now = utcnow()
    with database.transaction() as db:
        candidate, jtl = find_user(db, "ks002"), _level(db)
        certificates.record_part_score(db, candidate, jtl, "theory", 90, "test", now, retention=timedelta(days=30))
        later = now + timedelta(days=31)                      # the theory pass ran out a day ago
        result = certificates.record_part_score(db, candidate, jtl, "practical", 88, "test", later)
        assert result.passed_at is None
        assert certificates.parts_to_resit(db, result, later) == [ResultPart.theory]


def test_technicians_also_need_the_comprehensive_review(database):
    now = utcnow()
    with database.transaction() as db:
        candidate, jtl = find_user(db, "ks003"), _level(db, level=2)     # 二级/技师
        certificates.record_part_score(db, candidate, jtl, "theory", 75, "test", now)
        result = certificates.record_part_score(db, candidate, jtl, "practical", 80, "test", now)
        assert result.passed_at is None
        assert certificates.parts_to_resit(db, result, now) == [ResultPart.review]
        result = certificates.record_part_score(db, candidate, jtl, "review", 66, "test", now)
        assert result.passed_at == now


def test_scores_are_checked_and_rounded_to_tenths():
    assert certificates.to_tenths("72.25") == 723          # 722.5 tenths, half up
    assert certificates.to_tenths(100) == 1000
    for bad in (-1, 100.1, "abc"):
        with pytest.raises(certificates.UserError):
            certificates.to_tenths(bad)


def test_a_confirmed_result_no_longer_changes_and_an_incomplete_one_cannot_be_confirmed(database):
    now = utcnow()
    with database.transaction() as db:
        candidate, jtl, admin = find_user(db, "ks004"), _level(db), find_user(db, "nj_admin")
        result = certificates.record_part_score(db, candidate, jtl, "theory", 70, "test", now)
        with pytest.raises(certificates.UserError, match="result_incomplete"):
            certificates.confirm(db, result, admin, now)
        certificates.record_part_score(db, candidate, jtl, "practical", 70, "test", now)
        certificates.confirm(db, result, admin, now)
        with pytest.raises(certificates.UserError, match="result_confirmed"):
            certificates.record_part_score(db, candidate, jtl, "practical", 95, "appeal", now)


# ------------------------------------------------------------------------------------------ issuing and lookup

def _issue_in_browser(browser, result_id: int):
    browser.login("nj_admin")
    assert browser.post(f"/certificates/results/{result_id}/confirm").status_code == 302
    assert browser.post(f"/certificates/results/{result_id}/issue").status_code == 302


def _certificate(database, result_id: int) -> Certificate:
    with database.session(write=False) as db:
        cert = db.execute(select(Certificate).where(Certificate.result_id == result_id)).scalar_one()
        db.expunge(cert)
        return cert


def test_issued_certificate_is_numbered_signed_and_found_by_the_public_lookup_at_once(database, browser,
                                                                                        new_browser):
    result_id = _passed_result(database)
    _issue_in_browser(browser, result_id)
    cert = _certificate(database, result_id)
    with database.session(write=False) as db:
        station = find_user(db, "ks001").organisation
        full_id = find_user(db, "ks001").id_number
        name = find_user(db, "ks001").display_name
    year = (utcnow() + timedelta(hours=8)).year % 100     # issued on the Beijing date
    # S + organisation 0001 + province 32 + site (station id, 6 digits) + year + level 4 + serial 000001
    assert cert.number == f"S000132{station.id:06d}{year:02d}4000001" and len(cert.number) == 22
    assert cert.issuer == station.name and cert.occupation == "车工(数控车工)"

    public = new_browser()                                   # nobody signed in
    page = public.get(f"/certificates/lookup?number={cert.number}&name={name}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and cert.number in text
    assert full_id not in text and f"{full_id[:4]}**********{full_id[-4:]}" in text
    found = public.get(f"/api/certificates/lookup?name={name}&id_number={full_id}").json["certificates"]
    assert [c["number"] for c in found] == [cert.number] and found[0]["revoked"] is False
    wrong = public.get(f"/api/certificates/lookup?number={cert.number}&name=张三").json["certificates"]
    assert wrong == []                                      # the number alone reveals nothing


def test_the_signature_verifies_and_a_tampered_record_or_payload_fails(database, browser, new_browser, tmp_path):
    result_id = _passed_result(database)
    _issue_in_browser(browser, result_id)
    cert = _certificate(database, result_id)
    public = new_browser()
    keys = public.get("/api/certificate-keys").json
    public_keys = {k["key_id"]: public_key_from_text(k["public_key"]) for k in keys["keys"]}
    document = public.get(f"/api/certificates/{cert.public_id}").json
    record = verify(parse_document(document), public_keys)
    assert record["number"] == cert.number and record["level"] == 4 and record["theory"] == "81.5"

    forged = parse_document({**document, "record": {**document["record"], "name": "李四"}})
    with pytest.raises(SignatureError):
        verify(forged, public_keys)

    pdf = browser.get(f"/certificates/{cert.id}/pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    payload = certificate_pdf.payload_from_pdf(pdf.data)
    assert payload.startswith(f"http://127.0.0.1:5000/v/{cert.public_id}#")
    assert verify(parse_payload(payload), public_keys)["number"] == cert.number
    head, sep, fragment = payload.partition("#")
    body, key, signature = fragment.split(".")
    tampered = json.loads(b64decode(body))
    tampered["level"] = 1                                    # promote oneself to 高级技师
    bad_payload = f"{head}#{b64encode(canonical(tampered))}.{key}.{signature}"

    keys_file = tmp_path / "keys.json"
    keys_file.write_text(json.dumps(keys))
    pdf_file = tmp_path / "cert.pdf"
    pdf_file.write_bytes(pdf.data)
    assert _cli(["--qr", payload, "--keys", str(keys_file)]) == (0, cert.number)
    assert _cli([str(pdf_file), "--keys", str(keys_file)])[0] == 0
    assert _cli(["--qr", bad_payload, "--keys", str(keys_file)])[0] == 1
    other_key = b64encode(b"\x01" * 32)
    assert _cli(["--qr", payload, "--public-key", other_key])[0] == 1   # not the platform's key


def _cli(argv: list[str]) -> tuple[int, str]:
    import argparse

    parser = argparse.ArgumentParser()
    certificate_commands.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["cert", "verify", *argv])
    out, err = io.StringIO(), io.StringIO()
    status = args.handler(args, out, err)
    match = re.search(r"VALID: (\S+)", out.getvalue())
    return status, match.group(1) if match and status == 0 else out.getvalue() + err.getvalue()


def test_revocation_shows_on_the_public_page_and_in_json(database, browser, new_browser):
    result_id = _passed_result(database)
    _issue_in_browser(browser, result_id)
    cert = _certificate(database, result_id)
    assert browser.post(f"/certificates/{cert.id}/revoke", {"reason": ""}).status_code == 400
    assert browser.post(f"/certificates/{cert.id}/revoke", {"reason": "冒名顶替"}).status_code == 302
    public = new_browser()
    status = public.get(f"/api/certificates/{cert.public_id}").json["status"]
    assert status["revoked"] is True and status["revoked_reason"] == "冒名顶替"
    page = public.get(f"/v/{cert.public_id}").get_data(as_text=True)
    assert "已于" in page and "冒名顶替" in page
    with database.session(write=False) as db:
        actions = db.execute(select(AuditEvent.action).order_by(AuditEvent.seq)).scalars().all()
        assert actions[-3:] == ["result.confirm", "certificate.issue", "certificate.revoke"]
        assert audit.verify(db).ok


def test_lookups_are_limited_per_target_per_address_and_by_misses(app, database, new_browser):
    app.config["CERT_LOOKUP_LIMITS"] = LookupLimits(Limit("address", 6, 60), Limit("target", 3, 3600),
                                                    Limit("miss", 4, 3600))
    result_id = _passed_result(database)
    with database.transaction() as db:
        admin = find_user(db, "nj_admin")
        result = db.get(Result, result_id)
        certificates.confirm(db, result, admin, utcnow())
        cert = certificates.issue(db, result, admin, utcnow(), private_key_from_hex(CERT_KEY_HEX))
        number, name = cert.number, cert.holder_name

    guesser = new_browser()
    guesser.client.environ_base["REMOTE_ADDR"] = "10.0.0.1"
    for guess in ("王一", "王二", "王三"):                   # three names tried against one number: allowed
        assert guesser.get(f"/api/certificates/lookup?number={number}&name={guess}").status_code == 200
    other = new_browser()                                    # the target limit holds across addresses
    other.client.environ_base["REMOTE_ADDR"] = "10.0.0.2"
    refused = other.get(f"/api/certificates/lookup?number={number}&name={name}")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "查询过于频繁" in refused.json["error"]["message"]

    page = other.get(f"/certificates/lookup?number={number}&name={name}")
    assert page.status_code == 429 and "查询过于频繁" in page.get_data(as_text=True)

    walker = new_browser()                                   # walking numbers: misses run out first
    walker.client.environ_base["REMOTE_ADDR"] = "10.0.0.3"
    codes = [walker.get(f"/api/certificates/lookup?number=S00013200000126400000{i}&name=王五").status_code
             for i in range(2, 7)]
    assert codes == [200, 200, 200, 200, 429]               # 4 misses allowed, the 5th lookup refused

    busy = new_browser()                                     # one address, different targets: 6 a minute
    busy.client.environ_base["REMOTE_ADDR"] = "10.0.0.4"
    codes = [busy.get(f"/api/certificates/lookup?number={number}{i}&name=x").status_code for i in range(7)]
    assert codes[:4] == [200] * 4 and codes[-1] == 429


def test_lookup_needs_two_factors(new_browser):
    public = new_browser()
    assert public.get("/api/certificates/lookup?number=S0001").status_code == 400
    assert public.get("/api/certificates/lookup?name=王").status_code == 400


# ------------------------------------------------------------------------------------------ legacy import

HEADER = "证书编号,姓名,证件号码,职业(工种),等级,发证日期,发证机构\n"


def _csv(rows: list[str]) -> bytes:
    return (HEADER + "\n".join(rows) + "\n").encode("utf-8")


def _valid_ids() -> list[str]:
    from exam_server.demo import id_check_character
    # Three 17-digit stems with their GB 11643 check characters (worked by hand for the first one in
    # test_id_check_character_by_hand).
    stems = ("11010519491231002", "32010619850715001", "44030419920228631")
    return [s + id_check_character(s) for s in stems]


def test_id_check_character_by_hand():
    from exam_server.demo import is_valid_id_number
    # The GB 11643-1999 standard's own example: 11010519491231002X.
    # 1*7+1*9+0*10+1*5+0*8+5*4+1*2+9*1+4*6+9*3+1*7+2*9+3*10+1*5+0*8+0*4+2*2 = 167; 167 mod 11 = 2 → "X"
    assert is_valid_id_number("11010519491231002X") and not is_valid_id_number("110105194912310021")


def test_legacy_import_is_all_or_nothing_with_row_and_column_errors(browser, database):
    ids = _valid_ids()
    bad = _csv([f"1232010100012345,赵一,{ids[0]},车工,四级/中级工,2008-05-01,江苏省职业技能鉴定中心",
                f"1232010100012346,钱二,{ids[1][:-1]}0,车工,4,2009-06-01,江苏省职业技能鉴定中心",   # checksum
                f"S000132000101124000001,孙三,{ids[2]},数控车工,七级,2012-07-01,南京技师学院",      # level
                f"1232010100012345,赵一,{ids[0]},车工,四级/中级工,2008-05-01,江苏省职业技能鉴定中心"])  # dup
    browser.login("admin")
    response = browser.post("/certificates/import", {"file": (io.BytesIO(bad), "old.csv")},
                            content_type="multipart/form-data")
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert re.search(r"<td>3</td><td>证件号码</td>", text) and re.search(r"<td>4</td><td>等级</td>", text)
    with database.session(write=False) as db:
        assert db.execute(select(func.count()).select_from(Certificate)).scalar_one() == 0   # nothing stored
        assert db.execute(select(AuditEvent.action).order_by(AuditEvent.seq.desc())).scalars().first() \
            == "certificate.import"

    good = _csv([f"1232010100012345,赵一,{ids[0]},车工,四级/中级工,2008-05-01,江苏省职业技能鉴定中心",
                 f"1232010100012346,钱二,{ids[1]},车工,4,2009/6/1,江苏省职业技能鉴定中心",
                 f"S000132000101124000001,孙三,{ids[2]},数控车工,三级,2012-07-01,南京技师学院",
                 f"1232010100012345,赵一,{ids[0]},车工,四级/中级工,2008-05-01,江苏省职业技能鉴定中心"])
    response = browser.post("/certificates/import", {"file": (io.BytesIO(good), "old.csv")},
                            content_type="multipart/form-data")
    assert response.status_code == 200 and "导入 3 条" in response.get_data(as_text=True)
    again = browser.post("/certificates/import", {"file": (io.BytesIO(good), "old.csv")},
                         content_type="multipart/form-data")
    assert "导入 0 条，跳过重复 4 条" in again.get_data(as_text=True)
    found = browser.get(f"/api/certificates/lookup?name=钱二&id_number={ids[1]}").json["certificates"]
    assert found[0]["legacy"] is True and found[0]["issued_on"] == "2009-06-01" and found[0]["signed"] is False


def test_legacy_import_reads_excel_and_refuses_a_changed_record(database):
    from openpyxl import Workbook

    ids = _valid_ids()
    book = Workbook()
    sheet = book.active
    sheet.append(["number", "name", "id_number", "occupation", "level", "issued_on", "issuer"])
    sheet.append(["1232010100019999", "周六", ids[0], "铣工", 5, "2015-01-02", "苏州技师学院"])
    buffer = io.BytesIO()
    book.save(buffer)
    from exam_server.certificate_import import import_legacy
    from exam_server.models import Organisation
    with database.transaction() as db:
        province = db.execute(select(Organisation).where(Organisation.code == "JS")).scalar_one()
        report = import_legacy(db, "old.xlsx", buffer.getvalue(), None, province, utcnow())
        assert report.ok and report.imported == 1
        changed = _csv([f"1232010100019999,周七,{ids[0]},铣工,5,2015-01-02,苏州技师学院"])
        report = import_legacy(db, "changed.csv", changed, None, province, utcnow())
        assert [(e.row, e.key) for e in report.errors] == [(2, "certificates.import_conflict_stored")]


# ------------------------------------------------------------------------------------------ access

def test_a_candidate_or_another_centres_admin_cannot_confirm_or_issue(database, new_browser):
    result_id = _passed_result(database)                     # ks001 sits at a Nanjing station
    candidate = new_browser()
    candidate.login("ks001")
    assert candidate.post(f"/certificates/results/{result_id}/confirm").status_code == 403
    suzhou = new_browser()
    suzhou.login("sz_admin")
    assert suzhou.post(f"/certificates/results/{result_id}/confirm").status_code == 403
    nanjing = new_browser()
    nanjing.login("nj_admin")
    nanjing.post(f"/certificates/results/{result_id}/confirm")
    assert suzhou.post(f"/certificates/results/{result_id}/issue").status_code == 403
    assert candidate.post(f"/certificates/results/{result_id}/issue").status_code == 403
    assert suzhou.post("/certificates/results/999999/issue").status_code == 404
    assert new_browser().get("/certificates/centre").status_code == 302          # to the login page
    assert nanjing.post(f"/certificates/results/{result_id}/issue").status_code == 302
    cert = _certificate(database, result_id)
    assert suzhou.post(f"/certificates/{cert.id}/revoke", {"reason": "x"}).status_code == 403
    assert suzhou.get(f"/certificates/{cert.id}/pdf").status_code == 403
    assert cert.number in nanjing.get("/certificates/centre").get_data(as_text=True)
    assert cert.number not in suzhou.get("/certificates/centre").get_data(as_text=True)


def test_no_cjk_font_refuses_the_pdf_with_a_clear_message(database, browser, monkeypatch):
    result_id = _passed_result(database)
    _issue_in_browser(browser, result_id)
    cert = _certificate(database, result_id)
    monkeypatch.setattr(certificate_pdf, "cjk_font", lambda: None)
    response = browser.get(f"/certificates/{cert.id}/pdf")
    assert response.status_code == 503 and "fonts-noto-cjk" in response.get_data(as_text=True)


# ------------------------------------------------------------------------------------------ canonical JSON

def test_canonical_json_follows_rfc_8785():
    # Keys sort by UTF-16 code units: U+1F600 is the surrogate pair D83D DE00, which sorts before U+FB01,
    # although its code point is larger; no whitespace; non-ASCII stays literal.
    value = {"\ufb01": 1, "\U0001F600": 2, "a": "é", "b": [True, None, 10]}
    assert canonical(value).decode() == '{"a":"é","b":[true,null,10],"\U0001F600":2,"\ufb01":1}'
    with pytest.raises(ValueError):
        canonical({"x": 0.5})


def test_signing_round_trip_with_a_fixed_key():
    key = private_key_from_hex(CERT_KEY_HEX)
    signed = sign({"number": "S1", "name": "王伟"}, key)
    assert len(b64decode(signed.signature)) == 64           # an Ed25519 signature
    assert verify(signed, {signed.key_id: key.public_key()}) == {"number": "S1", "name": "王伟"}


def test_examctl_cert_import_reports_and_refuses_a_bad_file(database_url, database, monkeypatch, tmp_path):
    import argparse

    monkeypatch.setenv("EXAM_DATABASE_URL", database_url)
    monkeypatch.setenv("EXAM_DEFAULT_LOCALE", "en")
    ids = _valid_ids()
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_bytes(_csv([f"1232010100017777,吴八,{ids[2]},钳工,2,2020-12-31,江苏省职业技能鉴定中心"]))
    bad.write_bytes(_csv([f"1232010100018888,郑九,{ids[2]},钳工,2,2020-02-30,江苏省职业技能鉴定中心"]))  # no Feb 30

    def run(path) -> tuple[int, str]:
        parser = argparse.ArgumentParser()
        certificate_commands.register(parser.add_subparsers(dest="command"))
        args = parser.parse_args(["cert", "import", str(path)])
        out = io.StringIO()
        return args.handler(args, out, io.StringIO()), out.getvalue()

    status, text = run(bad)
    assert status == 1 and "nothing was imported" in text and "2\t发证日期" in text
    status, text = run(good)
    assert status == 0 and "1 imported" in text
    with database.session(write=False) as db:
        cert = db.execute(select(Certificate).where(Certificate.number == "1232010100017777")).scalar_one()
        assert cert.legacy and cert.level == 2 and cert.issued_by_id is None
