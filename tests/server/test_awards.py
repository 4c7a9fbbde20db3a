"""Competition award certificates: numbered and signed like skill certificates, verifiable offline (a one-byte
change refused), found by the public lookup (number + name, IDs masked, misses limited), revocable with a
reason, and issued only by the competition's chief examiner or its organisers."""
from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from exam_server import audit, certificate_commands, certificate_pdf, competitions
from exam_server.accounts import find_user
from exam_server.certificate_lookup import Limit, LookupLimits
from exam_server.certificate_signing import (SignatureError, SignedRecord, b64encode, canonical, parse_document,
                                             parse_payload, public_key_from_text, verify)
from exam_server.models import AuditEvent, CompetitionAward, Organisation, utcnow
from exam_server.views import certificates as views

ROUNDS = [{"key": "theory", "name": "理论", "part": "theory", "weight_percent": 30},
          {"key": "turning", "name": "数控车实操", "part": "practical", "weight_percent": 70}]
CONTESTANTS = (("N01", "ks001", 0, "90"), ("N02", "ks002", 0, "80"), ("S01", "ks003", 1, "70"))


@pytest.fixture(autouse=True)
def _blueprint_and_key(app, monkeypatch):
    if "certificates" not in app.blueprints:
        app.register_blueprint(views.bp)
    monkeypatch.setenv("EXAM_CERT_KEY", "2e" * 32)


def awarded(database) -> tuple[int, dict]:
    """Three contestants (one member each) scored 90, 80 and 70 in the practical round, the competition over
    (no freeze) and gold, silver and bronze awarded by count. Returns the id and {medal: (entry name, ID)}."""
    now = utcnow()
    with database.transaction() as db:
        nanjing = db.execute(select(Organisation).where(Organisation.code == "JS-NJ")).scalar_one()
        admin = find_user(db, "nj_admin")
        competition = competitions.create_competition(
            db, nanjing, "2026年南京市数控车工技能竞赛", starts_at=now + timedelta(minutes=1),
            ends_at=now + timedelta(hours=1), freeze_minutes=0, rounds=ROUNDS,
            chief_examiner=find_user(db, "examiner_nj01"), actor=admin, now=now)
        delegations = [competitions.add_delegation(db, competition, name, colour, admin, now)
                       for name, colour in (("南京代表队", "#e63946"), ("苏州代表队", "#457b9d"))]
        people = {}
        for (bib, username, delegation, practical), medal in zip(CONTESTANTS, ("gold", "silver", "bronze")):
            user = find_user(db, username)
            entry = competitions.register_entry(db, delegations[delegation], bib, user.display_name, admin, now,
                                                (user,))
            competitions.record_score(db, entry, "turning", practical, "0", now, "grading")
            people[medal] = (user.display_name, user.id_number)
        competition.starts_at, competition.ends_at = now - timedelta(hours=2), now - timedelta(minutes=1)
        competitions.award(db, competition, admin, now, counts=(1, 1, 1))
        return competition.id, people


def award_rows(database, competition_id) -> list[CompetitionAward]:
    with database.session(write=False) as db:
        rows = db.execute(select(CompetitionAward).where(CompetitionAward.competition_id == competition_id)
                          .order_by(CompetitionAward.rank)).scalars().all()
        for row in rows:
            db.expunge(row)
        return rows


def issue_as_chief(new_browser, competition_id):
    chief = new_browser()
    chief.login("examiner_nj01")
    response = chief.post(f"/competitions/{competition_id}/award-certificates")
    assert response.status_code == 302, response.get_data(as_text=True)
    return chief


def cli(argv: list[str]) -> tuple[int, str]:
    import argparse

    parser = argparse.ArgumentParser()
    certificate_commands.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["cert", "verify", *argv])
    out, err = io.StringIO(), io.StringIO()
    return args.handler(args, out, err), out.getvalue() + err.getvalue()


def test_award_certificates_are_numbered_signed_and_a_changed_byte_is_refused(database, new_browser, tmp_path):
    competition_id, people = awarded(database)
    chief = issue_as_chief(new_browser, competition_id)
    gold, silver, bronze = award_rows(database, competition_id)
    year = (utcnow() + timedelta(hours=8)).year          # issued on the Beijing date
    # C + year + competition id (6 digits) + serial in rank order
    assert [a.number for a in (gold, silver, bronze)] == [f"C{year}{competition_id:06d}{n:03d}" for n in (1, 2, 3)]
    assert chief.post(f"/competitions/{competition_id}/award-certificates").status_code == 409   # all issued

    public = new_browser()
    keys = public.get("/api/certificate-keys").json
    public_keys = {k["key_id"]: public_key_from_text(k["public_key"]) for k in keys["keys"]}
    document = public.get(f"/api/certificates/{gold.certificate_ref}").json
    record = verify(parse_document(document), public_keys)
    assert (record["type"], record["medal"], record["rank"], record["name"], record["delegation"]) == \
        ("技能竞赛获奖证书", "gold", 1, people["gold"][0], "南京代表队")
    assert record["total"] == "63"                          # 0.7 × 90
    signed = parse_document(document)
    original = canonical(signed.record)
    changed = original.replace(b'"rank":1', b'"rank":2')     # one byte: gold's rank 1 → 2
    assert len(changed) == len(original) and sum(x != y for x, y in zip(original, changed)) == 1
    with pytest.raises(SignatureError):
        verify(SignedRecord(json.loads(changed), signed.key_id, signed.signature), public_keys)

    pdf = chief.get(f"/competitions/{competition_id}/awards/{gold.id}/pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    payload = certificate_pdf.payload_from_pdf(pdf.data)
    assert payload.startswith(f"http://127.0.0.1:5000/v/{gold.certificate_ref}#")
    assert parse_payload(payload).record == record
    keys_file, pdf_file = tmp_path / "keys.json", tmp_path / "award.pdf"
    keys_file.write_text(json.dumps(keys))
    pdf_file.write_bytes(pdf.data)
    status, text = cli([str(pdf_file), "--keys", str(keys_file)])
    assert status == 0 and f"VALID: {gold.number} {people['gold'][0]} (南京代表队): gold, rank 1" in text
    head, _, fragment = payload.partition("#")
    _, key, signature = fragment.split(".")
    forged = f"{head}#{b64encode(changed)}.{key}.{signature}"
    assert cli(["--qr", forged, "--keys", str(keys_file)])[0] == 1


def test_public_lookup_finds_by_number_and_name_masks_ids_and_shows_revocation(database, new_browser):
    competition_id, people = awarded(database)
    issue_as_chief(new_browser, competition_id)
    _, silver, _ = award_rows(database, competition_id)
    name, full_id = people["silver"]
    public = new_browser()                                   # nobody signed in
    found = public.get(f"/api/awards/lookup?number={silver.number}&name={name}").json["awards"]
    assert [(a["number"], a["medal"], a["rank"], a["delegation"], a["revoked"]) for a in found] == \
        [(silver.number, "silver", 2, "南京代表队", False)]
    assert found[0]["members"] == [{"name": name, "id_mask": f"{full_id[:4]}**********{full_id[-4:]}"}]
    page = public.get(f"/awards/lookup?number={silver.number}&name={name}").get_data(as_text=True)
    assert silver.number in page and "银牌" in page and "2026年南京市数控车工技能竞赛" in page
    assert full_id not in page and f"{full_id[:4]}**********{full_id[-4:]}" in page
    # a wrong name and an unknown number look the same: nothing
    assert public.get(f"/api/awards/lookup?number={silver.number}&name=张三").json["awards"] == []
    assert public.get(f"/api/awards/lookup?number=C2026999999001&name={name}").json["awards"] == []
    assert "没有找到符合条件的获奖证书" in public.get(
        f"/awards/lookup?number=C2026999999001&name={name}").get_data(as_text=True)
    assert public.get(f"/api/awards/lookup?name={name}").status_code == 400

    admin = new_browser()
    admin.login("nj_admin")
    url = f"/competitions/{competition_id}/awards/{silver.id}/revoke"
    assert admin.post(url, {"reason": " "}).status_code == 400
    assert admin.post(url, {"reason": "违规使用禁用刀具"}).status_code == 302
    assert admin.post(url, {"reason": "again"}).status_code == 409
    found = public.get(f"/api/awards/lookup?number={silver.number}&name={name}").json["awards"]
    assert found[0]["revoked"] is True and found[0]["revoked_reason"] == "违规使用禁用刀具"
    page = public.get(f"/v/{silver.certificate_ref}").get_data(as_text=True)
    assert "已于" in page and "违规使用禁用刀具" in page and silver.number in page
    with database.session(write=False) as db:
        actions = [a for a in db.execute(select(AuditEvent.action).order_by(AuditEvent.seq)).scalars()
                   if a.startswith(("competition.award", "award_certificate."))]
        assert actions == ["competition.award", "award_certificate.issue", "award_certificate.revoke"]
        assert audit.verify(db).ok


def test_award_lookups_share_the_certificate_limits(app, database, new_browser):
    app.config["CERT_LOOKUP_LIMITS"] = LookupLimits(Limit("address", 100, 60), Limit("target", 100, 3600),
                                                    Limit("miss", 3, 3600))
    competition_id, people = awarded(database)
    issue_as_chief(new_browser, competition_id)
    gold = award_rows(database, competition_id)[0]
    walker = new_browser()
    walker.client.environ_base["REMOTE_ADDR"] = "10.0.0.9"
    codes = [walker.get(f"/api/awards/lookup?number={gold.number[:-3]}{n:03d}&name=王五").status_code
             for n in (7, 8, 9, 10)]
    assert codes == [200, 200, 200, 429]                     # 3 misses allowed, then refused
    refused = walker.get(f"/api/certificates/lookup?number={gold.number}&name={people['gold'][0]}")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0   # one limiter for both


def test_only_the_chief_or_an_organiser_issues_and_only_an_organiser_revokes(database, new_browser):
    competition_id, _ = awarded(database)
    url = f"/competitions/{competition_id}/award-certificates"
    assert "/login" in new_browser().post(url).headers["Location"]     # anonymous: sent to sign in
    for username, status in (("examiner_sz01", 404), ("examiner_nj02", 403)):
        other = new_browser()
        other.login(username)
        assert other.post(url).status_code == status
    assert all(a.number is None for a in award_rows(database, competition_id))
    admin = new_browser()
    admin.login("nj_admin")
    assert admin.post(url).status_code == 302                # an organiser over the competition
    gold = award_rows(database, competition_id)[0]
    chief = new_browser()
    chief.login("examiner_nj01")
    assert chief.post(f"/competitions/{competition_id}/awards/{gold.id}/revoke", {"reason": "x"}).status_code == 403
    sz_admin = new_browser()
    sz_admin.login("sz_admin")
    assert sz_admin.post(f"/competitions/{competition_id}/awards/{gold.id}/revoke",
                         {"reason": "x"}).status_code == 403
    page = admin.get(f"/competitions/{competition_id}").get_data(as_text=True)
    assert gold.number in page and f"/v/{gold.certificate_ref}" in page


def test_the_setup_page_awards_by_form_then_issues(database, new_browser):
    """The organiser's forms: medals by count on the final board, then the certificates, listed with numbers."""
    competition_id, people = awarded(database)
    with database.transaction() as db:                       # start again from no awards
        for row in db.execute(select(CompetitionAward)).scalars():
            db.delete(row)
    admin = new_browser()
    admin.login("nj_admin")
    form = {"mode": "counts", "gold": "1", "silver": "1", "bronze": "0"}
    assert admin.post(f"/competitions/{competition_id}/awards", form).status_code == 302
    assert [(a.medal, a.rank) for a in award_rows(database, competition_id)] == [("gold", 1), ("silver", 2)]
    page = admin.get(f"/competitions/{competition_id}").get_data(as_text=True)
    assert 'id="issue-awards-submit"' in page and "未颁发" in page
    assert admin.post(f"/competitions/{competition_id}/award-certificates").status_code == 302
    page = admin.get(f"/competitions/{competition_id}").get_data(as_text=True)
    year = (utcnow() + timedelta(hours=8)).year
    assert f"C{year}{competition_id:06d}002" in page and 'id="issue-awards-submit"' not in page
