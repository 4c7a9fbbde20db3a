"""Question-bank use cases: import and export (Excel, QTI), the review workflow, edits that make new versions,
paper assembly for a session and item analysis after it.

The pure `assessment` package does the work on plain data; this module converts rows to its data classes and
back, and audits every change in the caller's transaction (the caller commits). Bad input raises `UserError`;
a rejected import carries every problem (row, column, reason in both languages) and stores nothing.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
from datetime import datetime, timedelta
from typing import Any, Optional

import numpy as np
from sqlalchemy import and_, func, insert, select
from sqlalchemy.orm import Session, contains_eager

from assessment import analysis as item_analysis
from assessment import excel, qti
from assessment import flags as review_flags
from assessment.assembly import AssemblyError, assemble_loft
from assessment.bank import Blueprint, Candidate, Item, PaperSpec, Point, Policy, Range, Section
from assessment.capacity import CapacityError
from assessment.compliance import ComplianceReport, batch_summary

from . import audit, delivery
from .audit import canonical_json
from .errors import UserError
from .models import (AssembledPaper, Assembly, Attempt, BankBlueprint, BankItem, BankItemVersion, BankPaperSpec,
                     ExamSession, ItemAnalysis, ItemStatistic, ItemStatus, JobType, RosterEntry, SaveOperation, User)
from .papers import assembled

BEIJING = timedelta(hours=8)      # exam dates are local dates in China
EDITABLE_FIELDS = ("point_code", "type", "stem", "options", "key", "tolerance", "enemy_group", "source", "media",
                   "difficulty")
CONTENT_FIELDS = ("point_code", "type", "stem", "options", "key", "tolerance", "enemy_group", "source", "media")


# ---- errors that carry details for the page ---------------------------------------------------------------------

class ImportRejected(UserError):
    """An import refused as a whole; `problems` are dicts with where (sheet, row, column or file) and reasons."""

    def __init__(self, problems: list[dict]):
        super().__init__("bank.import_rejected", 422, count=len(problems))
        self.problems = problems


class CapacityShortfall(UserError):
    """The bank cannot supply the papers; `shortfalls` are (zh-CN, English) sentences from assessment.capacity."""

    def __init__(self, shortfalls: list[tuple[str, str]]):
        super().__init__("bank.capacity_shortfall", 409, count=len(shortfalls))
        self.shortfalls = shortfalls


# ---- rows ⇄ assessment data --------------------------------------------------------------------------------------

def to_item(version: BankItemVersion, occupation: str) -> Item:
    bank_item = version.bank_item
    return Item(id=bank_item.code, version=version.version, occupation=occupation, level=bank_item.level,
                point_code=version.point_code, type=version.type, stem=version.stem,
                options=tuple(version.option_list), key=version.key_value, difficulty=version.difficulty,
                tolerance=version.tolerance, discrimination=version.discrimination,
                enemy_group=version.enemy_group, source=version.source, exposure=version.exposure,
                last_used=version.last_used, status=version.status.value, media=tuple(json.loads(version.media)))


def content_of(item: Item) -> dict:
    """The version columns an item's content and statistics fill."""
    return {"point_code": item.point_code, "type": item.type, "stem": item.stem,
            "options": canonical_json(list(item.options)), "key": canonical_json(item.key),
            "tolerance": float(item.tolerance or 0.0), "enemy_group": item.enemy_group, "source": item.source,
            "media": canonical_json(list(item.media)), "difficulty": float(item.difficulty),
            "discrimination": item.discrimination, "exposure": int(item.exposure), "last_used": item.last_used}


def status_stamps(status: str, actor: Optional[User], now: datetime) -> dict:
    """Workflow timestamps for a version that enters the bank already at `status`."""
    who = actor.id if actor else None
    order = [s.value for s in ItemStatus]
    stamps = {}
    for step, column in (("reviewed", "reviewed"), ("active", "activated"), ("retired", "retired")):
        if order.index(status) >= order.index(step):
            stamps[f"{column}_at"], stamps[f"{column}_by_id"] = now, who
    return stamps


def _range_json(node: Range) -> dict:
    return {"code": node.code, "name": node.name, "weight_pct": node.weight_pct,
            "children": [_range_json(c) for c in node.children],
            "points": [{"code": p.code, "name": p.name, "importance": p.importance} for p in node.points]}


def _range_of(data: dict) -> Range:
    return Range(data["code"], data["name"], data["weight_pct"], tuple(_range_of(c) for c in data["children"]),
                 tuple(Point(**p) for p in data["points"]))


def tree_json(blueprint: Blueprint) -> str:
    return canonical_json([_range_json(r) for r in blueprint.ranges])


def blueprint_of(row: BankBlueprint) -> Blueprint:
    return Blueprint(occupation=row.job_type.name, level=row.level, version=row.version,
                     ranges=tuple(_range_of(r) for r in json.loads(row.tree)))


def policy_of(row: BankBlueprint) -> Policy:
    return Policy(**json.loads(row.policy))


def spec_of(row: Optional[BankPaperSpec]) -> PaperSpec:
    if row is None:
        return PaperSpec()
    return PaperSpec(sections=tuple(Section(**s) for s in json.loads(row.sections)), duration_min=row.duration_min,
                     pass_mark=row.pass_mark)


def spec_json(spec: PaperSpec) -> str:
    return canonical_json([dataclasses.asdict(s) for s in spec.sections])


# ---- queries -----------------------------------------------------------------------------------------------------

def current_blueprint(db: Session, job_type_id: int, level: int) -> Optional[BankBlueprint]:
    return db.execute(select(BankBlueprint).where(BankBlueprint.job_type_id == job_type_id,
                                                  BankBlueprint.level == level)
                      .order_by(BankBlueprint.version.desc()).limit(1)).scalar_one_or_none()


def current_spec(db: Session, job_type_id: int, level: int) -> Optional[BankPaperSpec]:
    return db.execute(select(BankPaperSpec).where(BankPaperSpec.job_type_id == job_type_id,
                                                  BankPaperSpec.level == level)
                      .order_by(BankPaperSpec.version.desc()).limit(1)).scalar_one_or_none()


def versions_of(db: Session, job_type_id: int, level: int) -> list[BankItemVersion]:
    """Every version of the bank of a job type and level, with its item loaded."""
    rows = db.execute(select(BankItemVersion).join(BankItemVersion.bank_item)
                      .where(BankItem.job_type_id == job_type_id, BankItem.level == level)
                      .options(contains_eager(BankItemVersion.bank_item))
                      .order_by(BankItem.code, BankItemVersion.version))
    return list(rows.scalars())


PAGE_SIZE = 50
STATUS_WHERE = {
    "draft": (BankItemVersion.reviewed_at.is_(None), BankItemVersion.activated_at.is_(None),
              BankItemVersion.retired_at.is_(None)),
    "reviewed": (BankItemVersion.reviewed_at.is_not(None), BankItemVersion.activated_at.is_(None),
                 BankItemVersion.retired_at.is_(None)),
    "active": (BankItemVersion.activated_at.is_not(None), BankItemVersion.retired_at.is_(None)),
    "retired": (BankItemVersion.retired_at.is_not(None),),
}


def newest_versions(db: Session, job_type_id: int, level: int, page: int, status: str = "",
                    point_prefix: str = "") -> tuple[list[BankItemVersion], int]:
    """One page of items (their newest versions) by code, optionally of one status or under a 鉴定点 prefix."""
    newest = (select(BankItemVersion.bank_item_id, func.max(BankItemVersion.version).label("version"))
              .group_by(BankItemVersion.bank_item_id).subquery())
    query = (select(BankItemVersion)
             .join(newest, and_(BankItemVersion.bank_item_id == newest.c.bank_item_id,
                                BankItemVersion.version == newest.c.version))
             .join(BankItemVersion.bank_item).options(contains_eager(BankItemVersion.bank_item))
             .where(BankItem.job_type_id == job_type_id, BankItem.level == level))
    if status in STATUS_WHERE:
        query = query.where(*STATUS_WHERE[status])
    if point_prefix:
        query = query.where(BankItemVersion.point_code.startswith(point_prefix, autoescape=True))
    total = db.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = db.execute(query.order_by(BankItem.code).limit(PAGE_SIZE).offset((max(page, 1) - 1) * PAGE_SIZE))
    return list(rows.scalars()), total


def status_counts(db: Session) -> dict[tuple[int, int], dict[str, int]]:
    """(job type id, level) → versions per status."""
    counts: dict[tuple[int, int], dict[str, int]] = {}
    rows = db.execute(select(BankItem.job_type_id, BankItem.level, BankItemVersion.reviewed_at.is_not(None),
                             BankItemVersion.activated_at.is_not(None), BankItemVersion.retired_at.is_not(None),
                             func.count()).join(BankItemVersion.bank_item)
                      .group_by(BankItem.job_type_id, BankItem.level, BankItemVersion.reviewed_at.is_not(None),
                                BankItemVersion.activated_at.is_not(None), BankItemVersion.retired_at.is_not(None)))
    for job_type_id, level, reviewed, active, retired, n in rows:
        status = "retired" if retired else "active" if active else "reviewed" if reviewed else "draft"
        bucket = counts.setdefault((job_type_id, level), dict.fromkeys([s.value for s in ItemStatus], 0))
        bucket[status] += n
    return counts


# ---- import and export -----------------------------------------------------------------------------------------

@dataclasses.dataclass
class ImportSummary:
    created: int = 0          # new items
    new_versions: int = 0     # changed items whose version was locked (ever active)
    updated: int = 0          # changed drafts, edited in place
    unchanged: int = 0
    blueprint_version: Optional[int] = None

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def import_excel(db: Session, data: bytes, job_type: JobType, level: int, actor: User, now: datetime) -> ImportSummary:
    """Import items (and the 细目表 sheet, when present) from an .xlsx, all or nothing."""
    current = current_blueprint(db, job_type.id, level)
    try:
        result = excel.import_bank(data, job_type.name, level, blueprint=blueprint_of(current) if current else None,
                                   blueprint_version=(current.version + 1) if current else 1)
    except excel.BankImportRejected as rejected:
        problems = [{"sheet": p.sheet, "row": p.row, "column": p.column, "file": "", "reason_zh": p.reason_zh,
                     "reason_en": p.reason_en} for p in rejected.problems]
        raise ImportRejected(problems) from None
    summary = ImportSummary()
    if result.blueprint is not None and (current is None or tree_json(result.blueprint) != current.tree):
        current = _store_blueprint(db, job_type, level, result.blueprint, actor, now,
                                   json.loads(current.policy) if current else None)
    if current is None and result.items:
        raise UserError("bank.no_blueprint", 409)
    if current is not None:
        summary.blueprint_version = current.version
    _store_items(db, result.items, job_type, level, actor, now, summary)
    audit.record(db, "bank_imported", actor=actor, object_type="job_type", object_id=job_type.id, now=now,
                 data={"format": "xlsx", "level": level, "sha256": hashlib.sha256(data).hexdigest(),
                       **summary.as_dict()})
    return summary


def import_qti(db: Session, data: bytes, job_type: JobType, level: int, actor: User, now: datetime) -> ImportSummary:
    """Import a QTI 2.1/2.2/3.0 package, all or nothing. Foreign items arrive as drafts for an author to complete
    (鉴定点, difficulty)."""
    try:
        result = qti.import_package(data, job_type.name, level)
    except qti.QtiImportRejected as rejected:
        raise ImportRejected([{"sheet": "", "row": 0, "column": "", "file": p.file, "reason_zh": p.reason_zh,
                               "reason_en": p.reason_en} for p in rejected.problems]) from None
    summary = ImportSummary()
    _store_items(db, result.items, job_type, level, actor, now, summary)
    audit.record(db, "bank_imported", actor=actor, object_type="job_type", object_id=job_type.id, now=now,
                 data={"format": "qti", "level": level, "sha256": hashlib.sha256(data).hexdigest(),
                       **summary.as_dict()})
    return summary


def _store_blueprint(db, job_type, level, blueprint: Blueprint, actor, now, policy: Optional[dict]) -> BankBlueprint:
    row = BankBlueprint(job_type_id=job_type.id, level=level, version=blueprint.version, tree=tree_json(blueprint),
                        policy=canonical_json(policy if policy is not None else dataclasses.asdict(Policy())),
                        created_at=now, created_by_id=actor.id if actor else None)
    db.add(row)
    db.flush()
    audit.record(db, "blueprint_imported", actor=actor, actor_name="" if actor else "examctl",
                 object_type="blueprint", object_id=row.id, now=now,
                 data={"job_type": job_type.code, "level": level, "version": row.version,
                       "points": sum(1 for _ in blueprint.points())})
    return row


def _same_content(version: BankItemVersion, item: Item) -> bool:
    fields = content_of(item)
    return all(getattr(version, f) == fields[f] for f in CONTENT_FIELDS)


def _store_items(db, items, job_type: JobType, level: int, actor, now, summary: ImportSummary) -> None:
    existing = {b.code: b for b in db.execute(select(BankItem).where(BankItem.code.in_([i.id for i in items])))
                .scalars()} if items else {}
    foreign = sorted(code for code, b in existing.items() if (b.job_type_id, b.level) != (job_type.id, level))
    if foreign:
        raise ImportRejected([{"sheet": "", "row": 0, "column": "", "file": "",
                               "reason_zh": f"题目编号 {code} 已属于其他职业或等级的题库",
                               "reason_en": f"item id {code} belongs to another occupation or level"}
                              for code in foreign])
    who = actor.id if actor else None
    for item in items:
        bank_item = existing.get(item.id)
        if bank_item is None:
            bank_item = BankItem(code=item.id, job_type_id=job_type.id, level=level, created_at=now)
            db.add(bank_item)
            db.add(BankItemVersion(bank_item=bank_item, version=item.version, created_at=now, created_by_id=who,
                                   **content_of(item), **status_stamps(item.status, actor, now)))
            summary.created += 1
        elif _same_content(bank_item.newest, item):
            summary.unchanged += 1
        elif bank_item.newest.locked:
            _new_version(db, bank_item, content_of(item), actor, now)
            summary.new_versions += 1
        else:
            _set_content(bank_item.newest, content_of(item))
            summary.updated += 1


def _new_version(db, bank_item: BankItem, fields: dict, actor, now) -> BankItemVersion:
    """A draft version after the newest; statistics carry over except the observed sample (the content changed,
    so the observed p is only the author's prior for it)."""
    newest = bank_item.newest
    carried = {f: getattr(newest, f) for f in ("difficulty", "discrimination", "exposure", "last_used")}
    carried.update({f: fields[f] for f in fields if f in CONTENT_FIELDS or f == "difficulty"})
    version = BankItemVersion(bank_item=bank_item, version=newest.version + 1, created_at=now,
                              created_by_id=actor.id if actor else None, observed_n=0.0, **carried)
    db.add(version)
    db.flush()
    db.expire(bank_item, ["versions"])
    return version


def _set_content(version: BankItemVersion, fields: dict) -> None:
    for name in CONTENT_FIELDS + ("difficulty",):
        setattr(version, name, fields[name])


def export_excel(db: Session, job_type: JobType, level: int, actor: User, now: datetime) -> bytes:
    """Every item's newest version (and the current blueprint) in the import layout; audited (keys leave)."""
    items = _newest_items(db, job_type, level)
    current = current_blueprint(db, job_type.id, level)
    data = excel.export_bank(items, blueprint_of(current) if current else None)
    audit.record(db, "bank_exported", actor=actor, object_type="job_type", object_id=job_type.id, now=now,
                 data={"format": "xlsx", "level": level, "items": len(items)})
    return data


def export_qti(db: Session, job_type: JobType, level: int, actor: User, now: datetime) -> bytes:
    items = _newest_items(db, job_type, level)
    data = qti.export_package(items, test_id=f"bank-{job_type.code}-{level}", title=f"{job_type.name} 题库")
    audit.record(db, "bank_exported", actor=actor, object_type="job_type", object_id=job_type.id, now=now,
                 data={"format": "qti", "level": level, "items": len(items)})
    return data


def _newest_items(db, job_type: JobType, level: int) -> list[Item]:
    newest: dict[str, BankItemVersion] = {}
    for version in versions_of(db, job_type.id, level):
        newest[version.bank_item.code] = version
    return [to_item(v, job_type.name) for v in newest.values()]


# ---- review workflow and edits -----------------------------------------------------------------------------------

TRANSITIONS = {"review": (ItemStatus.draft, "reviewed"), "activate": (ItemStatus.reviewed, "activated"),
               "retire": (ItemStatus.active, "retired")}


def transition(db: Session, version: BankItemVersion, action: str, actor: User, now: datetime) -> ItemStatus:
    """draft → reviewed → active → retired. A reviewer is never the version's author; activating a version retires
    the item's other active versions (assembly uses one version of an item)."""
    if action not in TRANSITIONS:
        raise UserError("bank.bad_action")
    before, column = TRANSITIONS[action]
    if version.status is not before:
        raise UserError("bank.bad_transition", 409, state=version.status.value, action=action)
    if action == "review" and version.created_by_id is not None and version.created_by_id == actor.id:
        raise UserError("bank.own_review", 403)
    if action == "activate":
        _require_point(db, version.bank_item, version.point_code)
    setattr(version, f"{column}_at", now)
    setattr(version, f"{column}_by_id", actor.id)
    retired = []
    if action == "activate":
        for other in version.bank_item.versions:
            if other is not version and other.status is ItemStatus.active:
                other.retired_at, other.retired_by_id = now, actor.id
                retired.append(other.version)
    audit.record(db, f"item_{column}", actor=actor, object_type="bank_item", object_id=version.bank_item.code,
                 now=now, data={"version": version.version, "retired_versions": retired})
    return version.status


def _require_point(db: Session, bank_item: BankItem, point_code: str) -> None:
    """An item links to a 鉴定点 of the current blueprint (QTI items from elsewhere arrive without one)."""
    current = current_blueprint(db, bank_item.job_type_id, bank_item.level)
    if current is None or point_code not in blueprint_of(current).point_index():
        raise UserError("bank.unknown_point", code=point_code or "—")


def edit_item(db: Session, bank_item: BankItem, changes: dict[str, Any], actor: User, now: datetime
              ) -> BankItemVersion:
    """Change an item's content. A version that was ever active (so possibly in a paper) is never edited in
    place: the change becomes a new draft version."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise UserError("error.json_fields", fields=", ".join(sorted(unknown)))
    newest = bank_item.newest
    occupation = bank_item.job_type.name
    try:
        item = dataclasses.replace(to_item(newest, occupation), **_coerce(changes))
    except (ValueError, TypeError) as exc:
        raise UserError("bank.bad_item", reason=str(exc)) from None
    _require_point(db, bank_item, item.point_code)
    if _same_content(newest, item):
        if item.difficulty != newest.difficulty:      # a statistic, not content: corrected in place
            audit.record(db, "item_difficulty_set", actor=actor, object_type="bank_item", object_id=bank_item.code,
                         now=now, data={"version": newest.version, "from": newest.difficulty, "to": item.difficulty})
            newest.difficulty = item.difficulty
        return newest
    if newest.locked:
        version = _new_version(db, bank_item, content_of(item), actor, now)
    else:
        version = newest
        _set_content(version, content_of(item))
    audit.record(db, "item_edited", actor=actor, object_type="bank_item", object_id=bank_item.code, now=now,
                 data={"version": version.version, "new_version": version is not newest,
                       "fields": sorted(changes)})
    return version


def _coerce(changes: dict) -> dict:
    """Form and JSON values to Item field types (problems surface as ValueError from Item)."""
    out = dict(changes)
    for name in ("options", "media"):
        if name in out and isinstance(out[name], str):
            out[name] = tuple(line.strip() for line in out[name].splitlines() if line.strip())
    for name in ("tolerance", "difficulty"):
        if name in out:
            out[name] = float(out[name])
    if out.get("enemy_group") == "":
        out["enemy_group"] = None
    return out


# ---- assembly ----------------------------------------------------------------------------------------------------

ASSEMBLY_STATES = ("scheduled", "check_in_open")


def exam_date(session: ExamSession) -> str:
    return (session.scheduled_start_at + BEIJING).date().isoformat()


def assemble_session(db: Session, session: ExamSession, actor: User, now: datetime, paper_key: bytes,
                     seed: Optional[int] = None) -> Assembly:
    """One compliant paper per roster entry (LOFT), sealed until the session starts. Nothing is stored when the
    bank cannot supply the papers (CapacityShortfall names the cells) or a paper cannot meet every hard rule."""
    if seed is not None and not 0 <= seed < 2**31:
        raise UserError("error.json_fields", fields="seed")
    if delivery.session_status(session, now) not in ASSEMBLY_STATES:
        raise UserError("bank.session_started", 409)
    if db.execute(select(Assembly.id).where(Assembly.exam_session_id == session.id)).first() is not None:
        raise UserError("bank.already_assembled", 409)
    exam = session.exam
    bp_row = current_blueprint(db, exam.job_type_id, exam.level)
    if bp_row is None:
        raise UserError("bank.no_blueprint", 409)
    if not session.roster:
        raise UserError("bank.empty_roster", 409)
    spec_row = current_spec(db, exam.job_type_id, exam.level)
    blueprint, spec, policy = blueprint_of(bp_row), spec_of(spec_row), policy_of(bp_row)
    items = [to_item(v, exam.job_type.name) for v in versions_of(db, exam.job_type_id, exam.level)]
    candidates = [Candidate(id=str(e.id), seen=seen_items(db, e)) for e in session.roster]
    seed = _seed(session, now) if seed is None else seed
    try:
        made = assemble_loft(items, blueprint, spec, policy, candidates, exam_date(session), seed)
    except CapacityError as exc:
        raise CapacityShortfall([(s.message_zh, s.message_en) for s in exc.shortfalls]) from None
    except AssemblyError as exc:
        raise UserError("bank.assembly_failed", 409, reason=str(exc)) from None
    return _store_assembly(db, session, made, items, spec, bp_row, spec_row, seed, actor, now, paper_key)


def _seed(session: ExamSession, now: datetime) -> int:
    digest = hashlib.sha256(f"{session.id}:{now.isoformat()}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def _store_assembly(db, session, made, items, spec, bp_row, spec_row, seed, actor, now, paper_key) -> Assembly:
    summary = batch_summary([list(p.item_ids) for p in made])
    assembly = Assembly(exam_session_id=session.id, blueprint_id=bp_row.id,
                        paper_spec_id=spec_row.id if spec_row else None, mode="loft", seed=seed,
                        bank_hash=made[0].bank_hash, solver_version=made[0].solver_version,
                        summary=canonical_json(dataclasses.asdict(summary)), created_at=now, created_by_id=actor.id)
    db.add(assembly)
    db.flush()
    index = {"id": f"session-{session.id}-assembly-{assembly.id}", "title": session.exam.name, "items": []}
    data_key = assembled.session_data_key(db, session, paper_key, index, now)
    by_ref = {item.ref: item for item in items}
    for entry, paper in zip(session.roster, made):
        content = assembled.delivery_paper(f"session-{session.id}-entry-{entry.id}", session.exam.name,
                                           [by_ref[r] for r in paper.item_refs], spec)
        nonce, ciphertext, digest = assembled.seal_paper(data_key, content, entry.id)
        db.add(AssembledPaper(assembly_id=assembly.id, roster_entry_id=entry.id, paper_index=paper.index,
                              solver=paper.solver, objective=paper.objective, expected_score=paper.expected_score,
                              report=canonical_json(report_json(paper.report)), nonce=nonce, ciphertext=ciphertext,
                              sha256=digest, sealed_at=now))
    audit.record(db, "papers_assembled", actor=actor, object_type="exam_session", object_id=session.id, now=now,
                 data={"papers": len(made), "seed": seed, "bank_hash": assembly.bank_hash,
                       "blueprint_version": bp_row.version, "solver_version": assembly.solver_version,
                       "max_exposure": summary.max_exposure})
    return assembly


def report_json(report: ComplianceReport) -> dict:
    """What the examiner reads: everything but the item references (those stay sealed with the paper)."""
    return {"cells": [dataclasses.asdict(c) for c in report.cells], "importance_counts": report.importance_counts,
            "expected_score": report.expected_score, "target_score": report.target_score,
            "score_band": report.score_band, "overlap": report.overlap, "violations": list(report.violations)}


def seen_items(db: Session, entry: RosterEntry) -> dict[str, str]:
    """Bank item code → the date the candidate last had it, from their papers of sessions already started."""
    rows = db.execute(select(AssembledPaper, ExamSession).join(AssembledPaper.roster_entry)
                      .join(RosterEntry.exam_session)
                      .where(RosterEntry.candidate_id == entry.candidate_id, RosterEntry.id != entry.id,
                             ExamSession.paper_data_key.is_not(None))).all()
    seen: dict[str, str] = {}
    for row, session in rows:
        day = exam_date(session)
        for item in assembled.open_paper(row, session.paper_data_key)["items"]:
            code = item["ref"].split("@")[0]
            seen[code] = max(seen.get(code, day), day)
    return seen


def assembly_of(db: Session, session: ExamSession) -> Optional[Assembly]:
    return db.execute(select(Assembly).where(Assembly.exam_session_id == session.id)).scalar_one_or_none()


# ---- item analysis -----------------------------------------------------------------------------------------------

def score_response(item: dict, value) -> float:
    """Points for one answer. Multiple choice: the whole key for full points; a correct subset without a wrong
    option earns the section's partial credit. (To be replaced by grading's theory scoring when it lands.)"""
    points, kind, key = item["points"], item["type"], item["key"]
    if value is None:
        return 0.0
    if kind == "single":
        return points if value == key else 0.0
    if kind == "truefalse":
        return points if isinstance(value, bool) and value == key else 0.0
    if kind == "multiple":
        chosen = set(value) if isinstance(value, list) else set()
        if chosen == set(key):
            return points
        return points * item.get("partial_credit", 0.0) if chosen and chosen < set(key) else 0.0
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return 0.0
    return points if abs(value - key) <= item.get("tolerance", 0.0) + 1e-9 else 0.0


def choice_mask(item: dict, value) -> int:
    """The answer as an option bitmask on the canonical order (A = 1, B = 2…; true = 1, false = 2)."""
    if value is None:
        return 0
    if item["type"] == "truefalse":
        return (1 if value else 2) if isinstance(value, bool) else 0
    letters = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    return sum(1 << assembled.LETTERS.index(x) for x in set(letters) if isinstance(x, str) and x in assembled.LETTERS)


@dataclasses.dataclass
class _Sitting:
    refs: list[str]
    item_of: dict[str, dict]
    scores: np.ndarray
    choices: np.ndarray
    paper_counts: dict[str, int]
    attempts: list[Attempt]         # the rows of the matrices, with their papers
    papers: list[dict]

    @property
    def column(self) -> dict[str, int]:
        return {ref: j for j, ref in enumerate(self.refs)}


def _sitting(db: Session, assembly: Assembly, data_key: bytes) -> _Sitting:
    """Score matrix (candidates who submitted × items that occurred) from the sealed papers and responses."""
    rows = []
    paper_counts: dict[str, int] = {}
    item_of: dict[str, dict] = {}
    for row in assembly.papers:
        paper = assembled.open_paper(row, data_key)
        for item in paper["items"]:
            paper_counts[item["ref"]] = paper_counts.get(item["ref"], 0) + 1
            item_of[item["ref"]] = item
        attempt = row.roster_entry.attempt
        if attempt is not None and attempt.submitted_at is not None and attempt.voided_at is None:
            rows.append((paper, delivery.responses_of(db, attempt), attempt))
    refs = sorted(item_of)
    column = {ref: j for j, ref in enumerate(refs)}
    scores = np.full((len(rows), len(refs)), np.nan)
    choices = np.zeros((len(rows), len(refs)), dtype=np.int64)
    for i, (paper, responses, _) in enumerate(rows):
        for item in paper["items"]:
            value = responses.get(item["id"], {}).get("value")
            scores[i, column[item["ref"]]] = score_response(item, value)
            choices[i, column[item["ref"]]] = choice_mask(item, value)
    return _Sitting(refs, item_of, scores, choices, paper_counts, [a for _, _, a in rows], [p for p, _, _ in rows])


# ---- review flags (evidence for a person, never a penalty) ---------------------------------------------------------

NORM_MIN_TAKERS = 20      # fewer answers to an item than this: its rapid-guess threshold comes from the whole sitting


def seat_position(seat: str) -> Optional[tuple[int, int]]:
    """A seat as (row, column): "3-5" when the seat names its row; a plain number is a place in one row (rooms
    carry no seat plan yet, so then only side-by-side neighbours are compared)."""
    parts = [p for p in re.split(r"[-,，排]", seat.strip()) if p]
    if len(parts) == 2 and all(p.isdigit() for p in parts):
        return int(parts[0]), int(parts[1])
    return (0, int(parts[0])) if len(parts) == 1 and parts[0].isdigit() else None


def answer_times(db: Session, sitting: _Sitting) -> np.ndarray:
    """Seconds per candidate and item, from the save before (or the attempt's start) to the item's first save.
    An approximation: the browser reports no time on an item, only when answers arrive."""
    times = np.full(sitting.scores.shape, np.nan)
    column = sitting.column
    for i, (attempt, paper) in enumerate(zip(sitting.attempts, sitting.papers)):
        ref_of = {item["id"]: item["ref"] for item in paper["items"]}
        ops = db.execute(select(SaveOperation.item_id, SaveOperation.received_at)
                         .where(SaveOperation.attempt_id == attempt.id)
                         .order_by(SaveOperation.received_at, SaveOperation.seq)).all()
        previous, seen = attempt.started_at, set()
        for item_id, at in ops:
            if item_id not in seen and item_id in ref_of:
                times[i, column[ref_of[item_id]]] = (at - previous).total_seconds()
                seen.add(item_id)
            previous = at
    return times


def rapid_thresholds(times: np.ndarray) -> np.ndarray:
    """NT10 (10 % of the item's mean time, at most 10 s) where enough candidates answered the item; otherwise
    10 % of the sitting's mean answer time (with one paper per candidate most items have one or two takers)."""
    answered = (~np.isnan(times)).sum(axis=0)
    if not answered.any():
        return np.full(times.shape[1], np.nan)
    overall = min(10.0, 0.1 * float(np.nanmean(times)))
    with np.errstate(invalid="ignore"):
        per_item = review_flags.rapid_guess_thresholds(times)
    return np.where(answered >= NORM_MIN_TAKERS, per_item, overall)


def guess_chance(item: Item) -> float:
    if item.type == "single":
        return 1 / len(item.options)
    if item.type == "multiple":
        return 1 / (2 ** len(item.options) - 1)
    return 0.5 if item.type == "true_false" else 0.0


def sitting_flags(db: Session, sitting: _Sitting, items: list[Item]) -> list[dict]:
    """Seat-neighbour answer similarity (ω on shared items) and rapid-guessing / fast-and-correct flags."""
    entries = [a.roster_entry for a in sitting.attempts]
    ids = [f"{e.seat} {e.candidate.display_name}" for e in entries]
    responses = np.where(np.isnan(sitting.scores), review_flags.NOT_ON_PAPER, sitting.choices)
    pairs = review_flags.neighbour_pairs([seat_position(e.seat) for e in entries])
    found = review_flags.similarity_flags(responses, [item_analysis.key_mask(i) for i in items], pairs,
                                          candidate_ids=ids) if pairs else []
    times = answer_times(db, sitting)
    full = np.array([sitting.item_of[r]["points"] for r in sitting.refs])
    correct = np.nan_to_num(sitting.scores, nan=0.0) >= full[None, :] - 1e-9
    found += review_flags.rapid_guessing_flags(times, correct, [guess_chance(i) for i in items], candidate_ids=ids,
                                               thresholds=rapid_thresholds(times))
    return [{"kind": f.kind, "candidates": list(f.candidates), "statistic": _num(f.statistic),
             "p": None if f.p_value is None else _num(f.p_value), "zh": f.describe("zh-CN"), "en": f.describe("en")}
            for f in found]


def analyse_session(db: Session, session: ExamSession, actor: User, now: datetime) -> ItemAnalysis:
    """Item analysis of an ended session's submitted attempts; observed p and r_it are fed back into the bank
    by sample size, exposure and last use are counted. Done once per session."""
    if delivery.session_status(session, now) != "ended":
        raise UserError("bank.session_not_ended", 409)
    if db.execute(select(ItemAnalysis.id).where(ItemAnalysis.exam_session_id == session.id)).first() is not None:
        raise UserError("bank.already_analysed", 409)
    assembly = assembly_of(db, session)
    if assembly is None or session.paper_data_key is None:
        raise UserError("bank.not_assembled", 409)
    sitting = _sitting(db, assembly, session.paper_data_key)
    if sitting.scores.shape[0] == 0:
        raise UserError("bank.no_attempts", 409)
    versions = _versions_by_ref(db, sitting.refs)
    items = [to_item(versions[r], session.exam.job_type.name) for r in sitting.refs]
    spec = spec_of(assembly.paper_spec)
    result = item_analysis.analyse_sitting(
        sitting.scores, [sitting.item_of[r]["points"] for r in sitting.refs], choices=sitting.choices,
        keys=[item_analysis.key_mask(i) for i in items], option_counts=[item_analysis.option_count(i) for i in items],
        pass_mark=spec.pass_mark)
    record = _store_analysis(db, session, sitting, versions, result, actor, now)
    record.review_flags = canonical_json(sitting_flags(db, sitting, items))
    _feed_back(versions, sitting, items, result, exam_date(session))
    audit.record(db, "items_analysed", actor=actor, object_type="exam_session", object_id=session.id, now=now,
                 data={"candidates": result.n_candidates, "items": result.n_items, "kr20": _num(result.kr20),
                       "review_flags": len(json.loads(record.review_flags))})
    return record


def _versions_by_ref(db, refs: list[str]) -> dict[str, BankItemVersion]:
    codes = sorted({r.split("@")[0] for r in refs})
    rows = db.execute(select(BankItemVersion).join(BankItemVersion.bank_item).where(BankItem.code.in_(codes))
                      .options(contains_eager(BankItemVersion.bank_item))).scalars()
    by_ref = {f"{v.bank_item.code}@{v.version}": v for v in rows}
    return {r: by_ref[r] for r in refs}


def _num(value) -> Optional[float]:
    value = float(value)
    return None if math.isnan(value) or math.isinf(value) else value


def _distractor_rows(table, j: int) -> list[dict]:
    if table is None:
        return []
    return [{"option": item_analysis.OPTION_LETTERS[m], "proportion": _num(table.proportion[j, m]),
             "upper": _num(table.upper[j, m]), "lower": _num(table.lower[j, m]), "r": _num(table.r_rest[j, m]),
             "key": bool(table.is_key[j, m])} for m in range(table.valid.shape[1]) if table.valid[j, m]]


def _store_analysis(db, session, sitting: _Sitting, versions, result, actor, now) -> ItemAnalysis:
    record = ItemAnalysis(exam_session_id=session.id, n_candidates=result.n_candidates, n_items=result.n_items,
                          forms_differ=result.forms_differ, mean_total=float(result.mean_total),
                          sd_total=float(result.sd_total), kr20=_num(result.kr20), sem=_num(result.sem),
                          pass_rate=result.pass_rate, totals=canonical_json([float(t) for t in result.totals]),
                          created_at=now, created_by_id=actor.id)
    db.add(record)
    db.flush()
    db.execute(insert(ItemStatistic), [     # in bulk: a sitting holds thousands of items with per-candidate papers
        {"item_analysis_id": record.id, "bank_item_version_id": versions[ref].id, "n_taken": int(result.n_taken[j]),
         "p": _num(result.p[j]) or 0.0, "r_it": _num(result.r_it[j]), "d27": _num(result.d27[j]),
         "alpha_if_deleted": _num(result.alpha_if_deleted[j]),
         "flags": canonical_json(list(result.flags[j]) if result.flags else []),
         "distractors": canonical_json(_distractor_rows(result.distractors, j))} for j, ref in enumerate(sitting.refs)])
    return record


def _feed_back(versions, sitting: _Sitting, items: list[Item], result, day: str) -> None:
    before = [versions[r].observed_n for r in sitting.refs]
    updated, counts = item_analysis.feed_back(items, result, before, day)
    for ref, item, n in zip(sitting.refs, updated, counts):
        version = versions[ref]
        version.difficulty, version.discrimination = item.difficulty, item.discrimination
        version.last_used, version.observed_n = item.last_used, float(n)
        version.exposure += sitting.paper_counts[ref]


def analysis_of(db: Session, session: ExamSession) -> Optional[ItemAnalysis]:
    return db.execute(select(ItemAnalysis).where(ItemAnalysis.exam_session_id == session.id)).scalar_one_or_none()
