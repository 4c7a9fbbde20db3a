"""Safe Exam Browser when an exam requires it, and the registration photo on the identity card."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from exam_server import seb
from exam_server.models import Exam
from tests.server.test_exam_api import open_and_start, seat

KEY = "a" * 64
EXAMCTL = Path(sys.executable).with_name("examctl")


def require_seb(database) -> None:
    with database.transaction() as db:
        db.execute(select(Exam)).scalars().first().seb_config_key = KEY


def check_in(candidate, ticket, id_number, pin, headers=None):
    return candidate.client.post("/api/check-in", json={"ticket_number": ticket, "id_number": id_number, "pin": pin},
                                 headers={"X-CSRF-Token": candidate.csrf(), **(headers or {})})


def test_the_config_key_hash_is_sha256_of_the_url_then_the_key():
    # printf '%s' "http://localhost/api/check-in$(printf 'a%.0s' $(seq 64))" | sha256sum
    expected = "e2d994af323454b1d41af635594e83b46e7530c8db6ad0b411633066aa3818b2"
    assert seb.key_hash("http://localhost/api/check-in#top", KEY) == expected


def test_an_exam_that_requires_seb_refuses_other_browsers(new_browser, examiner, database, session_id):
    require_seb(database)
    pin = open_and_start(examiner, session_id)
    ticket, id_number, entry_id = seat(database, session_id, 1)
    plain = new_browser()
    refused = check_in(plain, ticket, id_number, pin)
    assert refused.status_code == 403 and refused.json["error"]["code"] == "seb.required"
    assert plain.get("/api/me/photo").status_code in (401, 403)          # no session was opened

    native = new_browser()                                               # SEB's own header, over the request URL
    url_hash = seb.key_hash("http://localhost/api/check-in", KEY)
    assert check_in(native, ticket, id_number, pin, {seb.SEB_HEADER: url_hash}).status_code == 200
    assert native.post_json(f"/api/roster/{entry_id}/attempt", {"client_id": "browser-0001"}).status_code == 403

    page = "http://localhost/exam/1"                                    # the JS API: hash of the page URL
    proof = {seb.JS_HASH_HEADER: seb.key_hash(page, KEY), seb.JS_URL_HEADER: page}
    script = new_browser()
    assert check_in(script, ticket, id_number, pin, proof).status_code == 200
    foreign = {seb.JS_HASH_HEADER: seb.key_hash("http://evil.example/exam/1", KEY),
               seb.JS_URL_HEADER: "http://evil.example/exam/1"}
    assert check_in(new_browser(), ticket, id_number, pin, foreign).status_code == 403
    started = script.client.post(f"/api/roster/{entry_id}/attempt", json={"client_id": "browser-0002"},
                                 headers={"X-CSRF-Token": script.csrf(), **proof})
    assert started.status_code == 200, started.json
    attempt_id = started.json["attempt_id"]
    assert script.get(f"/api/attempts/{attempt_id}?client_id=browser-0002").status_code == 403
    assert script.get(f"/api/attempts/{attempt_id}?client_id=browser-0002", headers=proof).status_code == 200


def test_the_socket_needs_the_proof_too(socket_app, examiner, database, session_id):
    from tests.server.conftest import Browser

    app = socket_app
    require_seb(database)
    pin = open_and_start(examiner, session_id)
    ticket, id_number, _ = seat(database, session_id, 2)
    page = "http://localhost/exam/2"
    proof = {"url": page, "hash": seb.key_hash(page, KEY)}
    candidate = Browser(app.test_client())
    assert check_in(candidate, ticket, id_number, pin, {seb.JS_HASH_HEADER: proof["hash"],
                                                        seb.JS_URL_HEADER: page}).status_code == 200
    socketio = app.extensions["socketio"]
    assert not socketio.test_client(app, flask_test_client=candidate.client).is_connected()
    assert not socketio.test_client(app, flask_test_client=candidate.client,
                                    auth={"seb": {**proof, "hash": "0" * 64}}).is_connected()
    assert socketio.test_client(app, flask_test_client=candidate.client, auth={"seb": proof}).is_connected()


def test_the_candidate_and_the_room_examiner_see_the_photo(new_browser, examiner, database, session_id):
    pin = open_and_start(examiner, session_id)
    ticket, id_number, entry_id = seat(database, session_id, 1)
    candidate = new_browser()
    assert check_in(candidate, ticket, id_number, pin).status_code == 200
    own = candidate.get("/api/me/photo")
    assert own.status_code == 200 and own.mimetype == "image/png" and own.data.startswith(b"\x89PNG\r\n\x1a\n")
    assert "sandbox" in own.headers["Content-Security-Policy"]
    assert candidate.get(f"/api/roster/{entry_id}/photo").status_code == 403   # staff only
    assert examiner.get(f"/api/roster/{entry_id}/photo").data == own.data
    elsewhere = new_browser()
    elsewhere.login("examiner_sz01")                                    # another station's examiner
    assert elsewhere.get(f"/api/roster/{entry_id}/photo").status_code in (403, 404)


def test_examctl_sets_and_clears_the_key(database_url, tmp_path):
    env = {"EXAM_DATABASE_URL": database_url, "EXAM_INSTANCE_PATH": str(tmp_path), "PATH": "/usr/bin:/bin"}

    def examctl(*args):
        return subprocess.run([str(EXAMCTL), "exam", "seb", *args], env=env, capture_output=True, text=True)

    assert examctl("2026-CNC-T-4-12", "--config-key", "xyz").returncode == 1
    assert examctl("NO-SUCH-EXAM", "--config-key", KEY).returncode == 1
    assert examctl("2026-CNC-T-4-12", "--config-key", KEY.upper()).returncode == 0
    assert examctl("2026-CNC-T-4-12", "--off").returncode == 0
