"""Competition routes: setup (admins), the examiners' live page and feed, the chief examiner's reveal, awards and
their certificates (issued by the chief examiner or an organiser, revoked by an organiser), and — public — the
projection page for the hall's large screen and its JSON feed. The public award certificate lookup and the QR
code's verification page are with the certificates (views/certificates.py), under the same limits.

Every write commits first; the board hears of it after the commit (competitions.publish_after_commit)."""
from __future__ import annotations

from datetime import datetime, timezone

from zoneinfo import ZoneInfo

from flask import (Blueprint, Response, abort, current_app, flash, g, jsonify, redirect, render_template, request,
                   url_for)
from sqlalchemy import select

from .. import award_certificates, certificates, competitions, i18n, openapi
from ..accounts import find_user
from ..certificate_pdf import render_award
from ..certificate_signing import qr_payload
from ..errors import UserError
from ..leaderboard import board
from ..models import Competition, CompetitionAward, CompetitionEntry, Delegation, ExamSession, Role
from ..security.access import public, requires
from ..web import get_db, json_body

bp = Blueprint("competitions", __name__)

ORGANISERS = (Role.provincial_admin, Role.centre_admin)
LIVE_VIEWERS = (Role.examiner, Role.supervisor, Role.station_manager, Role.centre_admin, Role.provincial_admin)
OBJECT = {"type": "object"}
CREATE_SCHEMA = {"type": "object", "required": ["name", "starts_at", "ends_at", "rounds", "chief_examiner"],
                 "properties": {"name": {"type": "string", "maxLength": 200}, "starts_at": {"type": "string"},
                                "ends_at": {"type": "string"}, "freeze_minutes": {"type": "integer"},
                                "rounds": {"type": "array"}, "tie_breaks": {"type": "array"},
                                "chief_examiner": {"type": "string"}, "team": {"type": "boolean"}}}
DELEGATION_SCHEMA = {"type": "object", "required": ["name", "colour"], "properties": {
    "name": {"type": "string", "maxLength": 100}, "colour": {"type": "string", "maxLength": 7}}}
ENTRY_SCHEMA = {"type": "object", "required": ["delegation_id", "bib", "name"], "properties": {
    "delegation_id": {"type": "integer"}, "bib": {"type": "string", "maxLength": 20},
    "name": {"type": "string", "maxLength": 100}, "members": {"type": "array"}}}
SCORE_SCHEMA = {"type": "object", "required": ["entry_id", "round", "score"], "properties": {
    "entry_id": {"type": "integer"}, "round": {"type": "string"}, "score": {"type": "string"},
    "deductions": {"type": "string"}, "time_used_s": {"type": "integer"}, "source": {"type": "string"}}}
AWARD_SCHEMA = {"type": "object", "properties": {"shares": {"type": "array"}, "counts": {"type": "array"}}}
BOARD_MESSAGES = ("board.", "competition.")
CHINA = ZoneInfo("Asia/Shanghai")     # the forms' datetime-local fields are Beijing time


def competition_organisation(competition_id: int, **_):
    competition = get_db().get(Competition, competition_id)
    return competition.organisation if competition else None


def _watched(competition_id: int) -> Competition:
    """The competition, for a staff member of its organisation's tree: above it (organisers, supervisors) or
    below it (the stations' examiners who judge it); 404 for anyone else, so ids cannot be probed."""
    competition = get_db().get(Competition, competition_id)
    if competition is None or not any(related(a.organisation, competition.organisation) for a in g.assignments):
        abort(404)
    return competition


def related(organisation, other) -> bool:
    return organisation.contains(other) or other.contains(organisation)


def _competition(competition_id: int) -> Competition:
    competition = get_db().get(Competition, competition_id)
    if competition is None:
        abort(404)
    return competition


def _time(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise UserError("competition.error.times") from None
    return value.astimezone(timezone.utc) if value.tzinfo else value.replace(tzinfo=timezone.utc)


def board_messages() -> dict[str, str]:
    return {k: v for k, v in i18n.catalogue(g.locale).items() if k.startswith(BOARD_MESSAGES)}


def _board_json(competition_id: int, view: str) -> Response:
    current = board.board_for(current_app._get_current_object(), competition_id)
    if current is None:
        abort(404)
    return Response(current.as_json(view), mimetype="application/json")


# ---- public --------------------------------------------------------------------------------------------------

@bp.get("/competitions/<int:competition_id>/board")
@public
def projection(competition_id: int):
    """The large-screen page (zh-CN by default): read-only, no sign-in."""
    return render_template("competitions/board.html", competition=_competition(competition_id),
                           messages=board_messages(), view=board.PUBLIC)


@bp.get("/api/competitions/<int:competition_id>/board")
@public
@openapi.documented("The public leaderboard (frozen during the freeze): rows in rank order with each rank's "
                    "reason; `version` orders it against the socket's diffs", tags=("public",),
                    responses={200: OBJECT})
def public_feed(competition_id: int):
    return _board_json(competition_id, board.PUBLIC)


# ---- examiners ---------------------------------------------------------------------------------------------

@bp.get("/competitions/<int:competition_id>/live")
@requires(*LIVE_VIEWERS)
def live_page(competition_id: int):
    competition = _watched(competition_id)
    return render_template("competitions/board.html", competition=competition, messages=board_messages(),
                           view=board.LIVE, is_chief=g.user.id == competition.chief_examiner_id)


@bp.get("/api/competitions/<int:competition_id>/live")
@requires(*LIVE_VIEWERS)
@openapi.documented("The live leaderboard, never frozen", tags=("examiner",), responses={200: OBJECT})
def live_feed(competition_id: int):
    _watched(competition_id)
    return _board_json(competition_id, board.LIVE)


@bp.post("/api/competitions/<int:competition_id>/scores")
@requires(Role.examiner)
@openapi.documented("Record a score by hand (a manual mark or a correction)", tags=("examiner",),
                    request=SCORE_SCHEMA, responses={200: OBJECT})
def record_score(competition_id: int):
    body = json_body(SCORE_SCHEMA)
    db = get_db()
    _watched(competition_id)
    entry = db.get(CompetitionEntry, body["entry_id"])
    if entry is None or entry.competition_id != competition_id:
        abort(404)
    row = competitions.record_score(db, entry, body["round"], body["score"], body.get("deductions", "0"), g.now,
                                    body.get("source", "manual"), time_used_s=body.get("time_used_s", 0),
                                    actor=g.user, now=g.now)
    db.commit()
    return jsonify(event_id=row.id)


@bp.post("/api/competitions/<int:competition_id>/reveal")
@requires(Role.examiner)
@openapi.documented("The chief examiner reveals the next entry, bottom-up, after the end", tags=("examiner",),
                    responses={200: OBJECT})
def reveal(competition_id: int):
    db = get_db()
    step = competitions.reveal_next(db, _watched(competition_id), g.user, g.now)
    db.commit()
    if step is None:
        return jsonify(done=True)
    return jsonify(done=step.state.unfrozen, entry_id=step.entry_id, from_rank=step.from_rank,
                   to_rank=step.to_rank, changed=step.changed)


# ---- setup ---------------------------------------------------------------------------------------------------

@bp.get("/competitions")
@requires(*LIVE_VIEWERS)
def index():
    db = get_db()
    rows = db.execute(select(Competition).order_by(Competition.starts_at.desc())).scalars().all()
    visible = [c for c in rows if any(related(a.organisation, c.organisation) for a in g.assignments)]
    organising = [a for a in g.assignments if a.role in ORGANISERS]
    sessions = [s for s in db.execute(select(ExamSession).order_by(ExamSession.scheduled_start_at.desc())
                                      .limit(200)).scalars()
                if any(a.organisation.contains(s.organisation) for a in organising)]
    return render_template("competitions/index.html", competitions=visible, may_organise=bool(organising),
                           sessions=sessions)


@bp.get("/competitions/<int:competition_id>")
@requires(*LIVE_VIEWERS)
def setup_page(competition_id: int):
    competition = _watched(competition_id)
    awards = get_db().execute(select(CompetitionAward).where(CompetitionAward.competition_id == competition.id)
                              .order_by(CompetitionAward.rank)).scalars().all()
    return render_template("competitions/setup.html", competition=competition, awards=awards,
                           may_organise=any(a.role in ORGANISERS for a in g.assignments),
                           is_chief=g.user.id == competition.chief_examiner_id)


@bp.post("/api/competitions")
@requires(*ORGANISERS)
@openapi.documented("Set up a competition with its rounds (weights add up to 100) and tie-breaks",
                    tags=("competition",), request=CREATE_SCHEMA, responses={200: OBJECT})
def create():
    body = json_body(CREATE_SCHEMA)
    db = get_db()
    chief = find_user(db, body["chief_examiner"])
    if chief is None or not any(a.role is Role.examiner for a in chief.active_roles()):
        raise UserError("competition.error.chief")
    organisation = g.assignments[0].organisation
    competition = competitions.create_competition(
        db, organisation, body["name"], starts_at=_time(body["starts_at"]), ends_at=_time(body["ends_at"]),
        freeze_minutes=body.get("freeze_minutes", 0), rounds=body["rounds"], chief_examiner=chief, actor=g.user,
        now=g.now, team=body.get("team", False),
        tie_breaks=tuple(body.get("tie_breaks", competitions.ranking.DEFAULT_TIE_BREAKS)))
    db.commit()
    return jsonify(id=competition.id)


@bp.post("/api/competitions/<int:competition_id>/delegations")
@requires(*ORGANISERS, scope=competition_organisation)
@openapi.documented("Add a delegation with its colour (#rrggbb)", tags=("competition",),
                    request=DELEGATION_SCHEMA, responses={200: OBJECT})
def add_delegation(competition_id: int):
    body = json_body(DELEGATION_SCHEMA)
    db = get_db()
    delegation = competitions.add_delegation(db, _competition(competition_id), body["name"], body["colour"],
                                             g.user, g.now)
    db.commit()
    return jsonify(id=delegation.id)


@bp.post("/api/competitions/<int:competition_id>/entries")
@requires(*ORGANISERS, scope=competition_organisation)
@openapi.documented("Register a contestant or a team for a delegation (members by username)",
                    tags=("competition",), request=ENTRY_SCHEMA, responses={200: OBJECT})
def register_entry(competition_id: int):
    body = json_body(ENTRY_SCHEMA)
    db = get_db()
    delegation = db.get(Delegation, body["delegation_id"])
    if delegation is None or delegation.competition_id != competition_id:
        abort(404)
    members = tuple(find_user(db, str(name)) for name in body.get("members", []))
    if any(m is None for m in members):
        raise UserError("competition.error.entry")
    entry = competitions.register_entry(db, delegation, body["bib"], body["name"], g.user, g.now, members)
    db.commit()
    return jsonify(id=entry.id)


@bp.post("/api/competitions/<int:competition_id>/awards")
@requires(*ORGANISERS, scope=competition_organisation)
@openapi.documented("Award gold, silver and bronze on the final ranking, by shares (e.g. [\"0.1\", \"0.2\", "
                    "\"0.3\"]) or by counts", tags=("competition",), request=AWARD_SCHEMA, responses={200: OBJECT})
def award(competition_id: int):
    body = json_body(AWARD_SCHEMA)
    db = get_db()
    shares = tuple(str(s) for s in body["shares"]) if "shares" in body else None
    counts = tuple(int(c) for c in body["counts"]) if "counts" in body else None
    awards = competitions.award(db, _competition(competition_id), g.user, g.now, shares=shares, counts=counts)
    db.commit()
    return jsonify(awards=[{"entry_id": a.entry_id, "medal": a.medal, "rank": a.rank, "total": a.total}
                           for a in awards])


# ---- the setup forms (the same use cases as the JSON routes) -------------------------------------------------

def _form_time(name: str) -> datetime:
    try:
        return datetime.fromisoformat(request.form.get(name, "")).replace(tzinfo=CHINA).astimezone(timezone.utc)
    except ValueError:
        raise UserError("competition.error.times") from None


def _form_int(name: str, default: int = 0) -> int:
    try:
        return int(request.form.get(name, default))
    except ValueError:
        raise UserError("competition.error.times") from None


def _form_session(db, name: str, part: str):
    """The exam session a round runs on (its graded attempts score on the board), or None; only a session of
    that part in the organiser's subtree."""
    if not request.form.get(name):
        return None
    session = db.get(ExamSession, _form_int(name))
    if (session is None or session.part.value != part
            or not any(a.organisation.contains(session.organisation) for a in g.assignments)):
        raise UserError("competition.error.rounds")
    return session.id


@bp.post("/competitions")
@requires(*ORGANISERS)
def create_form():
    db = get_db()
    chief = find_user(db, request.form.get("chief_examiner", ""))
    if chief is None or not any(a.role is Role.examiner for a in chief.active_roles()):
        raise UserError("competition.error.chief")
    theory = _form_int("theory_weight", 30)
    rounds = [{"key": "theory", "name": request.form.get("theory_name") or "理论知识", "part": "theory",
               "weight_percent": theory, "exam_session_id": _form_session(db, "theory_session", "theory")},
              {"key": "practical", "name": request.form.get("practical_name") or "操作技能", "part": "practical",
               "weight_percent": 100 - theory,
               "exam_session_id": _form_session(db, "practical_session", "practical")}]
    competition = competitions.create_competition(
        db, g.assignments[0].organisation, request.form.get("name", ""), starts_at=_form_time("starts_at"),
        ends_at=_form_time("ends_at"), freeze_minutes=_form_int("freeze_minutes"), rounds=rounds,
        chief_examiner=chief, actor=g.user, now=g.now, team=request.form.get("team") == "on")
    db.commit()
    return redirect(url_for("competitions.setup_page", competition_id=competition.id))


@bp.post("/competitions/<int:competition_id>/delegations")
@requires(*ORGANISERS, scope=competition_organisation)
def delegation_form(competition_id: int):
    db = get_db()
    competitions.add_delegation(db, _competition(competition_id), request.form.get("name", ""),
                                request.form.get("colour", ""), g.user, g.now)
    db.commit()
    return redirect(url_for("competitions.setup_page", competition_id=competition_id))


@bp.post("/competitions/<int:competition_id>/entries")
@requires(*ORGANISERS, scope=competition_organisation)
def entry_form(competition_id: int):
    db = get_db()
    delegation = db.get(Delegation, _form_int("delegation_id"))
    if delegation is None or delegation.competition_id != competition_id:
        abort(404)
    names = [n for n in request.form.get("members", "").split() if n]
    members = tuple(find_user(db, n) for n in names)
    if any(m is None for m in members):
        raise UserError("competition.error.entry")
    competitions.register_entry(db, delegation, request.form.get("bib", ""), request.form.get("name", ""), g.user,
                                g.now, members)
    db.commit()
    return redirect(url_for("competitions.setup_page", competition_id=competition_id))


@bp.post("/competitions/<int:competition_id>/awards")
@requires(*ORGANISERS, scope=competition_organisation)
def award_form(competition_id: int):
    db = get_db()
    values = tuple(request.form.get(m, "0") for m in ("gold", "silver", "bronze"))
    by_share = request.form.get("mode") == "shares"
    try:
        counts = None if by_share else tuple(int(v) for v in values)
    except ValueError:
        raise UserError("competition.error.awards") from None
    competitions.award(db, _competition(competition_id), g.user, g.now, shares=values if by_share else None,
                       counts=counts)
    db.commit()
    return redirect(url_for("competitions.setup_page", competition_id=competition_id))


# ---- award certificates ------------------------------------------------------------------------------------------

def _issuer_of(competition_id: int) -> Competition:
    """The competition, for its chief examiner or an organiser over it (404 for staff outside its tree)."""
    competition = _watched(competition_id)
    organiser = any(a.role in ORGANISERS and a.organisation.contains(competition.organisation)
                    for a in g.assignments)
    if not organiser and g.user.id != competition.chief_examiner_id:
        abort(403)
    return competition


def _award(competition: Competition, award_id: int) -> CompetitionAward:
    award = get_db().get(CompetitionAward, award_id)
    if award is None or award.competition_id != competition.id:
        abort(404)
    return award


@bp.post("/competitions/<int:competition_id>/award-certificates")
@requires(*ORGANISERS, Role.examiner)
def issue_award_certificates(competition_id: int):
    db = get_db()
    key = certificates.signing_key(current_app.extensions["exam_settings"])
    issued = award_certificates.issue(db, _issuer_of(competition_id), key, g.user, g.now)
    db.commit()
    flash(str(len(issued)), "awards_issued")
    return redirect(url_for("competitions.setup_page", competition_id=competition_id))


@bp.get("/competitions/<int:competition_id>/awards/<int:award_id>/pdf")
@requires(*ORGANISERS, Role.examiner)
def award_pdf(competition_id: int, award_id: int):
    award = _award(_issuer_of(competition_id), award_id)
    signed = award_certificates.signed_record(award)
    if signed is None:
        raise UserError("awards.not_issued", 409)
    payload = qr_payload(current_app.extensions["exam_settings"].base_url, award.certificate_ref, signed)
    return Response(render_award(award_certificates.public_view(award), payload), mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{award.number}.pdf"'})


@bp.post("/competitions/<int:competition_id>/awards/<int:award_id>/revoke")
@requires(*ORGANISERS, scope=competition_organisation)
def revoke_award_certificate(competition_id: int, award_id: int):
    db = get_db()
    award = award_certificates.revoke(db, _award(_competition(competition_id), award_id),
                                      request.form.get("reason", ""), g.user, g.now)
    db.commit()
    flash(award.number, "award_revoked")
    return redirect(url_for("competitions.setup_page", competition_id=competition_id))
