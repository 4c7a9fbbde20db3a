"""argon2id hashing and the room PIN's remembered successes."""
from __future__ import annotations

from exam_server.security import passwords


def test_hash_and_verify():
    stored = passwords.hash_password("Demo@2026")
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert passwords.verify_password(stored, "Demo@2026")
    assert not passwords.verify_password(stored, "demo@2026")
    assert not passwords.verify_password(None, "Demo@2026")        # an unknown account never matches


def test_a_room_pin_costs_one_hash_per_process_but_every_wrong_pin_costs_one(monkeypatch):
    stored = passwords.hash_password("482913")
    calls = []
    real = passwords._verify
    monkeypatch.setattr(passwords, "_verify", lambda h, p: calls.append(p) or real(h, p))
    assert [passwords.verify_shared_secret(stored, "482913") for _ in range(50)] == [True] * 50
    assert calls == ["482913"]
    assert not passwords.verify_shared_secret(stored, "482914")
    assert not passwords.verify_shared_secret(stored, "482914")
    assert calls == ["482913", "482914", "482914"]
    other_room = passwords.hash_password("482913")                  # same PIN, new hash (a new session)
    assert passwords.verify_shared_secret(other_room, "482913") and len(calls) == 4
