"""Certificate pages and JSON routes.

Public (no login): the lookup page and its JSON twin (certificate number + name, or name + ID number; the ID
masked; revocations shown; limited against enumeration), the same for competition award certificates (number +
name, under the same limits), the verification page a QR code opens (skill or award certificate), the signed
document, and the published public keys.

Centre pages (centre and provincial admins, over their subtree): results to confirm, issuing, revoking, the PDF,
and the legacy import with its report.
"""
from __future__ import annotations

from flask import (Blueprint, Response, abort, current_app, flash, g, jsonify, redirect, render_template, request,
                   url_for)
from sqlalchemy import or_, select

from .. import award_certificates, certificate_import, certificate_lookup, certificates, openapi
from ..certificate_pdf import render as render_pdf
from ..certificate_signing import b64encode, key_id, public_bytes, qr_payload
from ..errors import UserError
from ..models import Certificate, Organisation, Result, Role
from ..security.access import in_scope, public, requires
from ..web import client_ip, get_db, t

bp = Blueprint("certificates", __name__)

ADMINS = (Role.centre_admin, Role.provincial_admin)
MAX_IMPORT_BYTES = 64 * 1024 * 1024
CERT_SCHEMA = {"type": "object", "properties": {
    "number": {"type": "string"}, "name": {"type": "string"}, "id_number": {"type": "string"},
    "occupation": {"type": "string"}, "level": {"type": "integer"}, "level_name": {"type": "string"},
    "issuer": {"type": "string"}, "issued_on": {"type": "string"}, "legacy": {"type": "boolean"},
    "signed": {"type": "boolean"}, "revoked": {"type": "boolean"}, "revoked_at": {"type": ["string", "null"]},
    "revoked_reason": {"type": ["string", "null"]}}}
LOOKUP_SCHEMA = {"type": "object", "properties": {"certificates": {"type": "array", "items": CERT_SCHEMA}}}
DOCUMENT_SCHEMA = {"type": "object", "properties": {"record": {"type": "object"}, "key_id": {"type": "string"},
                                                    "signature": {"type": "string"}, "status": CERT_SCHEMA}}
AWARDS_SCHEMA = {"type": "object", "properties": {"awards": {"type": "array", "items": {"type": "object"}}}}
KEYS_SCHEMA = {"type": "object", "properties": {"keys": {"type": "array", "items": {"type": "object"}}}}


# ------------------------------------------------------------------------------------------ helpers

def result_organisation(result_id: int):
    result = get_db().get(Result, result_id)
    return result.candidate.organisation if result else None


def certificate_organisation(cert_id: int):
    cert = get_db().get(Certificate, cert_id)
    return cert.organisation if cert and cert.organisation else None


def _limiter() -> certificate_lookup.LookupLimiter:
    """One limiter per app, shared by the certificate and award lookups."""
    limiter = current_app.extensions.get("cert_lookup_limiter")
    if limiter is None:
        settings = current_app.extensions["exam_settings"]
        store = (certificate_lookup.RedisCounters(settings.redis_url, settings.resolved_database_url())
                 if settings.redis_url
                 else certificate_lookup.MemoryCounters())
        limits = current_app.config.get("CERT_LOOKUP_LIMITS") or certificate_lookup.limits_from_env()
        limiter = current_app.extensions["cert_lookup_limiter"] = certificate_lookup.LookupLimiter(limits, store)
    return limiter


def _admit(target: str) -> None:
    """Count a public lookup against the anti-enumeration limits (UserError 429 when over)."""
    verdict = _limiter().admit(client_ip(), target, g.now)
    if not verdict.allowed:
        raise UserError("certificates.lookup_limited", 429, seconds=verdict.retry_after_s)


def _lookup() -> list:
    """Run the lookup the query string asks for, within the limits (UserError otherwise)."""
    number = request.args.get("number", "").strip()[:32]
    name = request.args.get("name", "").strip()[:50]
    id_number = request.args.get("id_number", "").strip()[:18]
    if not name or not (number or id_number):
        raise UserError("certificates.lookup_fields")
    _admit(number or id_number)
    database = current_app.extensions["exam_db"]          # no session: one autocommit SELECT (db.public_read)
    found = (certificate_lookup.by_number(database, number, name) if number
             else certificate_lookup.by_id_number(database, name, id_number))
    if not found:
        _limiter().missed(client_ip(), g.now)
    return found


def _award_lookup() -> list[dict]:
    """An award certificate by number + name, under the same limits as certificates."""
    number = request.args.get("number", "").strip()[:32]
    name = request.args.get("name", "").strip()[:50]
    if not name or not number:
        raise UserError("awards.lookup_fields")
    _admit(number)
    award = award_certificates.by_number(get_db(), number, name)
    if award is None:
        _limiter().missed(client_ip(), g.now)
        return []
    return [award_certificates.public_view(award)]


def _with_retry_after(response: Response, error: UserError) -> Response:
    if error.status == 429:
        response.headers["Retry-After"] = str(error.values.get("seconds", 60))
    return response


def _json_refusal(exc: UserError) -> Response:
    """A public lookup's refusal as JSON, with Retry-After when it was the rate limit."""
    response = jsonify(error={"code": exc.key, "message": t(exc.key, **exc.values)})
    response.status_code = exc.status
    return _with_retry_after(response, exc)


def _roles():
    return sorted({a.role for a in g.user.active_roles()}, key=list(Role).index)


# ------------------------------------------------------------------------------------------ public

@bp.get("/certificates/lookup")
@public
def lookup_page():
    found, error, status = None, None, 200
    if request.args:
        try:
            found = [certificate_lookup.public_view(c) for c in _lookup()]
        except UserError as exc:
            error, status = t(exc.key, **exc.values), exc.status
            response = Response(render_template("certificates/lookup.html", found=None, error=error,
                                                args=request.args), status)
            return _with_retry_after(response, exc)
    return render_template("certificates/lookup.html", found=found, error=error, args=request.args), status


@bp.get("/api/certificates/lookup")
@public
@openapi.documented("Public certificate lookup: number + name, or name + id_number; the ID is masked",
                    tags=("certificates",), responses={200: LOOKUP_SCHEMA})
def lookup_json():
    try:
        found = _lookup()
    except UserError as exc:
        return _json_refusal(exc)
    return jsonify(certificates=[certificate_lookup.public_view(c) for c in found])


@bp.get("/awards/lookup")
@public
def award_lookup_page():
    found, error, status = None, None, 200
    if request.args:
        try:
            found = _award_lookup()
        except UserError as exc:
            response = Response(render_template("certificates/award_lookup.html", found=None,
                                                error=t(exc.key, **exc.values), args=request.args), exc.status)
            return _with_retry_after(response, exc)
    return render_template("certificates/award_lookup.html", found=found, error=error, args=request.args), status


@bp.get("/api/awards/lookup")
@public
@openapi.documented("Public award certificate lookup: number + name (of the entry or a team member)",
                    tags=("certificates",), responses={200: AWARDS_SCHEMA})
def award_lookup_json():
    try:
        found = _award_lookup()
    except UserError as exc:
        return _json_refusal(exc)
    return jsonify(awards=found)


@bp.get("/v/<public_id>")
@public
def verify_page(public_id: str):
    """Where a certificate's QR code leads: its current status from the register (skill or award)."""
    db = get_db()
    cert = certificate_lookup.by_public_id(db, public_id)
    if cert is None:
        award = award_certificates.by_public_id(db, public_id)
        if award is None or award.record_json is None:
            abort(404)
        return render_template("certificates/award_verify.html", award=award_certificates.public_view(award))
    signed = certificates.signed_record(cert)
    return render_template("certificates/verify.html", cert=certificate_lookup.public_view(cert),
                           record=signed.record if signed else None)


@bp.get("/api/certificates/<public_id>")
@public
@openapi.documented("The signed certificate (or award certificate) document: record, key id, signature, and "
                    "its current status", tags=("certificates",), responses={200: DOCUMENT_SCHEMA})
def certificate_document(public_id: str):
    db = get_db()
    cert = certificate_lookup.by_public_id(db, public_id)
    if cert is None:
        award = award_certificates.by_public_id(db, public_id)
        if award is None or award.record_json is None:
            abort(404)
        return jsonify({**award_certificates.signed_record(award).document(),
                        "status": award_certificates.public_view(award)})
    signed = certificates.signed_record(cert)
    document = signed.document() if signed else {"record": None, "key_id": None, "signature": None}
    return jsonify({**document, "status": certificate_lookup.public_view(cert)})


@bp.get("/api/certificate-keys")
@public
@openapi.documented("The public halves of the certificate signing keys (Ed25519, raw 32 bytes in base64url)",
                    tags=("certificates",), responses={200: KEYS_SCHEMA})
def signing_keys():
    keys = {k.key_id: {"key_id": k.key_id, "alg": k.algorithm, "public_key": k.public_key,
                       "created_at": k.created_at.isoformat(),
                       "retired_at": k.retired_at.isoformat() if k.retired_at else None}
            for k in certificates.published_keys(get_db())}
    current = certificates.signing_key(current_app.extensions["exam_settings"])
    keys.setdefault(key_id(current), {"key_id": key_id(current), "alg": "Ed25519",
                                      "public_key": b64encode(public_bytes(current)), "created_at": None,
                                      "retired_at": None})
    return jsonify(keys=list(keys.values()))


# ------------------------------------------------------------------------------------------ centre

@bp.get("/certificates/centre")
@requires(*ADMINS)
def centre():
    db = get_db()
    in_subtree = select(Organisation.id).where(
        or_(*[Organisation.path.like(a.organisation.path + "%") for a in g.assignments]))
    results = [r for r in db.execute(select(Result).order_by(Result.combined_at.desc()).limit(500)).scalars()
               if in_scope(g.assignments, r.candidate.organisation)]
    issued = {c.result_id: c for c in db.execute(select(Certificate).where(
        Certificate.result_id.in_([r.id for r in results]))).scalars()} if results else {}
    recent = db.execute(select(Certificate).where(Certificate.organisation_id.in_(in_subtree))
                        .order_by(Certificate.issued_at.desc(), Certificate.id.desc()).limit(100)).scalars().all()
    return render_template("certificates/centre.html", results=results, issued=issued, recent=recent,
                           points=certificates.points, roles=_roles(), role=None)


@bp.post("/certificates/results/<int:result_id>/confirm")
@requires(*ADMINS, scope=result_organisation)
def confirm(result_id: int):
    db = get_db()
    certificates.confirm(db, db.get(Result, result_id), g.user, g.now)
    db.commit()
    flash(str(result_id), "result_confirmed")
    return redirect(url_for("certificates.centre"))


@bp.post("/certificates/results/<int:result_id>/issue")
@requires(*ADMINS, scope=result_organisation)
def issue(result_id: int):
    db = get_db()
    key = certificates.signing_key(current_app.extensions["exam_settings"])
    cert = certificates.issue(db, db.get(Result, result_id), g.user, g.now, key)
    db.commit()
    flash(cert.number, "certificate_issued")
    return redirect(url_for("certificates.centre"))


@bp.post("/certificates/<int:cert_id>/revoke")
@requires(*ADMINS, scope=certificate_organisation)
def revoke(cert_id: int):
    db = get_db()
    cert = certificates.revoke(db, db.get(Certificate, cert_id), request.form.get("reason", ""), g.user, g.now)
    db.commit()
    flash(cert.number, "certificate_revoked")
    return redirect(url_for("certificates.centre"))


@bp.get("/certificates/<int:cert_id>/pdf")
@requires(*ADMINS, scope=certificate_organisation)
def pdf(cert_id: int):
    cert = get_db().get(Certificate, cert_id)
    signed = certificates.signed_record(cert)
    payload = qr_payload(current_app.extensions["exam_settings"].base_url, cert.public_id, signed) if signed else None
    return Response(render_pdf(cert, payload), mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{cert.number}.pdf"'})


@bp.post("/certificates/import")
@requires(*ADMINS)
def import_legacy():
    upload = request.files.get("file")
    data = upload.read(MAX_IMPORT_BYTES + 1) if upload else b""
    if not data:
        raise UserError("certificates.import_empty")
    if len(data) > MAX_IMPORT_BYTES:
        raise UserError("error.too_large", 413)
    organisation = g.assignments[0].organisation
    db = get_db()
    report = certificate_import.import_legacy(db, upload.filename or "upload.csv", data, g.user, organisation, g.now)
    db.commit()
    return render_template("certificates/import_report.html", report=report, roles=_roles(), role=None), \
        200 if report.ok else 422

