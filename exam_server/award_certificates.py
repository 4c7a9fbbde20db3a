"""Award certificates (技能竞赛获奖证书): a competition's gold, silver and bronze awards, numbered and signed with the
platform's Ed25519 key over the JCS canonical record, exactly as skill certificates are (certificate_signing),
so that the same QR payload, the same `/v/<public_id>` page and `examctl cert verify` serve both.

Numbers: ``C`` + year of issue (4) + competition id (6) + serial in the competition (3), e.g. C2026000012001,
given in rank order; they cannot be confused with skill certificate numbers (a letter and 21 digits).

Use cases take ``now`` and audit in the caller's transaction. Issuing is for the competition's chief examiner or
its organisers (the view checks which); revoking needs a reason.
"""
from __future__ import annotations

import json
import secrets
from datetime import datetime
from typing import Optional

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import audit
from .certificate_signing import AWARD_RECORD_TYPE as RECORD_TYPE, SignedRecord, mask_id, sign
from .errors import UserError
from .models import Competition, CompetitionAward, User

MEDAL_NAMES_ZH = {"gold": "金牌", "silver": "银牌", "bronze": "铜牌"}   # as the board names them


def certificate_number(competition: Competition, year: int, serial: int) -> str:
    return f"C{year:04d}{competition.id:06d}{serial:03d}"


def award_record(award: CompetitionAward, number: str, public_id: str, issued_on: str) -> dict:
    """What the certificate says, signed: the competition, the entry and its delegation, the members' names with
    their ID numbers masked, the medal, rank and total, the issuer and the date."""
    entry, competition = award.entry, award.competition
    return {"type": RECORD_TYPE, "v": 1, "number": number, "public_id": public_id,
            "competition": competition.name, "name": entry.name, "bib": entry.bib,
            "delegation": entry.delegation.name,
            "members": [{"name": m.user.display_name, "id_mask": mask_id(m.user.id_number or "")}
                        for m in entry.members],
            "medal": award.medal, "medal_name": MEDAL_NAMES_ZH[award.medal], "rank": award.rank,
            "total": award.total, "issuer": competition.organisation.name, "issued_on": issued_on}


def issue(db: Session, competition: Competition, key, actor: User, now: datetime) -> list[CompetitionAward]:
    """Number and sign every award of the competition not issued yet (all of them the first time); the key's
    public half is published as for skill certificates. Returns the awards issued now."""
    from .certificates import CHINA, ensure_signing_key

    awards = db.execute(select(CompetitionAward).where(CompetitionAward.competition_id == competition.id,
                                                       CompetitionAward.number.is_(None))
                        .order_by(CompetitionAward.rank, CompetitionAward.id)).scalars().all()
    if not awards:
        raise UserError("awards.nothing_to_issue", 409)
    issued = db.execute(select(func.count(CompetitionAward.id)).where(CompetitionAward.competition_id == competition.id,
                                                   CompetitionAward.number.is_not(None))).scalar_one()
    today = now.astimezone(CHINA).date()
    ensure_signing_key(db, key, now)
    for serial, award in enumerate(awards, start=issued + 1):
        number, public_id = certificate_number(competition, today.year, serial), secrets.token_hex(16)
        signed = sign(award_record(award, number, public_id, today.isoformat()), key)
        award.number, award.certificate_ref, award.record_json = number, public_id, signed.canonical_json()
        award.key_id, award.signature = signed.key_id, signed.signature
        award.issued_at, award.issued_by_id = now, actor.id
    db.flush()
    audit.record(db, "award_certificate.issue", actor=actor, object_type="competition", object_id=competition.id,
                 data={"numbers": {a.id: a.number for a in awards}, "key_id": awards[0].key_id}, now=now)
    return awards


def revoke(db: Session, award: CompetitionAward, reason: str, actor: User, now: datetime) -> CompetitionAward:
    reason = (reason or "").strip()
    if award.number is None:
        raise UserError("awards.not_issued", 409)
    if not reason:
        raise UserError("certificates.reason_required")
    if award.revoked_at is not None:
        raise UserError("certificates.already_revoked", 409)
    award.revoked_at, award.revoked_reason, award.revoked_by_id = now, reason[:500], actor.id
    audit.record(db, "award_certificate.revoke", actor=actor, object_type="award_certificate",
                 object_id=award.number, data={"reason": award.revoked_reason}, now=now)
    return award


def signed_record(award: CompetitionAward) -> Optional[SignedRecord]:
    if award.record_json is None:
        return None
    return SignedRecord(json.loads(award.record_json), award.key_id or "", award.signature or "")


# ------------------------------------------------------------------------------------------ public lookup

def by_number(db: Session, number: str, name: str) -> Optional[CompetitionAward]:
    """The issued award with this number, when ``name`` is the entry's name or one of its members' (a team's
    certificate is found by any member). A wrong name looks exactly like an unknown number."""
    award = db.execute(select(CompetitionAward).where(CompetitionAward.number == number.strip().upper())
                       ).scalar_one_or_none()
    if award is None or award.record_json is None:
        return None
    record = json.loads(award.record_json)
    names = {record["name"]} | {m["name"] for m in record.get("members", [])}
    return award if name.strip() in names else None


def by_public_id(db: Session, public_id: str) -> Optional[CompetitionAward]:
    if len(public_id) != 32:
        return None
    return db.execute(select(CompetitionAward).where(CompetitionAward.certificate_ref == public_id)
                      ).scalar_one_or_none()


def public_view(award: CompetitionAward) -> dict:
    """What anyone may see: the signed record's facts (IDs masked there already) and the revocation."""
    record = json.loads(award.record_json)
    return {"kind": "award", "number": award.number, "public_id": award.certificate_ref,
            "competition": record["competition"], "name": record["name"], "bib": record["bib"],
            "delegation": record["delegation"], "members": record["members"], "medal": record["medal"],
            "medal_name": record["medal_name"], "rank": record["rank"], "total": record["total"],
            "issuer": record["issuer"], "issued_on": record["issued_on"], "key_id": award.key_id,
            "signed": True, "revoked": award.revoked_at is not None,
            "revoked_at": award.revoked_at.isoformat() if award.revoked_at else None,
            "revoked_reason": award.revoked_reason}
