"""Competition use cases through the JSON API and the use-case layer: setup, registration, scores, freeze,
reveal by the chief examiner, awards, audit, and who may see what."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from exam_server import competitions
from exam_server.accounts import find_user
from exam_server.models import AuditEvent, Competition, CompetitionEntry, utcnow

ROUNDS = [{"key": "theory", "name": "理论", "part": "theory", "weight_percent": 30},
          {"key": "turning", "name": "数控车实操", "part": "practical", "weight_percent": 70}]


def create(browser, freeze_minutes=30, **extra) -> int:
    now = utcnow()
    body = {"name": "2026年江苏省数控车工技能竞赛", "starts_at": (now + timedelta(hours=1)).isoformat(),
            "ends_at": (now + timedelta(hours=4)).isoformat(), "freeze_minutes": freeze_minutes,
            "rounds": ROUNDS, "chief_examiner": "examiner_nj01", **extra}
    response = browser.post_json("/api/competitions", body)
    assert response.status_code == 200, response.json
    return response.json["id"]


def set_up(browser, entries=(("N01", "王伟", 0), ("N02", "李娜", 0), ("S01", "张敏", 1))) -> tuple[int, list[int]]:
    """nj_admin sets up a competition with two delegations and three contestants."""
    browser.login("nj_admin")
    competition_id = create(browser)
    delegations = [browser.post_json(f"/api/competitions/{competition_id}/delegations",
                                     {"name": name, "colour": colour}).json["id"]
                   for name, colour in (("南京代表队", "#E63946"), ("苏州代表队", "#457b9d"))]
    ids = []
    for bib, name, delegation in entries:
        response = browser.post_json(f"/api/competitions/{competition_id}/entries",
                                     {"delegation_id": delegations[delegation], "bib": bib, "name": name})
        assert response.status_code == 200, response.json
        ids.append(response.json["id"])
    return competition_id, ids


def move_clock(database, competition_id, *, started_ago=None, ends_in=None):
    """Shift the competition's times instead of waiting for them."""
    with database.transaction() as db:
        competition = db.get(Competition, competition_id)
        now = utcnow()
        if started_ago is not None:
            competition.starts_at = now - started_ago
        if ends_in is not None:
            competition.ends_at = now + ends_in


def score(database, entry_id, part, value, at):
    with database.transaction() as db:
        competitions.record_score(db, db.get(CompetitionEntry, entry_id), part, value, "0", at, "grading")


def test_setup_registration_and_the_public_feed_ranks_by_weighted_total(browser, client, database):
    competition_id, (a, b, c) = set_up(browser)
    move_clock(database, competition_id, started_ago=timedelta(minutes=5))
    now = utcnow()
    # a: 0.3*90 + 0.7*80 = 83;  b: 0.3*70 + 0.7*95 = 87.5;  c: 0.3*100 = 30 (no practical yet)
    for entry_id, part, value in ((a, "theory", "90"), (a, "turning", "80"), (b, "theory", "70"),
                                  (b, "turning", "95"), (c, "theory", "100")):
        score(database, entry_id, part, value, now)
    feed = browser.client.application.test_client().get(f"/api/competitions/{competition_id}/board").json
    assert [(r["id"], r["rank"], r["total"]) for r in feed["rows"]] == [(b, 1, "87.5"), (a, 2, "83"), (c, 3, "30")]
    assert feed["rows"][1]["reason"] == "total 87.5 > 83"
    assert feed["rows"][0]["colour"] == "#e63946" and feed["rows"][2]["delegation"] == "苏州代表队"
    with database.transaction() as db:
        actions = db.execute(select(AuditEvent.action).where(AuditEvent.action.like("competition.%"))).scalars().all()
    assert actions.count("competition.register") == 3 and actions.count("competition.score") == 5
    assert "competition.create" in actions


def test_setup_refuses_bad_weights_and_late_registration(browser, database):
    browser.login("nj_admin")
    bad = dict(ROUNDS[0], weight_percent=40)
    response = browser.post_json("/api/competitions", {
        "name": "x", "starts_at": utcnow().isoformat(), "ends_at": (utcnow() + timedelta(hours=1)).isoformat(),
        "rounds": [bad, ROUNDS[1]], "chief_examiner": "examiner_nj01"})
    assert response.status_code == 400 and response.json["error"]["code"] == "competition.error.weights"
    competition_id, _ = set_up(browser)
    move_clock(database, competition_id, started_ago=timedelta(minutes=1))
    with database.transaction() as db:
        delegation_id = db.get(Competition, competition_id).delegations[0].id
    response = browser.post_json(f"/api/competitions/{competition_id}/entries",
                                 {"delegation_id": delegation_id, "bib": "N09", "name": "迟到"})
    assert response.status_code == 409 and response.json["error"]["code"] == "competition.error.started"


def test_freeze_hides_changes_from_the_public_but_not_from_examiners(browser, new_browser, database):
    competition_id, (a, b, c) = set_up(browser)
    # 30-minute freeze; the competition ends in 10 minutes, so the freeze began 20 minutes ago.
    move_clock(database, competition_id, started_ago=timedelta(hours=2), ends_in=timedelta(minutes=10))
    now = utcnow()
    score(database, a, "turning", "80", now - timedelta(minutes=40))    # before the freeze: 56
    score(database, b, "turning", "70", now - timedelta(minutes=40))    # 49
    score(database, b, "turning", "100", now - timedelta(minutes=5))    # regrade during the freeze: 70
    anonymous = new_browser()
    public = anonymous.get(f"/api/competitions/{competition_id}/board").json
    assert [(r["id"], r["total"]) for r in public["rows"]][:2] == [(a, "56"), (b, "49")]
    examiner = new_browser()
    examiner.login("examiner_nj02")
    live = examiner.get(f"/api/competitions/{competition_id}/live").json
    assert [(r["id"], r["total"]) for r in live["rows"]][:2] == [(b, "70"), (a, "56")]


def test_reveal_only_by_the_chief_after_the_end_then_awards(browser, new_browser, database):
    competition_id, (a, b, c) = set_up(browser)
    move_clock(database, competition_id, started_ago=timedelta(hours=2), ends_in=timedelta(minutes=10))
    now = utcnow()
    score(database, a, "turning", "80", now - timedelta(minutes=40))    # 56, before the freeze
    score(database, c, "turning", "100", now - timedelta(minutes=5))    # 70, hidden
    chief, other = new_browser(), new_browser()
    chief.login("examiner_nj01")
    other.login("examiner_nj02")
    url = f"/api/competitions/{competition_id}/reveal"
    assert chief.post_json(url).json["error"]["code"] == "competition.error.not_ended"
    move_clock(database, competition_id, ends_in=timedelta(minutes=-1))
    assert other.post_json(url).status_code == 403
    # Public: a 56, then b and c tied on 0, listed by name in code-point order: 张 (U+5F20) before 李 (U+674E),
    # so b (李娜) is last: revealed first, nothing hidden, stays at the shared rank 2.
    step = chief.post_json(url).json
    assert (step["entry_id"], step["from_rank"], step["to_rank"], step["changed"]) == (b, 2, 2, False)
    # Then c: 0.7*100 = 70 → rank 1.
    step = chief.post_json(url).json
    assert (step["entry_id"], step["from_rank"], step["to_rank"], step["changed"]) == (c, 2, 1, True)
    public = new_browser().get(f"/api/competitions/{competition_id}/board").json
    assert [r["id"] for r in public["rows"]] == [c, a, b]
    assert browser.post_json(f"/api/competitions/{competition_id}/awards",
                             {"counts": [1, 1, 1]}).json["error"]["code"] == "competition.error.not_final"
    last = chief.post_json(url).json
    assert last["entry_id"] == a and last["done"] is True
    assert chief.post_json(url).json == {"done": True}
    # By share of 3 entries: gold floor(0.34*3) = 1, silver floor(0.34*3) = 1, bronze floor(0.34*3) = 1.
    awards = browser.post_json(f"/api/competitions/{competition_id}/awards", {"shares": ["0.34", "0.34", "0.34"]})
    assert [(x["entry_id"], x["medal"]) for x in awards.json["awards"]] == [(c, "gold"), (a, "silver"), (b, "bronze")]
    sign_and_verify_awards(database, competition_id, c)


def sign_and_verify_awards(database, competition_id, gold_entry):
    """The awards' records are signed with Ed25519 and verify under the published key, like certificates."""
    import json

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from exam_server.certificate_signing import SignatureError, SignedRecord, verify
    from exam_server.models import CompetitionAward

    key = Ed25519PrivateKey.generate()
    with database.transaction() as db:
        competition = db.get(Competition, competition_id)
        signed = competitions.sign_awards(db, competition, key, find_user(db, "nj_admin"), utcnow())
    assert len(signed) == 3
    with database.transaction() as db:
        gold = db.execute(select(CompetitionAward).where(CompetitionAward.entry_id == gold_entry)).scalar_one()
        record = SignedRecord(json.loads(gold.record_json), gold.key_id, gold.signature)
    assert verify(record, {gold.key_id: key.public_key()})["medal"] == "gold"
    assert record.record["name"] == "张敏" and record.record["delegation"] == "苏州代表队"
    forged = SignedRecord({**record.record, "medal": "silver"}, record.key_id, record.signature)
    with pytest.raises(SignatureError):
        verify(forged, {gold.key_id: key.public_key()})


def test_access(browser, new_browser, database):
    competition_id, _ = set_up(browser)
    anonymous = new_browser()
    assert anonymous.get(f"/competitions/{competition_id}/board").status_code == 200
    assert anonymous.get(f"/api/competitions/{competition_id}/board").status_code == 200
    assert anonymous.get(f"/api/competitions/{competition_id}/live").status_code == 401
    assert anonymous.get(f"/api/competitions/{competition_id + 99}/board").status_code == 404
    suzhou = new_browser()
    suzhou.login("examiner_sz01")     # another city's examiner: the competition does not exist for them
    assert suzhou.get(f"/api/competitions/{competition_id}/live").status_code == 404
    assert suzhou.post_json(f"/api/competitions/{competition_id}/reveal").status_code == 404
    sz_admin = new_browser()
    sz_admin.login("sz_admin")
    assert sz_admin.post_json(f"/api/competitions/{competition_id}/delegations",
                              {"name": "x", "colour": "#000000"}).status_code == 403
    nanjing = new_browser()
    nanjing.login("examiner_nj01")
    assert nanjing.post_json("/api/competitions", {}).status_code == 403
    assert nanjing.get(f"/competitions/{competition_id}/live").status_code == 200
    assert nanjing.get(f"/competitions/{competition_id}").status_code == 200


def test_a_rolled_back_score_changes_nothing(app, database, browser):
    competition_id, (a, _, _) = set_up(browser)
    with app.app_context():
        from exam_server.leaderboard import board
        before = board.board_for(app, competition_id).live.version
        with pytest.raises(RuntimeError):
            with database.transaction() as db:
                competitions.record_score(db, db.get(CompetitionEntry, a), "theory", "50", "0", utcnow(), "grading")
                raise RuntimeError("grading failed after recording")
        assert board.board_for(app, competition_id).live.version == before
        with database.transaction() as db:
            competitions.record_score(db, db.get(CompetitionEntry, a), "theory", "50", "0", utcnow(), "grading")
        assert board.board_for(app, competition_id).live.version == before + 1


def test_find_user_is_the_chief(database, browser):
    competition_id, _ = set_up(browser)
    with database.transaction() as db:
        assert db.get(Competition, competition_id).chief_examiner_id == find_user(db, "examiner_nj01").id


def test_setup_through_the_pages(browser, database):
    """The organiser's forms: create (Beijing time), add a delegation, register an entry."""
    browser.login("nj_admin")
    response = browser.post("/competitions", {"name": "表单竞赛", "starts_at": "2030-05-01T09:00",
                                              "ends_at": "2030-05-01T12:00", "freeze_minutes": "30",
                                              "theory_weight": "40", "chief_examiner": "examiner_nj01"})
    assert response.status_code == 302
    page = response.headers["Location"]
    competition_id = int(page.rstrip("/").rsplit("/", 1)[1])
    assert browser.post(f"/competitions/{competition_id}/delegations",
                        {"name": "南京代表队", "colour": "#112233"}).status_code == 302
    with database.transaction() as db:
        competition = db.get(Competition, competition_id)
        # 09:00 Beijing = 01:00 UTC; weights 40 / 60
        assert competition.starts_at.hour == 1 and [r.weight_percent for r in competition.rounds] == [40, 60]
        delegation_id = competition.delegations[0].id
    assert browser.post(f"/competitions/{competition_id}/entries",
                        {"delegation_id": str(delegation_id), "bib": "N01", "name": "王伟"}).status_code == 302
    text = browser.get(page).get_data(as_text=True)
    assert "南京代表队" in text and "N01" in text and "王伟" in text
    assert "表单竞赛" in browser.get("/competitions").get_data(as_text=True)


def test_a_graded_attempt_reaches_the_round_that_runs_on_its_session(database):
    """A round bound to the demo exam session; the attempt's candidate is a registered contestant."""
    from exam_server.models import Attempt, ExamSession, Organisation

    now = utcnow()
    with database.transaction() as db:
        session = db.execute(select(ExamSession)).scalars().first()
        roster = session.roster[0]
        nanjing = db.execute(select(Organisation).where(Organisation.code == "JS-NJ")).scalar_one()
        admin = find_user(db, "nj_admin")
        rounds = [dict(ROUNDS[0], exam_session_id=session.id), ROUNDS[1]]
        competition = competitions.create_competition(
            db, nanjing, "绑定场次", starts_at=now + timedelta(minutes=1), ends_at=now + timedelta(hours=2),
            freeze_minutes=0, rounds=rounds, chief_examiner=find_user(db, "examiner_nj01"), actor=admin, now=now)
        delegation = competitions.add_delegation(db, competition, "南京", "#000000", admin, now)
        entry = competitions.register_entry(db, delegation, "N01", roster.candidate.display_name, admin, now,
                                            (roster.candidate,))
        attempt = Attempt(roster_entry_id=roster.id, started_at=now) if roster.attempt is None else roster.attempt
        db.add(attempt)
        db.flush()
        events = competitions.record_graded_attempt(db, attempt, "88.5", "0", now)
        # only the theory round runs on this session: one event, 88.5 points = 88500 thousandths
        assert [(e.entry_id, e.round_id, e.score_milli) for e in events] == [
            (entry.id, competition.rounds[0].id, 88500)]
        # a candidate who is not a contestant scores nothing on the board
        stranger = session.roster[1]
        stranger_attempt = stranger.attempt or Attempt(roster_entry_id=stranger.id, started_at=now)
        db.add(stranger_attempt)
        db.flush()
        assert competitions.record_graded_attempt(db, stranger_attempt, "70", "0", now) == []


def test_the_create_form_binds_rounds_to_exam_sessions_of_their_part(browser, database):
    """A round bound to a session of the organiser's subtree receives its graded attempts; a session of the
    other part is refused."""
    from exam_server.models import ExamPart, ExamSession

    with database.session(write=False) as db:
        theory = db.execute(select(ExamSession).where(ExamSession.part == ExamPart.theory)).scalars().first()
        practical = db.execute(select(ExamSession).where(ExamSession.part == ExamPart.practical)).scalars().first()
        theory_id, practical_id = theory.id, practical.id
    browser.login("nj_admin")
    form = {"name": "绑定场次的竞赛", "starts_at": "2030-05-01T09:00", "ends_at": "2030-05-01T12:00",
            "freeze_minutes": "0", "theory_weight": "30", "chief_examiner": "examiner_nj01"}
    assert f'<option value="{theory_id}">' in browser.get("/competitions").get_data(as_text=True)
    assert browser.post("/competitions", {**form, "theory_session": str(practical_id)}).status_code == 400
    response = browser.post("/competitions", {**form, "theory_session": str(theory_id)})
    assert response.status_code == 302
    competition_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    with database.session(write=False) as db:
        rounds = db.get(Competition, competition_id).rounds
        assert [(r.part, r.exam_session_id) for r in rounds] == [("theory", theory_id), ("practical", None)]
    assert f"考试场次 #{theory_id}" in browser.get(f"/competitions/{competition_id}").get_data(as_text=True)
