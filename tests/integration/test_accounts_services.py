"""Units and accounts services on every database: open, seal and transfer keep one account
per person, and the rows stay sealed."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa

from hpf.domain.errors import Conflict
from hpf.repositories.models import OrgUnit, User
from hpf.repositories.uow import UnitOfWork
from hpf.security.passwords import hash_password
from hpf.services import access, accounts, auth, units
from hpf.services.audit import Who
from tests.integration.test_accounts_api import id_number
from tests.integration.test_units_api import credit_code

pytestmark = pytest.mark.db
NOW = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)
TODAY = date(2026, 11, 22)
WHO = Who("test")
CODES = (credit_code(901), credit_code(902))


def _cleanup(database) -> None:
    codes = ", ".join(f"'{c}'" for c in CODES)
    with database.engine.begin() as conn:
        people = [r[0] for r in conn.execute(sa.text(
            f"SELECT person_id FROM individual_account WHERE unit_id IN (SELECT id FROM unit "
            f"WHERE credit_code IN ({codes}))"))]
        conn.execute(sa.text(f"DELETE FROM individual_account WHERE unit_id IN (SELECT id FROM unit "
                             f"WHERE credit_code IN ({codes}))"))
        if people:
            conn.execute(sa.text(f"DELETE FROM person WHERE id IN ({', '.join(map(str, people))})"))
        conn.execute(sa.text(f"DELETE FROM unit WHERE credit_code IN ({codes})"))
        users = [r[0] for r in conn.execute(sa.text("SELECT id FROM app_user WHERE username = 'uas_teller'"))]
        for user_id in users:
            for table in ("user_role", "user_security", "staff_session"):
                conn.execute(sa.text(f"DELETE FROM {table} WHERE user_id = :u"), {"u": user_id})
        conn.execute(sa.text("DELETE FROM app_user WHERE username = 'uas_teller'"))
        conn.execute(sa.text("DELETE FROM org_unit WHERE code = 'UAS1'"))
        conn.execute(sa.text("DELETE FROM org_unit WHERE code = 'UAS0'"))


@pytest.fixture
def teller(database):
    _cleanup(database)
    uow = UnitOfWork(database)
    with uow:
        centre = uow.orgs.add(OrgUnit(code="UAS0", name="测试中心", kind="centre", region_code="350100"))
        branch = uow.orgs.add(OrgUnit(code="UAS1", name="测试管理部", kind="branch", parent_id=centre.id))
        user = uow.users.add(User(username="uas_teller", display_name="柜员", org_id=branch.id,
                                  password_hash=hash_password("Uas@2026x"), password_changed_at=NOW))
        access.grant_role_codes(uow, user.id, ["teller"], "test", NOW)
        uow.commit()
    yield auth.current_user(UnitOfWork(database), user.id, NOW), branch.id
    _cleanup(database)


def _unit(database, actor, org_id: int, code: str) -> units.UnitView:
    cmd = units.NewUnit(code, "测试单位", org_id, Decimal("0.12"), Decimal("0.12"), 15, "测试银行",
                        "6222000011112222", "联系人", "13800000000", TODAY)
    return units.open_unit(UnitOfWork(database), actor, WHO, NOW, cmd)


def test_open_seal_and_transfer_keep_one_account_per_person(database, teller):
    actor, org_id = teller
    first, second = (_unit(database, actor, org_id, c) for c in CODES)
    assert first.status == "02" and first.unit_no != second.unit_no
    cmd = accounts.NewAccount("测试人", "01", id_number(901), first.id, Decimal("5000.00"), TODAY)
    opened = accounts.open_account(UnitOfWork(database), actor, WHO, NOW, cmd)
    with pytest.raises(Conflict) as caught:
        accounts.open_account(UnitOfWork(database), actor, WHO, NOW, cmd)
    assert caught.value.code == "account_exists"
    sealed = accounts.seal_account(UnitOfWork(database), actor, WHO, NOW, opened.id)
    assert sealed.status == "02" and sealed.unit_id == first.id
    moved = accounts.move_account(UnitOfWork(database), actor, WHO, NOW, opened.id,
                                  {"operation": "transfer", "unit_id": second.id,
                                   "deposit_base": Decimal("6500.00"), "on": TODAY})
    assert (moved.status, moved.unit_id, moved.deposit_base, moved.balance) == (
        "01", second.id, Decimal("6500.00"), Decimal("0.00"))
    assert units.get_unit(UnitOfWork(database), actor, second.id).staff_count == 1
    found = accounts.search_accounts(UnitOfWork(database), actor, id_number=id_number(901))
    assert [a.account_no for a in found] == [opened.account_no]
