"""`hpf users`: bootstrapping the three administrators of a new installation, recovery."""

from __future__ import annotations

import contextlib

import sqlalchemy as sa
from click.testing import CliRunner

from hpf.cli import cli
from hpf.config import load_settings
from hpf.repositories.database import open_app_database
from hpf.repositories.uow import UnitOfWork
from hpf.services import auth
from tests.conftest import TEST_KEK


def test_first_administrators_and_recovery(tmp_path):
    env = {
        "HPF_DATABASE_URL": f"sqlite:///{tmp_path / 'boot.sqlite3'}",
        "HPF_INSTANCE_PATH": str(tmp_path / "i"),
        "HPF_CRYPTO_KEK": TEST_KEK,
    }
    runner = CliRunner()

    def run(*args, password="Boot@2026x"):
        return runner.invoke(cli, list(args), env=env, input=f"{password}\n{password}\n")

    assert run("db", "upgrade").exit_code == 0
    no_centre = run("users", "create-admin", "root_sys", "--role", "sysadmin")
    assert no_centre.exit_code != 0 and "机构 000000 不存在" in no_centre.output
    made = run("users", "create-centre", "000000", "测试市住房公积金管理中心", "--region", "350100")
    assert made.exit_code == 0 and "已建立中心机构" in made.output
    assert (
        "已存在中心机构" in run("users", "create-centre", "000001", "第二中心", "--region", "350100").output
    )
    made = run("users", "create-admin", "root_sys", "--role", "sysadmin", "--name", "系统管理员")
    assert made.exit_code == 0 and "已创建系统管理员：root_sys" in made.output
    assert run("users", "create-admin", "root_sec", "--role", "secadmin").exit_code == 0
    # 三员分立 holds for the operator too: the system administrator cannot also be the auditor.
    clash = run("users", "create-admin", "root_sys", "--role", "auditadmin")
    assert clash.exit_code != 0 and "互斥" in clash.output
    weak = run("users", "create-admin", "root_aud", "--role", "auditadmin", password="short")
    assert weak.exit_code != 0 and "密码" in weak.output

    database = open_app_database(load_settings(environ=env), env["HPF_DATABASE_URL"])
    user = auth.authenticate(UnitOfWork(database), "root_sys", "Boot@2026x", user_now())
    assert [r.code for r in user.roles] == ["sysadmin"] and user.must_change_password and user.mfa_required

    for _ in range(5):  # lock it
        with contextlib.suppress(auth.Unauthorized):
            auth.authenticate(UnitOfWork(database), "root_sec", "wrong", user_now())
    assert run("users", "unlock", "root_sec").exit_code == 0
    assert (
        auth.authenticate(UnitOfWork(database), "root_sec", "Boot@2026x", user_now()).username == "root_sec"
    )
    assert "已重置" in run("users", "reset-mfa", "root_sec").output
    with database.engine.connect() as conn:
        actions = [
            r[0] for r in conn.execute(sa.text("SELECT action FROM audit_event WHERE actor LIKE 'os:%'"))
        ]
    assert actions.count("user.bootstrap") == 2 and "user.unlock" in actions and "auth.mfa.reset" in actions
    database.dispose()


def user_now():
    from datetime import UTC, datetime

    return datetime.now(UTC)
