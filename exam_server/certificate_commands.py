"""`examctl cert verify FILE|--qr PAYLOAD` and `examctl cert import FILE`.

verify takes skill certificates and competition award certificates alike (the same signing and payload).

verify works offline: it checks the Ed25519 signature of a certificate file (the signed JSON document from
/api/certificates/<id>, or the PDF, whose keywords carry the QR payload) or of a scanned QR payload against the
published public keys (--keys, the JSON of /api/certificate-keys, or --public-key), by default the key this
installation signs with. A signature cannot say whether the certificate was revoked since: the public page does.

Exit status: 0 valid (verify) or imported (import), 1 signature invalid or file refused, 2 unusable input.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TextIO

from .certificate_signing import (AWARD_RECORD_TYPE, SignatureError, SignedRecord, key_id, parse_document,
                                  parse_payload, public_key_from_text, verify)

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


def register(subparsers) -> None:
    cert = subparsers.add_parser("cert", help="certificates: verify offline, import legacy records")
    actions = cert.add_subparsers(dest="action", required=True)
    check = actions.add_parser("verify", help="check a certificate file or QR payload against the public key")
    check.add_argument("file", nargs="?", help="certificate file: the signed JSON document or the PDF")
    check.add_argument("--qr", metavar="PAYLOAD", help="the text of a certificate's QR code")
    check.add_argument("--keys", metavar="FILE", help="published keys (JSON of /api/certificate-keys)")
    check.add_argument("--public-key", metavar="KEY", help="one public key, base64url or hex")
    check.add_argument("--json", action="store_true", help="print one JSON object")
    check.set_defaults(handler=cert_verify)
    load = actions.add_parser("import", help="import legacy certificates from CSV or Excel (all or nothing)")
    load.add_argument("file", help="CSV (UTF-8 or GB18030) or .xlsx export of an older system")
    load.add_argument("--organisation", metavar="CODE", help="the organisation recorded as importer "
                      "(default: the provincial centre)")
    load.set_defaults(handler=cert_import)


# ------------------------------------------------------------------------------------------ verify

def _public_keys(args) -> dict:
    if args.public_key:
        key = public_key_from_text(args.public_key)
        return {key_id(key): key}
    if args.keys:
        published = json.loads(Path(args.keys).read_text(encoding="utf-8"))
        keys = [public_key_from_text(k["public_key"]) for k in published.get("keys", [])]
        return {key_id(k): k for k in keys}
    from .certificates import signing_key
    from .config import Settings

    public = signing_key(Settings()).public_key()
    return {key_id(public): public}


def _signed_from(args) -> SignedRecord:
    if args.qr:
        return parse_payload(args.qr)
    if not args.file:
        raise SignatureError("give a certificate FILE or --qr PAYLOAD")
    data = Path(args.file).read_bytes()
    if data.startswith(b"%PDF"):
        from .certificate_pdf import payload_from_pdf

        payload = payload_from_pdf(data)
        if payload is None:
            raise SignatureError("the PDF carries no certificate payload (a legacy record is not signed)")
        return parse_payload(payload)
    try:
        return parse_document(json.loads(data.decode("utf-8")))
    except (UnicodeDecodeError, ValueError):
        raise SignatureError("the file is neither a certificate PDF nor its JSON document") from None


def cert_verify(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    try:
        signed, keys = _signed_from(args), _public_keys(args)
    except (OSError, ValueError, KeyError, SignatureError) as error:
        print(f"examctl cert verify: {error}", file=err)
        return EXIT_BAD_INPUT
    try:
        record = verify(signed, keys)
    except SignatureError as error:
        _say(args, out, {"valid": False, "reason": str(error), "record": signed.record},
             f"INVALID: {error}")
        return EXIT_FAILED
    _say(args, out, {"valid": True, "key_id": signed.key_id, "record": record},
         f"VALID: {_summary(record)}; key {signed.key_id}. Revocations: see the public page.")
    return EXIT_OK


def _summary(record: dict) -> str:
    """One line on what the record certifies: a skill certificate or a competition award certificate."""
    if record.get("type") == AWARD_RECORD_TYPE:
        return (f"{record.get('number')} {record.get('name')} ({record.get('delegation')}): {record.get('medal')}, "
                f"rank {record.get('rank')} in {record.get('competition')}, issued {record.get('issued_on')} by "
                f"{record.get('issuer')}")
    return (f"{record.get('number')} {record.get('name')} ({record.get('occupation')}, level {record.get('level')}, "
            f"issued {record.get('issued_on')} by {record.get('issuer')})")


def _say(args, out: TextIO, document: dict, line: str) -> None:
    print(json.dumps(document, ensure_ascii=False) if args.json else line, file=out)


# ------------------------------------------------------------------------------------------ import

def cert_import(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    from sqlalchemy import select

    from . import i18n
    from .certificate_import import import_legacy
    from .config import Settings
    from .db import Database
    from .errors import UserError
    from .models import Organisation, utcnow

    settings = Settings()
    try:
        data = Path(args.file).read_bytes()
    except OSError as error:
        print(f"examctl cert import: {args.file}: {error.strerror or error}", file=err)
        return EXIT_BAD_INPUT
    url = settings.resolved_database_url()
    if url.startswith("sqlite"):
        settings.ensure_instance()
    database = Database(url)
    try:
        with database.transaction() as db:
            query = select(Organisation).where(Organisation.code == args.organisation) if args.organisation \
                else select(Organisation).where(Organisation.parent_id.is_(None)).order_by(Organisation.id)
            organisation = db.execute(query.limit(1)).scalar_one_or_none()
            if organisation is None:
                print(f"examctl cert import: no organisation {args.organisation or '(provincial centre)'}", file=err)
                return EXIT_BAD_INPUT
            report = import_legacy(db, Path(args.file).name, data, None, organisation, utcnow())
    except UserError as error:
        print(f"examctl cert import: {i18n.translate(settings.default_locale, error.key, **error.values)}",
              file=err)
        return EXIT_BAD_INPUT
    finally:
        database.dispose()
    locale = settings.default_locale
    if report.ok:
        print(i18n.translate(locale, "certificates.import.done", filename=report.filename, rows=report.rows,
                             imported=report.imported, duplicates=report.duplicates), file=out)
        return EXIT_OK
    print(i18n.translate(locale, "certificates.import.refused", filename=report.filename, rows=report.rows,
                         errors=len(report.errors)), file=out)
    for e in report.errors:
        print(f"  {e.row}\t{e.column}\t{i18n.translate(locale, e.key)}\t{e.value}", file=out)
    return EXIT_FAILED
