"""Station quality management, the use cases: indicators per station and period, the red/black list (红黑榜)
computed from the rules and published by the centre, and the stations' responsibility agreements (责任书).

Every indicator is a query over records other areas keep (sittings and score reports, incidents, misconduct,
supervisors' annotations, examiners' findings and overrides, appeals, item-analysis review flags, session
reports); each carries the ids of the records behind it, so a list entry can show its evidence. The arithmetic
and the rules are pure (assessment/quality.py).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Optional, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from assessment import quality as rules
from assessment.quality import AnomalyRule, Comparison, Period, RuleSet

from . import audit, reports
from .errors import UserError
from .models import (Appeal, Attempt, ExaminerFinding, ExamSession, Incident, ItemAnalysis, MisconductRecord,
                     Organisation, OrganisationKind, QualityList, QualityListEntry, ResponsibilityAgreement,
                     RosterEntry, ScoreOverride, SessionReport, SupervisorAnnotation, User)

LEAK_FLAG_KINDS = ("fast_and_correct", "answer_similarity")   # preknowledge or copying: the paper may be out
MAX_AGREEMENT_BYTES = 10 * 1024 * 1024
AGREEMENT_TYPES = {"application/pdf", "image/png", "image/jpeg"}


@dataclass
class StationQuality:
    station: Organisation
    metrics: dict = field(default_factory=dict)             # the rules read these (assessment.quality)
    parts: dict[str, Comparison] = field(default_factory=dict)   # theory, practical, overall vs the province
    evidence: dict[str, list] = field(default_factory=dict)      # metric → [{"type", "id", …}]


# ------------------------------------------------------------------------------------------ indicators

def indicators(db: Session, scope: Sequence[Organisation], period: Period,
               anomaly: AnomalyRule = AnomalyRule()) -> list[StationQuality]:
    """Indicators of every station under ``scope`` over the period; pass rates are compared with the whole
    province (the tree's root), whatever the scope."""
    stations = reports.stations_under(db, scope)
    if not stations:
        return []
    province = reports.province_of(db, stations[0])
    rows = reports.with_overall(reports.sittings(db, [province], reports.Filters(period)))
    province_tally = rules.tally(rows, lambda r: r["part"])
    station_tally = rules.tally(rows, lambda r: (r["station"], r["part"]))
    candidates = rules.tally(rows, lambda r: r["station"])
    out = {s.id: StationQuality(s) for s in stations}
    for sq in out.values():
        for part in reports.PARTS:
            mine, whole = station_tally.get((sq.station.id, part)), province_tally.get(part)
            sq.parts[part] = rules.compare(mine.passed if mine else 0, mine.graded if mine else 0,
                                           whole.passed if whole else 0, whole.graded if whole else 0, anomaly)
        n = len(candidates[sq.station.id].candidates) if sq.station.id in candidates else 0
        sq.metrics["candidates"] = n
        sq.metrics["pass_rate_anomaly"] = any(c.anomalous for c in sq.parts.values())
        sq.evidence["pass_rate_anomaly"] = [
            {"type": "comparison", "part": part, "rate": c.rate, "rest_rate": c.rest_rate, "z": round(c.z, 3),
             "p": c.p_value} for part, c in sq.parts.items() if c.anomalous]
    sessions = _sessions(db, stations, period)
    for sq in out.values():
        sq.evidence["sessions"] = [{"type": "session", "id": s} for s in sessions.get(sq.station.id, [])]
    _collect_records(db, stations, period, out)
    for sq in out.values():
        sq.metrics["overrides_per_100"] = round(rules.per_100(sq.metrics["overrides"], sq.metrics["candidates"]), 2)
        sq.evidence["overrides_per_100"] = sq.evidence["overrides"]
        agreements = _agreements_in_force(db, sq.station, period)
        sq.metrics["agreement"] = bool(agreements)
        sq.evidence["agreement"] = [{"type": "agreement", "id": a} for a in agreements]
    return [out[s.id] for s in stations]


def _sessions(db: Session, stations: Sequence[Organisation], period: Period) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    ids = reports.sessions_in(stations, period)
    for session_id, station_id in db.execute(select(ExamSession.id, ExamSession.organisation_id)
                                             .where(ExamSession.id.in_(ids)).order_by(ExamSession.id)):
        found.setdefault(station_id, []).append(session_id)
    return found


def _by_attempt(model):
    """(record id, station id) of records hanging off an attempt."""
    return (select(model.id, ExamSession.organisation_id).join(Attempt, model.attempt_id == Attempt.id)
            .join(RosterEntry, Attempt.roster_entry_id == RosterEntry.id)
            .join(ExamSession, RosterEntry.exam_session_id == ExamSession.id))


def _by_session(model):
    return select(model.id, ExamSession.organisation_id).join(ExamSession, model.exam_session_id == ExamSession.id)


def _collect_records(db: Session, stations, period: Period, out: dict[int, StationQuality]) -> None:
    """Counts and evidence of the records behind each metric, for the sessions of the period."""
    ids = reports.sessions_in(stations, period)
    queries = {
        "incidents": (_by_session(Incident), "incident", ()),
        "misconduct": (_by_session(MisconductRecord), "misconduct",
                       (MisconductRecord.examiner_signed_at.is_not(None),)),
        "misconduct_void_all": (_by_session(MisconductRecord), "misconduct",
                                (MisconductRecord.examiner_signed_at.is_not(None), MisconductRecord.voids_all)),
        "annotations": (_by_session(SupervisorAnnotation), "annotation", ()),
        "examiner_findings": (_by_attempt(ExaminerFinding), "finding", ()),
        "overrides": (_by_attempt(ScoreOverride), "override", (ScoreOverride.revoked_at.is_(None),)),
        "appeals_upheld": (_by_attempt(Appeal), "appeal", (Appeal.upheld.is_(True),)),
    }
    for metric, (query, kind, conditions) in queries.items():
        for sq in out.values():
            sq.metrics[metric], sq.evidence[metric] = 0, []
        for record_id, station_id in db.execute(query.where(ExamSession.id.in_(ids), *conditions)
                                                .order_by(query.selected_columns[0])):
            out[station_id].metrics[metric] += 1
            out[station_id].evidence[metric].append({"type": kind, "id": record_id})
    _leak_signals(db, ids, out)
    _unsigned_reports(db, out)


def _leak_signals(db: Session, session_ids, out: dict[int, StationQuality]) -> None:
    """Review flags of the sessions' item analyses that point at a leaked paper (preknowledge or copying)."""
    for sq in out.values():
        sq.metrics["leak_signals"], sq.evidence["leak_signals"] = 0, []
    rows = db.execute(select(ItemAnalysis.id, ItemAnalysis.exam_session_id, ItemAnalysis.review_flags,
                             ExamSession.organisation_id)
                      .join(ExamSession, ItemAnalysis.exam_session_id == ExamSession.id)
                      .where(ItemAnalysis.exam_session_id.in_(session_ids)).order_by(ItemAnalysis.id))
    for analysis_id, session_id, flags_json, station_id in rows:
        for index, flag in enumerate(json.loads(flags_json or "[]")):
            if flag.get("kind") in LEAK_FLAG_KINDS:
                out[station_id].metrics["leak_signals"] += 1
                out[station_id].evidence["leak_signals"].append(
                    {"type": "item_analysis", "id": analysis_id, "session": session_id, "flag": index,
                     "kind": flag["kind"]})


def _unsigned_reports(db: Session, out: dict[int, StationQuality]) -> None:
    """Sessions of the period whose session report is missing or not countersigned by the supervisor."""
    for sq in out.values():
        session_ids = [e["id"] for e in sq.evidence["sessions"]]
        countersigned = set(db.execute(select(SessionReport.exam_session_id).where(
            SessionReport.exam_session_id.in_(session_ids), SessionReport.supervisor_signed_at.is_not(None))
        ).scalars()) if session_ids else set()
        missing = [s for s in session_ids if s not in countersigned]
        sq.metrics["sessions"] = len(session_ids)
        sq.metrics["sessions_not_countersigned"] = len(missing)
        sq.evidence["sessions_not_countersigned"] = [{"type": "session", "id": s} for s in missing]


def _agreements_in_force(db: Session, station: Organisation, period: Period) -> list[int]:
    """Ids of the station's responsibility agreements covering the whole period (not withdrawn)."""
    return list(db.execute(select(ResponsibilityAgreement.id).where(
        ResponsibilityAgreement.station_id == station.id, ResponsibilityAgreement.withdrawn_at.is_(None),
        ResponsibilityAgreement.period_start <= period.start, ResponsibilityAgreement.period_end >= period.end)
        .order_by(ResponsibilityAgreement.id)).scalars())


# ------------------------------------------------------------------------------------------ red/black list

def rules_in_force() -> tuple[RuleSet, AnomalyRule]:
    return rules.DEFAULT_RULES, AnomalyRule()


def _rules_json(ruleset: RuleSet, anomaly: AnomalyRule) -> str:
    return audit.canonical_json({"lists": ruleset.to_dict(), "anomaly": anomaly.__dict__})


def compute_list(db: Session, organisation: Organisation, period: Period, actor: User, now: datetime,
                 ruleset: Optional[RuleSet] = None, anomaly: Optional[AnomalyRule] = None) -> QualityList:
    """(Re)compute the draft 红黑榜 of the organisation's stations over the period; refused once published."""
    default_rules, default_anomaly = rules_in_force()
    ruleset, anomaly = ruleset or default_rules, anomaly or default_anomaly
    row = list_for(db, organisation, period)
    if row is not None and row.published_at is not None:
        raise UserError("quality.list_published", 409)
    if row is None:
        row = QualityList(organisation_id=organisation.id, period_start=period.start, period_end=period.end)
        db.add(row)
    row.period_label, row.rules_json = period.label, _rules_json(ruleset, anomaly)
    row.computed_at, row.computed_by_id = now, actor.id
    row.entries.clear()
    db.flush()
    for sq in indicators(db, [organisation], period, anomaly):
        decision = rules.decide(sq.metrics, ruleset)
        if decision.list is None:
            continue
        shown = ("sessions",) + decision.metrics
        row.entries.append(QualityListEntry(
            station_id=sq.station.id, colour=decision.list, rules=json.dumps(list(decision.rules)),
            indicators=audit.canonical_json(sq.metrics),
            evidence=audit.canonical_json({m: sq.evidence.get(m, []) for m in shown})))
    db.flush()
    row.content_sha256 = content_hash(row)
    audit.record(db, "quality_list.compute", actor=actor, object_type="quality_list", object_id=row.id, now=now,
                 data={"organisation": organisation.code, "period": period.label, "sha256": row.content_sha256,
                       "red": [e.station.code for e in row.entries if e.colour == "red"],
                       "black": [e.station.code for e in row.entries if e.colour == "black"]})
    return row


def content_hash(row: QualityList) -> str:
    content = {"period": [row.period_start.isoformat(), row.period_end.isoformat()], "rules": row.rules_json,
               "entries": [{"station": e.station_id, "colour": e.colour, "rules": e.rules,
                            "indicators": e.indicators, "evidence": e.evidence} for e in row.entries]}
    return hashlib.sha256(audit.canonical_json(content).encode()).hexdigest()


def publish_list(db: Session, row: QualityList, actor: User, now: datetime) -> QualityList:
    """Publish the draft as it stands; published lists never change (recomputing is refused)."""
    if row.published_at is not None:
        raise UserError("quality.list_published", 409)
    if content_hash(row) != row.content_sha256:
        raise UserError("quality.list_changed", 409)
    row.published_at, row.published_by_id = now, actor.id
    audit.record(db, "quality_list.publish", actor=actor, object_type="quality_list", object_id=row.id, now=now,
                 data={"period": row.period_label, "sha256": row.content_sha256, "entries": len(row.entries)})
    return row


def list_for(db: Session, organisation: Organisation, period: Period) -> Optional[QualityList]:
    return db.execute(select(QualityList).where(
        QualityList.organisation_id == organisation.id, QualityList.period_start == period.start,
        QualityList.period_end == period.end)).scalar_one_or_none()


def lists_under(db: Session, scope: Sequence[Organisation], published_only: bool) -> list[QualityList]:
    query = (select(QualityList).join(Organisation, QualityList.organisation_id == Organisation.id)
             .order_by(QualityList.period_start.desc(), QualityList.id.desc()))
    if published_only:
        query = query.where(QualityList.published_at.is_not(None))
    rows = db.execute(query).scalars().all()
    # a station sees the lists of the centres above it too (published ones): its own entry is public to it
    return [r for r in rows if any(r.organisation.contains(o) or o.contains(r.organisation) for o in scope)]


# ------------------------------------------------------------------------------------------ agreements

@dataclass(frozen=True)
class Upload:
    name: str
    media_type: str
    data: bytes


def record_agreement(db: Session, station: Organisation, period: Period, signer_name: str, signer_title: str,
                     signed_on: date, actor: User, now: datetime,
                     upload: Optional[Upload] = None) -> ResponsibilityAgreement:
    if station.kind is not OrganisationKind.station:
        raise UserError("quality.not_a_station")
    signer_name, signer_title = (signer_name or "").strip(), (signer_title or "").strip()
    if not signer_name or len(signer_name) > 100 or len(signer_title) > 100:
        raise UserError("quality.signer_required")
    if upload is not None:
        if upload.media_type not in AGREEMENT_TYPES:
            raise UserError("quality.file_type")
        if len(upload.data) > MAX_AGREEMENT_BYTES:
            raise UserError("error.too_large", 413)
    row = ResponsibilityAgreement(
        station_id=station.id, period_start=period.start, period_end=period.end, signer_name=signer_name,
        signer_title=signer_title, signed_on=signed_on, recorded_at=now, recorded_by_id=actor.id)
    if upload is not None:
        row.file_name, row.file_type, row.file_data = upload.name[:200], upload.media_type, upload.data
        row.file_sha256 = hashlib.sha256(upload.data).hexdigest()
    db.add(row)
    db.flush()
    audit.record(db, "agreement.record", actor=actor, object_type="responsibility_agreement", object_id=row.id,
                 now=now, data={"station": station.code, "period": period.label, "signer": signer_name,
                                "signed_on": signed_on.isoformat(), "file_sha256": row.file_sha256})
    return row


def withdraw_agreement(db: Session, row: ResponsibilityAgreement, actor: User, now: datetime) -> None:
    if row.withdrawn_at is not None:
        raise UserError("quality.agreement_withdrawn", 409)
    row.withdrawn_at, row.withdrawn_by_id = now, actor.id
    audit.record(db, "agreement.withdraw", actor=actor, object_type="responsibility_agreement", object_id=row.id,
                 now=now, data={"station": row.station.code})


def agreements_under(db: Session, scope: Sequence[Organisation]) -> list[ResponsibilityAgreement]:
    return list(db.execute(select(ResponsibilityAgreement)
                           .join(Organisation, ResponsibilityAgreement.station_id == Organisation.id)
                           .where(reports.in_subtrees(Organisation.path, scope))
                           .order_by(ResponsibilityAgreement.period_start.desc(), ResponsibilityAgreement.id)
                           ).scalars())
