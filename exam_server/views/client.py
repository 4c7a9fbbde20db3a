"""The candidate's pages: check-in and the theory exam. The pages are thin shells; the client code in
candidate_client/ talks to the JSON API and Socket.IO. Front-end packages come from npm and are served here,
never from a CDN."""
from __future__ import annotations

import re
from pathlib import Path

from flask import Blueprint, abort, g, redirect, render_template, send_from_directory, url_for

from .. import i18n
from ..models import ExamPart, Role, RosterEntry
from ..security.access import public, requires
from ..web import get_db

CLIENT = Path(__file__).resolve().parents[2] / "candidate_client"
SOCKET_IO_DIST = CLIENT / "node_modules" / "socket.io-client" / "dist"
ASSET = re.compile(r"^[a-z_]+\.(js|css)$")
CLIENT_MESSAGES = ("exam.", "nav.", "error.", "delivery.", "check_in.", "login.", "seb.")

bp = Blueprint("client", __name__)


def client_messages() -> dict[str, str]:
    """The part of the catalogue the browser needs, in the user's language."""
    catalogue = i18n.catalogue(g.locale)
    return {k: v for k, v in catalogue.items() if k.startswith(CLIENT_MESSAGES)}


@bp.get("/client/<path:filename>")
@public
def asset(filename: str):
    if not ASSET.match(filename):
        abort(404)  # only the client's own scripts and styles, never package files
    return send_from_directory(CLIENT, filename)


@bp.get("/client/vendor/socket.io.min.js")
@public
def socket_io():
    return send_from_directory(SOCKET_IO_DIST, "socket.io.min.js")


@bp.get("/check-in")
@public
def check_in():
    return render_template("client/check_in.html", messages=client_messages())


@bp.get("/exam/<int:entry_id>")
@requires(Role.candidate)
def exam(entry_id: int):
    entry = get_db().get(RosterEntry, entry_id)
    if entry is None or entry.candidate_id != g.user.id:
        abort(404)
    if entry.exam_session.part is ExamPart.practical:
        return redirect(url_for("practical_api.practical_entry", entry_id=entry.id))
    return render_template("client/exam.html", entry=entry, messages=client_messages())
