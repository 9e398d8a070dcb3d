"""The demo centre (示范市住房公积金管理中心): organisations and staff for evaluation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from hpf.repositories.models import OrgUnit, User
from hpf.repositories.uow import UnitOfWork
from hpf.security.passwords import hash_password
from hpf.services import access

DEMO_PASSWORD = "Demo@2026"  # noqa: S105 - printed by `hpf demo`; demo database only

# (code, name, kind, parent code, region)
ORGS = [
    ("000000", "示范市住房公积金管理中心", "centre", None, "350100"),
    ("001", "市直管理部", "branch", "000000", "350100"),
    ("002", "东城管理部", "branch", "000000", "350102"),
    ("003", "西城管理部", "branch", "000000", "350103"),
    ("001001", "市直营业厅", "counter", "001", "350100"),
    ("002001", "东城营业厅", "counter", "002", "350102"),
    ("003001", "西城营业厅", "counter", "003", "350103"),
]
# (username, display name, org code, built-in roles)
USERS = [
    ("teller01", "王芳（柜员）", "001001", ["teller"]),
    ("teller02", "赵磊（柜员）", "002001", ["teller"]),
    ("reviewer01", "李娜（复核员）", "001", ["reviewer"]),
    ("approver01", "陈刚（审批员）", "000000", ["approver"]),
    ("accountant01", "周敏（会计）", "000000", ["accountant"]),
    ("auditor01", "吴静（稽核员）", "000000", ["auditor"]),
    ("sysadmin", "系统管理员", "000000", ["sysadmin"]),
    ("sysadmin02", "系统管理员（复核）", "000000", ["sysadmin"]),
    ("secadmin", "安全管理员", "000000", ["secadmin"]),
    ("auditadmin", "审计管理员", "000000", ["auditadmin"]),
]


@dataclass(frozen=True)
class DemoLogin:
    username: str
    display_name: str
    org_name: str


def load_demo_centre(uow: UnitOfWork) -> list[DemoLogin]:
    """Create the demo organisations and users once; later calls change nothing. The
    administrators enrol their second factor (an authenticator app) at first sign-in."""
    now = datetime.now(UTC)
    access.sync_builtin(uow, now)
    with uow:
        if uow.orgs.by_code(ORGS[0][0]) is None:
            ids: dict[str, int] = {}
            for code, name, kind, parent, region in ORGS:
                org = uow.orgs.add(OrgUnit(code=code, name=name, kind=kind, region_code=region,
                                           parent_id=ids.get(parent) if parent else None))
                ids[code] = org.id
            password = hash_password(DEMO_PASSWORD)
            for username, display, org_code, roles in USERS:
                user = uow.users.add(User(username=username, display_name=display, org_id=ids[org_code],
                                          password_hash=password, password_changed_at=now))
                access.grant_role_codes(uow, user.id, roles, "demo", now)
            uow.commit()
        names = {o.code: o.name for o in uow.orgs.all()}
    return [DemoLogin(u, d, names[o]) for u, d, o, _ in USERS]
