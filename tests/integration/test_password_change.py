"""Changing one's own password: the policy, the history of the last five, the audit record."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from hpf.crypto import keys
from hpf.domain.errors import ValidationFailed
from hpf.domain.password_policy import PasswordPolicy
from hpf.repositories.models import AuditEvent, OrgUnit, PasswordHistory, User
from hpf.repositories.uow import UnitOfWork
from hpf.security import passwords
from hpf.services import auth
from hpf.services.crypto import verify_integrity

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
POLICY = PasswordPolicy(history=5)


@pytest.fixture
def user_id(database, monkeypatch):
    monkeypatch.setattr(passwords, "_iterations", 10_000)  # the rules, not the cost, are tested here
    keys.for_engine(database.engine).refresh_if_stale()
    with Session(database.engine) as s:
        org = OrgUnit(code="PW-T", name="测试机构", kind="centre")
        s.add(org)
        s.flush()
        user = User(username="pw-test", display_name="测试", org_id=org.id, active=True,
                    password_hash=passwords.hash_password("Start@2026", iterations=10_000))
        s.add(user)
        s.commit()
        uid = user.id
    yield uid
    with database.engine.begin() as conn:
        conn.execute(sa.delete(PasswordHistory.__table__).where(PasswordHistory.user_id == uid))
        conn.execute(sa.text("DELETE FROM user_security WHERE user_id = :u"), {"u": uid})
        conn.execute(sa.delete(User.__table__).where(User.id == uid))
        conn.execute(sa.delete(OrgUnit.__table__).where(OrgUnit.code == "PW-T"))


def change(database, uid, old, new, minutes=0):
    auth.change_password(UnitOfWork(database), uid, old, new, T0 + timedelta(minutes=minutes), POLICY)


def details(database, uid, old, new) -> dict:
    with pytest.raises(ValidationFailed) as info:
        change(database, uid, old, new)
    return info.value.details


def test_change_and_sign_in_with_the_new_password(database, user_id):
    change(database, user_id, "Start@2026", "Second@2026")
    assert auth.authenticate(UnitOfWork(database), "pw-test", "Second@2026", T0).username == "pw-test"
    with database.engine.connect() as conn:
        changed = conn.execute(sa.select(User.password_changed_at).where(User.id == user_id)).scalar_one()
        last = conn.execute(sa.select(AuditEvent.action).order_by(AuditEvent.seq.desc()).limit(2)
                            ).scalars().all()
    assert changed == T0 and "auth.password.change" in last
    assert verify_integrity(database, ["app_user"]).ok  # the new hash is sealed


def test_bad_changes_name_the_field_and_change_nothing(database, user_id):
    assert details(database, user_id, "wrong", "Second@2026") == {"old_password": ["当前密码不正确"]}
    assert details(database, user_id, "Start@2026", "short") == {"new_password": [
        "密码长度至少 8 位", "密码须包含大写字母、小写字母、数字、特殊字符中的至少 3 类"]}
    assert details(database, user_id, "Start@2026", "pw-test@2026X") == {
        "new_password": ["密码不得包含用户名"]}
    assert details(database, user_id, "Start@2026", "Start@2026") == {
        "new_password": ["新密码不得与最近 5 次使用过的密码相同"]}
    assert auth.authenticate(UnitOfWork(database), "pw-test", "Start@2026", T0).username == "pw-test"


def test_none_of_the_last_five_may_come_back(database, user_id):
    chain = ["Start@2026", *[f"Round{n}@2026" for n in range(1, 7)]]
    for n, (old, new) in enumerate(itertools.pairwise(chain)):
        change(database, user_id, old, new, minutes=n)
    current = chain[-1]
    for recent in chain[-5:-1]:  # still remembered
        assert details(database, user_id, current, recent) == {
            "new_password": ["新密码不得与最近 5 次使用过的密码相同"]}
    change(database, user_id, current, chain[0], minutes=30)  # six changes ago: allowed again
    with database.engine.connect() as conn:
        kept = conn.execute(sa.select(sa.func.count()).select_from(PasswordHistory.__table__)
                            .where(PasswordHistory.user_id == user_id)).scalar_one()
    assert kept == 5
