"""examctl commands and the demo province."""
from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter

from sqlalchemy import func, select

from exam_server import demo
from exam_server.cli import main
from exam_server.models import AuditEvent, Organisation, OrganisationKind, Role, RoleAssignment, User


def test_id_check_character_matches_the_standards_example():
    # GB 11643-1999's worked example: 11010519491231002X.
    assert demo.id_check_character("11010519491231002") == "X"
    assert demo.is_valid_id_number("11010519491231002X")
    assert not demo.is_valid_id_number("110105194912310021")
    assert not demo.is_valid_id_number("11010519491331002X")   # month 13


def test_demo_province_is_realistic(database):
    with database.session(write=False) as db:
        kinds = Counter(db.execute(select(Organisation.kind)).scalars())
        candidates = db.execute(select(User).join(RoleAssignment, RoleAssignment.user_id == User.id)
                                .where(RoleAssignment.role == Role.candidate)).scalars().all()
        examiners = db.execute(select(func.count()).select_from(RoleAssignment)
                               .where(RoleAssignment.role == Role.examiner)).scalar_one()
    assert kinds[OrganisationKind.city_centre] == 2 and kinds[OrganisationKind.station] == 4
    assert len(candidates) == 40 and examiners >= 2
    assert len({c.display_name for c in candidates}) == 40
    assert all(demo.is_valid_id_number(c.id_number) for c in candidates)
    assert all(c.id_number.startswith("320") for c in candidates)    # Jiangsu regions


def test_user_create_and_its_errors(database, monkeypatch, capsys):
    monkeypatch.setenv("EXAM_DATABASE_URL", database.url)
    assert main(["user", "create", "examiner_new", "--name", "新考评员", "--role", "examiner",
                 "--org", "JS-SZ-02"]) == 0
    out = capsys.readouterr().out
    assert "已创建用户 examiner_new" in out and "初始密码" in out
    assert main(["user", "create", "x1", "--name", "某", "--role", "wizard", "--org", "JS"]) == 1
    assert "没有角色 wizard" in capsys.readouterr().err
    assert main(["user", "create", "examiner_new", "--name", "重复", "--role", "examiner", "--org", "JS"]) == 1
    assert "已存在" in capsys.readouterr().err
    assert main(["user", "create", "x2", "--name", "某", "--role", "examiner", "--org", "NOPE"]) == 1
    with database.session(write=False) as db:
        names = set(db.execute(select(User.username)).scalars())
        created = db.execute(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "user_created")).scalar_one()
    assert "examiner_new" in names and "x1" not in names and "x2" not in names
    assert created == 1


def test_demo_load_if_empty_leaves_a_loaded_database_alone(database, monkeypatch, capsys):
    monkeypatch.setenv("EXAM_DATABASE_URL", database.url)
    assert main(["demo", "load", "--if-empty"]) == 0
    assert "未重复载入" in capsys.readouterr().out
    assert main(["demo", "load"]) == 1
    with database.session(write=False) as db:
        assert db.execute(select(func.count()).select_from(User)).scalar_one() == 54


def test_sim_command_needs_neither_flask_nor_a_database(tmp_path):
    """`examctl sim` must not import the web or database layer, nor create the instance folder."""
    code = ("import sys, exam_server.cli as c; c._parser(); "
            "bad = [m for m in ('flask', 'sqlalchemy', 'flask_socketio', 'exam_server.app') if m in sys.modules]; "
            "sys.exit(bool(bad))")
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert time.perf_counter() - started < 1.0
    assert not (tmp_path / "instance").exists()
