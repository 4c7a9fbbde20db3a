"""Delivery use cases: the session state machine, attempts, the time ledger, durable saves, submission."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from cryptography.exceptions import InvalidTag
from hypothesis import settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test
from sqlalchemy import func, select

from exam_server import delivery
from exam_server.accounts import find_user
from exam_server.errors import UserError
from exam_server.models import (AdjustmentKind, Attempt, AuditEvent, ExamSession, Response, RosterEntry, SaveOperation,
                                SubmitKind, utcnow)
from exam_server.timing import GRACE, Phase
from tests.server.conftest import PAPER_KEY, theory_session


def demo_session(db) -> ExamSession:
    return theory_session(db)


def running_session(database, t0):
    with database.transaction() as db:
        session, examiner = demo_session(db), find_user(db, "examiner_nj01")
        delivery.open_check_in(db, session, examiner, t0)
        delivery.start_session(db, session, examiner, t0, PAPER_KEY)
        return session.id


def op(seq, item="q1", value="A", **extra):
    return delivery.SaveOp.parse({"op_id": uuid.uuid4().hex, "seq": seq, "item_id": item, "value": value, **extra})


def test_session_goes_through_its_states_in_order(database):
    t0 = utcnow()
    with database.transaction() as db:
        session, examiner = demo_session(db), find_user(db, "examiner_nj01")
        assert delivery.session_status(session, t0) == "scheduled"
        with pytest.raises(UserError) as refused:
            delivery.start_session(db, session, examiner, t0, PAPER_KEY)       # no start before check-in
        assert refused.value.key == "delivery.session_state"
        pin = delivery.open_check_in(db, session, examiner, t0)
        assert len(pin) == 6 and pin.isdigit() and session.pin_hash and pin not in session.pin_hash
        delivery.start_session(db, session, examiner, t0, PAPER_KEY)
        assert delivery.session_status(session, t0) == "running"
        delivery.pause_session(db, session, examiner, "停电", t0 + timedelta(minutes=10))
        assert delivery.session_status(session, t0) == "paused"
        delivery.resume_session(db, session, examiner, t0 + timedelta(minutes=20))
        assert delivery.session_status(session, t0) == "running"
        delivery.end_session(db, session, examiner, t0 + timedelta(minutes=130))
        assert delivery.session_status(session, t0) == "ended"
    with database.session(write=False) as db:
        log = db.execute(select(AuditEvent.action).order_by(AuditEvent.seq)).scalars().all()
    assert log[-6:] == ["session_check_in_opened", "paper_key_released", "session_started", "session_paused",
                        "session_resumed", "session_ended"]


def test_the_paper_is_sealed_until_the_session_starts(database):
    from exam_server import papers
    from exam_server.models import SealedPaper

    t0 = utcnow()
    with database.transaction() as db:
        session = demo_session(db)
        sealed = db.execute(select(SealedPaper)).scalar_one()
        assert "数控车工" not in sealed.ciphertext.decode("utf-8", "replace")   # the stems are not readable
        assert session.paper_data_key is None
        examiner = find_user(db, "examiner_nj01")
        delivery.open_check_in(db, session, examiner, t0)
        with pytest.raises(InvalidTag):                                     # a wrong paper key opens nothing
            delivery.start_session(db, session, examiner, t0, bytes(32))
    with database.transaction() as db:
        session = demo_session(db)
        delivery.start_session(db, session, find_user(db, "examiner_nj01"), t0, PAPER_KEY)
        attempt = delivery.start_attempt(db, session.roster[0], t0)
        paper = papers.paper_for(db, attempt)
        assert len(paper["items"]) == 20 and paper["items"][0]["key"] == "B"  # q01: G99 = 每转进给 (B)
        view = papers.candidate_view(paper, papers.seed_of(attempt, paper))
        assert all("key" not in item for item in view["items"])
        assert sorted(i["id"] for i in view["items"]) == sorted(i["id"] for i in paper["items"])


def test_pause_gives_every_attempt_its_time_back(database):
    t0 = utcnow()
    running_session(database, t0)
    with database.transaction() as db:
        session, examiner = demo_session(db), find_user(db, "examiner_nj01")
        attempt = delivery.start_attempt(db, session.roster[0], t0 + timedelta(minutes=1))
        delivery.pause_session(db, session, examiner, "网络故障", t0 + timedelta(minutes=30))
        assert delivery.clock(attempt, t0 + timedelta(minutes=45)).phase is Phase.paused
        delivery.resume_session(db, session, examiner, t0 + timedelta(minutes=42))
        # started at +1, 120 minutes, 12 minutes paused: deadline at +133
        assert delivery.clock(attempt, t0 + timedelta(minutes=50)).deadline == t0 + timedelta(minutes=133)


def test_time_ledger_adds_and_reverts(database):
    t0 = utcnow()
    running_session(database, t0)
    with database.transaction() as db:
        session, examiner = demo_session(db), find_user(db, "examiner_nj01")
        attempt = delivery.start_attempt(db, session.roster[0], t0)
        entry = delivery.adjust_time(db, attempt, 600, AdjustmentKind.incident, "死机重启", examiner, t0)
        assert delivery.clock(attempt, t0).remaining_ms == 130 * 60_000
        with pytest.raises(UserError):
            delivery.adjust_time(db, attempt, 600, AdjustmentKind.incident, "  ", examiner, t0)
        delivery.revert_adjustment(db, entry, examiner, t0 + timedelta(minutes=1))
        assert delivery.clock(attempt, t0 + timedelta(minutes=1)).remaining_ms == 119 * 60_000
        with pytest.raises(UserError):
            delivery.revert_adjustment(db, entry, examiner, t0)


def test_saves_are_idempotent_and_ordered_by_seq(database):
    t0 = utcnow()
    running_session(database, t0)
    with database.transaction() as db:
        attempt = delivery.start_attempt(db, demo_session(db).roster[0], t0)
        first = op(2, value="B")
        assert delivery.apply_save(db, attempt, first, t0).applied
        assert not delivery.apply_save(db, attempt, op(1, value="A"), t0).applied     # older: logged, not applied
        again = delivery.apply_save(db, attempt, first, t0)
        assert again.duplicate and again.seq == 2
        assert delivery.responses_of(db, attempt)["q1"]["value"] == "B"
        assert attempt.last_seq == 2
        assert db.execute(select(func.count()).select_from(SaveOperation)).scalar_one() == 2


@pytest.mark.parametrize("payload", [
    None, [], {"op_id": "short", "seq": 1, "item_id": "q1"}, {"op_id": "x" * 20, "seq": 0, "item_id": "q1"},
    {"op_id": "x" * 20, "seq": True, "item_id": "q1"}, {"op_id": "x" * 20, "seq": 1, "item_id": ""},
    {"op_id": "x" * 20, "seq": 1, "item_id": "q1", "value": "x" * 5000},
    {"op_id": "x" * 20, "seq": 1, "item_id": "q1", "surprise": 1},
])
def test_malformed_operations_are_refused(payload):
    with pytest.raises(UserError) as refused:
        delivery.SaveOp.parse(payload)
    assert refused.value.key == "delivery.bad_op"


def test_submission_receipt_and_closed_attempt(database):
    t0 = utcnow()
    running_session(database, t0)
    with database.transaction() as db:
        attempt = delivery.start_attempt(db, demo_session(db).roster[0], t0)
        for seq, item in enumerate(("q1", "q2", "q3"), start=1):
            delivery.apply_save(db, attempt, op(seq, item=item), t0)
        receipt = delivery.submit(db, attempt, attempt.roster_entry.candidate, t0 + timedelta(minutes=5))
        assert receipt["answers"] == 3 and len(receipt["hash"]) == 64
        with pytest.raises(UserError) as refused:
            delivery.apply_save(db, attempt, op(9), t0 + timedelta(minutes=6))
        assert refused.value.key == "delivery.attempt_closed"
        with pytest.raises(UserError):
            delivery.submit(db, attempt, attempt.roster_entry.candidate, t0 + timedelta(minutes=6))


def test_sweeper_closes_abandoned_attempts_at_their_deadline(database):
    t0 = utcnow()
    running_session(database, t0)
    with database.transaction() as db:
        entries = demo_session(db).roster
        abandoned = delivery.start_attempt(db, entries[0], t0)
        extended = delivery.start_attempt(db, entries[1], t0)
        examiner = find_user(db, "examiner_nj01")
        delivery.adjust_time(db, extended, 1800, AdjustmentKind.accommodation, "听障考生", examiner, t0)
    deadline = t0 + timedelta(minutes=120)
    with database.transaction() as db:
        assert delivery.sweep(db, deadline + GRACE) == 0               # still inside the grace window
    with database.transaction() as db:
        assert delivery.sweep(db, deadline + GRACE + timedelta(seconds=1)) == 1
    with database.session(write=False) as db:
        closed = db.get(type(abandoned), abandoned.id)
        assert closed.submit_kind is SubmitKind.expired and closed.submitted_at == deadline
        assert db.get(type(extended), extended.id).submitted_at is None


def test_sweeper_sees_shortened_attempts_and_spares_paused_ones(database):
    """The sweep's cheap pre-filter (start + duration + ledger) must not miss an attempt whose time was cut and
    must leave one whose deadline a pause moved later."""
    t0 = utcnow()
    running_session(database, t0)
    with database.transaction() as db:
        session, examiner = demo_session(db), find_user(db, "examiner_nj01")
        shortened = delivery.start_attempt(db, session.roster[0], t0)
        delivery.adjust_time(db, shortened, -3600, AdjustmentKind.incident, "录入错误更正", examiner, t0)
        delivery.start_attempt(db, session.roster[1], t0)
    with database.transaction() as db:                  # 120 − 60 = 60 minutes for the first
        assert delivery.sweep(db, t0 + timedelta(minutes=60) + GRACE + timedelta(seconds=1)) == 1
    with database.transaction() as db:                  # a 30-minute pause: the second ends at 150 minutes
        session = demo_session(db)
        delivery.pause_session(db, session, examiner, "停电", t0 + timedelta(minutes=70))
        delivery.resume_session(db, session, examiner, t0 + timedelta(minutes=100))
    with database.transaction() as db:
        assert delivery.sweep(db, t0 + timedelta(minutes=121) + GRACE) == 0
        assert delivery.sweep(db, t0 + timedelta(minutes=150) + GRACE + timedelta(seconds=1)) == 1


def test_save_protocol_under_reorder_duplicates_drops_and_restarts(database):
    """Hypothesis state machine: whatever the network does, the database ends equal to the client's last
    acknowledged state, and once the outbox is flushed, to everything the candidate typed."""
    t0 = utcnow()
    counter = iter(range(1, 10_000))

    class SaveProtocol(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            with database.transaction() as db:
                template = demo_session(db)
                session = ExamSession(exam_id=template.exam_id, part=template.part, room=f"r{next(counter)}",
                                      organisation_id=template.organisation_id, duration_s=7200,
                                      scheduled_start_at=t0, check_in_opened_at=t0, started_at=t0)
                entry = RosterEntry(exam_session=session, candidate=find_user(db, "ks011"), seat="01",
                                    ticket_number=uuid.uuid4().hex[:20])
                db.add(entry)
                db.flush()
                self.attempt_id = delivery.start_attempt(db, entry, t0).id
            self.seq = 0
            self.outbox: list[delivery.SaveOp] = []
            self.sent: list[delivery.SaveOp] = []
            self.typed: dict[str, str] = {}
            self.acked: dict[str, tuple[int, str]] = {}

        def _deliver(self, save, ack_lost: bool):
            with database.transaction() as db:
                attempt = db.get(Attempt, self.attempt_id)
                delivery.apply_save(db, attempt, save, t0)
            if not ack_lost:                                      # the ack arrives only after the commit
                if save in self.outbox:
                    self.outbox.remove(save)
                best = self.acked.get(save.item_id)
                if best is None or save.seq > best[0]:
                    self.acked[save.item_id] = (save.seq, save.value)

        @rule(item=st.sampled_from(["q1", "q2", "q3"]), value=st.sampled_from(["A", "B", "C", "D"]))
        def type_answer(self, item, value):
            self.seq += 1
            save = op(self.seq, item=item, value=value)
            self.outbox.append(save)
            self.sent.append(save)
            self.typed[item] = value

        @precondition(lambda self: self.outbox)
        @rule(pick=st.integers(0, 50), ack_lost=st.booleans())
        def deliver_any(self, pick, ack_lost):
            self._deliver(self.outbox[pick % len(self.outbox)], ack_lost)

        @precondition(lambda self: self.sent)
        @rule(pick=st.integers(0, 50))
        def duplicate_old(self, pick):
            self._deliver(self.sent[pick % len(self.sent)], ack_lost=True)

        @rule()
        def server_restart(self):
            database.dispose()                                    # connections die; the data stays

        @invariant()
        def stored_is_never_older_than_acked(self):
            with database.session(write=False) as db:
                stored = {r.item_id: (r.seq, r.value) for r in
                          db.execute(select(Response).where(Response.attempt_id == self.attempt_id)).scalars()}
            for item, (seq, _value) in self.acked.items():
                assert stored[item][0] >= seq

        def teardown(self):
            while self.outbox:                                    # reconnect: flush the outbox in any order
                self._deliver(self.outbox[-1], ack_lost=False)
            with database.session(write=False) as db:
                stored = {r.item_id: r.value for r in
                          db.execute(select(Response).where(Response.attempt_id == self.attempt_id)).scalars()}
            assert stored == {item: f'"{value}"' for item, value in self.typed.items()}

    run_state_machine_as_test(SaveProtocol, settings=settings(max_examples=25, stateful_step_count=25,
                                                              deadline=None))
