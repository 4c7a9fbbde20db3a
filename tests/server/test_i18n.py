"""Message catalogues: the same keys in every language, and every key the code uses exists."""
from __future__ import annotations

import re
from pathlib import Path

from exam_server import i18n

SERVER = Path(i18n.__file__).resolve().parent.parent
LITERAL_KEY = re.compile(r"""(?:\bt|_say|UserError|LoginRefused|error_response)\(\s*(?:settings,\s*|\d+,\s*)?["']([a-z_]+(?:\.[a-z_0-9]+)+)["']""")


def test_catalogues_have_the_same_keys():
    zh, en = i18n.catalogue("zh_CN"), i18n.catalogue("en")
    assert set(zh) == set(en)
    assert all(value.strip() for value in [*zh.values(), *en.values()])


def test_placeholders_match_between_languages():
    zh, en = i18n.catalogue("zh_CN"), i18n.catalogue("en")
    fields = re.compile(r"\{(\w+)\}")
    assert {k: set(fields.findall(v)) for k, v in zh.items()} == {k: set(fields.findall(v)) for k, v in en.items()}


def test_every_literal_key_in_code_and_templates_exists():
    used = set()
    for path in [*SERVER.rglob("*.py"), *SERVER.rglob("*.html")]:
        used.update(LITERAL_KEY.findall(path.read_text(encoding="utf-8")))
    assert used, "the scan found no keys: the pattern is broken"
    assert sorted(used - set(i18n.catalogue("zh_CN"))) == []


def test_translate_falls_back_and_formats():
    assert i18n.translate("en", "login.wait", seconds=3) == "Too many failed sign-ins. Try again in 3 s."
    assert i18n.translate("fr", "login.failed") == "用户名或密码错误。"
    assert i18n.negotiate(None, "en", default="zh_CN") == "en"
    assert i18n.negotiate(None, None, default="zh_CN") == "zh_CN"
