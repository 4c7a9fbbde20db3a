"""Session packages and release codes (exam_server/transfer): what a node accepts and what it refuses."""
import io
import zipfile
from datetime import datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from exam_server.certificate_signing import key_id
from exam_server.transfer import packages, release_codes
from exam_server.transfer.envelopes import EnvelopeError

NOW = datetime(2026, 12, 1, 8, 0)
HUB = Ed25519PrivateKey.generate()
TRUSTED = {key_id(HUB.public_key()): HUB.public_key()}
FILES = {"roster.json": '[{"seat": "01", "name": "张三"}]'.encode(), "papers/01.json": b'{"items": [1, 2, 3]}'}


def info(version=3, station="S01", expires=NOW + timedelta(days=7)):
    return packages.PackageInfo("2026-12-08/S01/R1/theory", station, version, NOW + timedelta(days=7), expires)


def rewritten(data: bytes, name: str, change) -> bytes:
    """The same zip with one member passed through ``change`` (a tamperer who keeps everything else)."""
    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for member in source.namelist():
            content = source.read(member)
            target.writestr(member, change(content) if member == name else content)
    return out.getvalue()


def refused(key: str, call, *args):
    with pytest.raises(EnvelopeError) as caught:
        call(*args)
    assert caught.value.key == key


def test_a_package_opens_with_its_release_code_only():
    data, code = packages.build(info(), FILES, HUB)
    assert packages.check(data, TRUSTED, "S01", 0, NOW) == info()
    assert b"\xe5\xbc\xa0" not in data and b"items" not in data     # 张 and the papers are not readable
    assert packages.unlock(data, TRUSTED, code) == FILES
    other = release_codes.new_code()
    refused("transfer.wrong_code", packages.unlock, data, TRUSTED, other)


def test_the_code_may_be_typed_loosely():
    data, code = packages.build(info(), FILES, HUB)
    typed = code.replace("-", " ").lower().replace("1", "l").replace("0", "o")
    assert packages.unlock(data, TRUSTED, typed) == FILES


@pytest.mark.parametrize("typed, canonical", [
    ("abcde fghjk mnpqr stvwx yz012", "ABCDE-FGHJK-MNPQR-STVWX-YZ012"),
    ("0000O-IIIII-LLLLL-11111-22222", "00000-11111-11111-11111-22222"),
])
def test_release_codes_normalise(typed, canonical):
    assert release_codes.normalise(typed) == canonical


@pytest.mark.parametrize("typed", ["", "ABCDE-FGHJK-MNPQR-STVWX-YZ01", "ABCDE-FGHJK-MNPQR-STVWX-YZ01U", "ABCDE!"])
def test_what_cannot_be_a_code(typed):
    with pytest.raises(ValueError):
        release_codes.normalise(typed)


def test_new_codes_are_in_the_alphabet_and_differ():
    codes = {release_codes.new_code() for _ in range(50)}
    assert len(codes) == 50
    assert all(release_codes.normalise(code) == code for code in codes)


def test_tampering_is_refused():
    data, code = packages.build(info(), FILES, HUB)
    flipped = rewritten(data, packages.PAYLOAD, lambda b: b[:-1] + bytes([b[-1] ^ 1]))
    refused("transfer.bad_member", packages.check, flipped, TRUSTED, "S01", 0, NOW)
    newer = rewritten(data, "manifest.json", lambda b: b.replace(b'"version":3', b'"version":9'))
    assert newer != data
    refused("transfer.bad_signature", packages.check, newer, TRUSTED, "S01", 0, NOW)
    grown = io.BytesIO(data)
    with zipfile.ZipFile(grown, "a") as archive:
        archive.writestr("papers/99.json", b"{}")
    refused("transfer.malformed", packages.check, grown.getvalue(), TRUSTED, "S01", 0, NOW)
    refused("transfer.malformed", packages.check, b"not a zip", TRUSTED, "S01", 0, NOW)


def test_a_package_from_another_hub_is_refused():
    data, _ = packages.build(info(), FILES, Ed25519PrivateKey.generate())
    refused("transfer.unknown_signer", packages.check, data, TRUSTED, "S01", 0, NOW)


def test_rollback_expiry_and_other_stations_are_refused():
    data, _ = packages.build(info(version=3), FILES, HUB)
    assert packages.check(data, TRUSTED, "S01", 3, NOW).version == 3       # the same version again: idempotent
    refused("transfer.rollback", packages.check, data, TRUSTED, "S01", 4, NOW)
    refused("transfer.other_station", packages.check, data, TRUSTED, "S02", 0, NOW)
    late, _ = packages.build(info(expires=NOW), FILES, HUB)
    refused("transfer.expired", packages.check, late, TRUSTED, "S01", 0, NOW)
