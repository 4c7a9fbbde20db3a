"""Demo question banks: `assessment.demo_bank`'s 数控车工 and 数控铣工 中级 banks with their blueprints and paper
structures, loaded in bulk (about 7,300 item versions in a second or two).

Items keep the status the generator gave them; the workflow timestamps say the demo load did it (no author).
"""
from __future__ import annotations

import dataclasses
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from assessment import demo_bank
from assessment.bank import PaperSpec, Policy, Section

from . import audit
from .audit import canonical_json
from .bank import content_of, spec_json, status_stamps, tree_json
from .models import BankBlueprint, BankItem, BankItemVersion, BankPaperSpec, JobType

# 数控车工 中级: the national format (160 单选 + 40 判断 × 0.5). The smaller 数控铣工 bank (about 130 鉴定点) cannot
# give 200 items on distinct points, so its demo paper has 80 单选 + 20 判断 × 1 point, 90 minutes.
SPECS = {"数控车工": PaperSpec(),
         "数控铣工": PaperSpec(sections=(Section("single", 80, 1.0), Section("true_false", 20, 1.0)), duration_min=90)}


@dataclasses.dataclass
class BankSummary:
    blueprints: int = 0
    items: int = 0


def is_loaded(db: Session, job_type: JobType, level: int) -> bool:
    return db.execute(select(BankItem.id).where(BankItem.job_type_id == job_type.id, BankItem.level == level)
                      .limit(1)).first() is not None


def load_bank(db: Session, now: datetime) -> BankSummary:
    """Load both demo banks in the caller's transaction; a bank already present is left alone."""
    summary = BankSummary()
    for bank in (demo_bank.lathe_bank(), demo_bank.mill_bank()):
        job_type = db.execute(select(JobType).where(JobType.name == bank.blueprint.occupation)).scalar_one()
        if is_loaded(db, job_type, bank.blueprint.level):
            continue
        _load_one(db, job_type, bank, now)
        summary.blueprints += 1
        summary.items += len(bank.items)
    if summary.items:
        audit.record(db, "bank_demo_loaded", actor_name="examctl", object_type="bank", object_id="demo", now=now,
                     data=dataclasses.asdict(summary))
    return summary


def _load_one(db: Session, job_type: JobType, bank: demo_bank.DemoBank, now: datetime) -> None:
    level = bank.blueprint.level
    spec = SPECS[bank.blueprint.occupation]
    db.add(BankBlueprint(job_type_id=job_type.id, level=level, version=bank.blueprint.version,
                         tree=tree_json(bank.blueprint), policy=canonical_json(dataclasses.asdict(Policy())),
                         created_at=now))
    db.add(BankPaperSpec(job_type_id=job_type.id, level=level, version=1, sections=spec_json(spec),
                         duration_min=spec.duration_min, pass_mark=spec.pass_mark, created_at=now))
    db.execute(insert(BankItem), [{"code": i.id, "job_type_id": job_type.id, "level": level, "created_at": now}
                                  for i in bank.items])
    ids = dict(db.execute(select(BankItem.code, BankItem.id).where(BankItem.job_type_id == job_type.id,
                                                                   BankItem.level == level)).all())
    db.execute(insert(BankItemVersion), [
        {"bank_item_id": ids[i.id], "version": i.version, "created_at": now, "observed_n": 0.0,
         **content_of(i), **status_stamps(i.status, None, now)} for i in bank.items])
