"""Results and certificates, the use cases: record a part score, combine the parts into a result, confirm it
(the centre), issue a signed certificate with its number, revoke one. Each takes ``now`` and writes its audit
record in the caller's transaction.

Pass rule: theory ≥ 60 and practical ≥ 60, plus the comprehensive review (综合评审) for 技师 and 高级技师. The
newest score of a part counts; a pass counts for ``part_retention()`` after it was recorded, so a resit covers
only the part that failed or ran out.
"""
from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Optional
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit
from .certificate_signing import (RECORD_TYPE, SignedRecord, b64encode, id_digest, key_id, mask_id,
                                  private_key_from_hex, public_bytes, sign)
from .config import Settings
from .errors import UserError
from .models import (LEVEL_NAMES_ZH, Certificate, CertificateSerial, JobTypeLevel, Level, Organisation, PartScore,
                     Result, ResultPart, SigningKey, User)

PASS_TENTHS = 600                      # 60.0 points
CHINA = ZoneInfo("Asia/Shanghai")      # certificates are dated in Beijing time
REVIEW_LEVELS = (Level.technician, Level.senior_technician)


# ------------------------------------------------------------------------------------------ configuration

def part_retention() -> timedelta:
    """How long a passed part is kept: EXAM_PART_RETENTION_DAYS (default 365)."""
    return timedelta(days=int(os.environ.get("EXAM_PART_RETENTION_DAYS", "365")))


def signing_key(settings: Settings) -> Ed25519PrivateKey:
    """The certificate signing key, kept outside the database like the paper key: EXAM_CERT_KEY (the 32-byte
    seed in 64 hex digits), or one generated on first use into the instance folder (mode 600)."""
    configured = os.environ.get("EXAM_CERT_KEY", "")
    return private_key_from_hex(configured or settings._instance_secret("cert_key"))


@dataclass(frozen=True)
class NumberingRule:
    """职业技能等级证书 numbers: a letter (S social evaluation organisation, Y employer) and 21 digits =
    organisation code (4) + province (2) + site (6) + year (2) + level (1) + serial (6)."""

    letter: str = "S"
    org_code: str = "0001"
    province: str = "32"
    site_codes: dict = field(default_factory=dict)      # organisation code → 6 digits; default: its id

    def __post_init__(self):
        if not (self.letter.isalpha() and self.letter.isupper() and len(self.letter) in (1, 2)):
            raise ValueError("certificate letter: Y or S (two letters for 特级/首席技师)")
        for name, value, width in (("org_code", self.org_code, 4), ("province", self.province, 2)):
            if not (value.isdigit() and len(value) == width):
                raise ValueError(f"certificate {name}: {width} digits")

    def site(self, organisation: Organisation) -> str:
        code = self.site_codes.get(organisation.code) or f"{organisation.id:06d}"
        if not (code.isdigit() and len(code) == 6):
            raise ValueError(f"site code of {organisation.code}: 6 digits")
        return code

    def prefix(self, organisation: Organisation, year: int, level: int) -> str:
        return f"{self.letter}{self.org_code}{self.province}{self.site(organisation)}{year % 100:02d}{level}"


def numbering_from_env() -> NumberingRule:
    """EXAM_CERT_LETTER, EXAM_CERT_ORG_CODE, EXAM_CERT_PROVINCE and EXAM_CERT_SITE_CODES ("JS-NJ-01=000101,…")."""
    sites = dict(pair.split("=", 1) for pair in os.environ.get("EXAM_CERT_SITE_CODES", "").split(",") if "=" in pair)
    return NumberingRule(os.environ.get("EXAM_CERT_LETTER", "S"), os.environ.get("EXAM_CERT_ORG_CODE", "0001"),
                         os.environ.get("EXAM_CERT_PROVINCE", "32"), {k.strip(): v.strip() for k, v in sites.items()})


# ------------------------------------------------------------------------------------------ part scores and results

def to_tenths(score) -> int:
    """A score in points (int, float, Decimal or text) as whole tenths, rounded half up; 0–100 only."""
    try:
        tenths = (Decimal(str(score)) * 10).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    except InvalidOperation:
        raise UserError("certificates.score_invalid", value=str(score)) from None
    if not 0 <= tenths <= 1000:
        raise UserError("certificates.score_invalid", value=str(score))
    return int(tenths)


def points(tenths: Optional[int]) -> str:
    return "" if tenths is None else f"{tenths // 10}.{tenths % 10}"


def required_parts(level: int) -> tuple[ResultPart, ...]:
    if level in REVIEW_LEVELS:
        return ResultPart.theory, ResultPart.practical, ResultPart.review
    return ResultPart.theory, ResultPart.practical


def record_part_score(db: Session, candidate: User, job_type_level: JobTypeLevel, part: str, score, source: str,
                      now: datetime, retention: Optional[timedelta] = None) -> Result:
    """Append one part's score and recombine the candidate's result at that level (returned)."""
    try:
        part = ResultPart(part)
    except ValueError:
        raise UserError("certificates.part_unknown", part=str(part)) from None
    if part not in required_parts(job_type_level.level):
        raise UserError("certificates.part_unknown", part=part.value)
    result = _result_for(db, candidate, job_type_level, now)
    if result.confirmed_at is not None:
        raise UserError("certificates.result_confirmed", 409)
    tenths = to_tenths(score)
    passed = tenths >= PASS_TENTHS
    row = PartScore(candidate_id=candidate.id, job_type_level_id=job_type_level.id, part=part.value,
                    score_tenths=tenths, passed=passed, source=source[:100], recorded_at=now,
                    valid_until=now + (retention or part_retention()) if passed else None)
    db.add(row)
    db.flush()
    combine(db, result, now)
    audit.record(db, "result.part_score", actor_name=source[:64], object_type="result", object_id=result.id,
                 data={"candidate": candidate.username, "job_type_level": job_type_level.id, "part": part.value,
                       "score": points(tenths), "passed": passed}, now=now)
    return result


def _result_for(db: Session, candidate: User, job_type_level: JobTypeLevel, now: datetime) -> Result:
    result = db.execute(select(Result).where(Result.candidate_id == candidate.id,
                                             Result.job_type_level_id == job_type_level.id)).scalar_one_or_none()
    if result is None:
        result = Result(candidate_id=candidate.id, job_type_level_id=job_type_level.id, combined_at=now)
        db.add(result)
        db.flush()
    return result


def _newest(db: Session, result: Result, part: ResultPart) -> Optional[PartScore]:
    return db.execute(select(PartScore).where(
        PartScore.candidate_id == result.candidate_id, PartScore.job_type_level_id == result.job_type_level_id,
        PartScore.part == part.value).order_by(PartScore.recorded_at.desc(), PartScore.id.desc()).limit(1)
    ).scalar_one_or_none()


def part_counts(score: Optional[PartScore], now: datetime) -> bool:
    """A part is passed while its newest score passed and has not run out."""
    return score is not None and score.passed and score.valid_until is not None and now <= score.valid_until


def combine(db: Session, result: Result, now: datetime) -> Result:
    """Point the result at each part's newest score and decide whether it has passed."""
    level = db.get(JobTypeLevel, result.job_type_level_id).level
    newest = {part: _newest(db, result, part) for part in ResultPart}
    result.theory_score_id = newest[ResultPart.theory].id if newest[ResultPart.theory] else None
    result.practical_score_id = newest[ResultPart.practical].id if newest[ResultPart.practical] else None
    result.review_score_id = newest[ResultPart.review].id if newest[ResultPart.review] else None
    passed = all(part_counts(newest[part], now) for part in required_parts(level))
    result.passed_at = (result.passed_at or now) if passed else None
    result.combined_at = now
    db.flush()
    db.refresh(result)
    return result


def parts_to_resit(db: Session, result: Result, now: datetime) -> list[ResultPart]:
    """The parts the candidate must (re)sit: missing, failed, or a pass that ran out."""
    level = db.get(JobTypeLevel, result.job_type_level_id).level
    return [part for part in required_parts(level) if not part_counts(_newest(db, result, part), now)]


def confirm(db: Session, result: Result, user: User, now: datetime) -> Result:
    """The centre confirms the scores (after examiner review and appeals); nothing changes them afterwards."""
    if result.confirmed_at is not None:
        raise UserError("certificates.result_confirmed", 409)
    level = result.job_type_level.level
    scores = {ResultPart.theory: result.theory, ResultPart.practical: result.practical,
              ResultPart.review: result.review}
    if any(scores[part] is None for part in required_parts(level)):
        raise UserError("certificates.result_incomplete")
    result.confirmed_at, result.confirmed_by_id = now, user.id
    audit.record(db, "result.confirm", actor=user, object_type="result", object_id=result.id,
                 data={"candidate": result.candidate.username, "passed": result.passed_at is not None}, now=now)
    return result


# ------------------------------------------------------------------------------------------ issuing

def ensure_signing_key(db: Session, key: Ed25519PrivateKey, now: datetime) -> SigningKey:
    """Publish the key's public half (once)."""
    row = db.get(SigningKey, key_id(key))
    if row is None:
        row = SigningKey(key_id=key_id(key), algorithm="Ed25519", public_key=b64encode(public_bytes(key)),
                         created_at=now)
        db.add(row)
        db.flush()
    return row


def next_number(db: Session, rule: NumberingRule, organisation: Organisation, year: int, level: int) -> str:
    prefix = rule.prefix(organisation, year, level)
    row = db.execute(select(CertificateSerial).where(CertificateSerial.prefix == prefix).with_for_update()
                     ).scalar_one_or_none()
    if row is None:
        row = CertificateSerial(prefix=prefix, last_serial=0)
        db.add(row)
    if row.last_serial >= 999_999:
        raise UserError("certificates.serials_exhausted", prefix=prefix)
    row.last_serial += 1
    db.flush()
    return f"{prefix}{row.last_serial:06d}"


def certificate_record(cert: Certificate, result: Result) -> dict:
    """The canonical record that is signed: what the certificate says, the ID number only masked and digested."""
    record = {"type": RECORD_TYPE, "v": 1, "number": cert.number, "public_id": cert.public_id,
              "name": cert.holder_name, "id_mask": mask_id(cert.id_number),
              "id_digest": id_digest(cert.number, cert.id_number), "occupation": cert.occupation,
              "level": cert.level, "level_name": LEVEL_NAMES_ZH[cert.level], "issuer": cert.issuer,
              "issued_on": cert.issued_on}
    for part in ResultPart:
        score = getattr(result, part.value)
        if score is not None:
            record[part.value] = points(score.score_tenths)
    return record


def issue(db: Session, result: Result, user: User, now: datetime, key: Ed25519PrivateKey,
          rule: Optional[NumberingRule] = None) -> Certificate:
    """Number, sign and store the certificate of a confirmed, passed result. Public at once."""
    if result.confirmed_at is None:
        raise UserError("certificates.not_confirmed")
    if result.passed_at is None:
        raise UserError("certificates.not_passed")
    if db.execute(select(Certificate.id).where(Certificate.result_id == result.id)).first():
        raise UserError("certificates.already_issued", 409)
    candidate, jtl = result.candidate, result.job_type_level
    station = candidate.organisation
    today = now.astimezone(CHINA).date()
    cert = Certificate(
        number=next_number(db, rule or numbering_from_env(), station, today.year, jtl.level),
        public_id=secrets.token_hex(16), holder_name=candidate.display_name, id_number=candidate.id_number or "",
        occupation=jtl.job_type.certificate_name, level=jtl.level, issuer=station.name,
        issued_on=today.isoformat(), organisation_id=station.id, result_id=result.id, issued_at=now,
        issued_by_id=user.id, legacy=False)
    if not cert.id_number:
        raise UserError("certificates.no_id_number")
    signed = sign(certificate_record(cert, result), key)
    ensure_signing_key(db, key, now)
    cert.record_json, cert.signature, cert.key_id = signed.canonical_json(), signed.signature, signed.key_id
    db.add(cert)
    db.flush()
    audit.record(db, "certificate.issue", actor=user, object_type="certificate", object_id=cert.number,
                 data={"result": result.id, "key_id": signed.key_id, "signature": signed.signature}, now=now)
    return cert


def signed_record(cert: Certificate) -> Optional[SignedRecord]:
    """The stored signed record (None for a legacy certificate, which the old system did not sign for us)."""
    if cert.record_json is None:
        return None
    return SignedRecord(json.loads(cert.record_json), cert.key_id or "", cert.signature or "")


def revoke(db: Session, cert: Certificate, reason: str, user: User, now: datetime) -> Certificate:
    reason = (reason or "").strip()
    if not reason:
        raise UserError("certificates.reason_required")
    if cert.revoked_at is not None:
        raise UserError("certificates.already_revoked", 409)
    cert.revoked_at, cert.revoked_reason, cert.revoked_by_id = now, reason[:500], user.id
    audit.record(db, "certificate.revoke", actor=user, object_type="certificate", object_id=cert.number,
                 data={"reason": cert.revoked_reason}, now=now)
    return cert


def published_keys(db: Session) -> list[SigningKey]:
    return list(db.execute(select(SigningKey).order_by(SigningKey.created_at)).scalars())
