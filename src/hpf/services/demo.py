"""The demo centre (示范市住房公积金管理中心): organisations and staff for evaluation."""

from __future__ import annotations

from dataclasses import dataclass

from hpf.repositories.models import OrgUnit, User
from hpf.repositories.uow import UnitOfWork
from hpf.security.passwords import hash_password

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
# (username, display name, org code) — duties become roles with the identity module
USERS = [
    ("teller01", "王芳（柜员）", "001001"),
    ("teller02", "赵磊（柜员）", "002001"),
    ("reviewer01", "李娜（复核员）", "001"),
    ("approver01", "陈刚（审批员）", "000000"),
    ("accountant01", "周敏（会计）", "000000"),
    ("auditor01", "吴静（稽核员）", "000000"),
    ("sysadmin", "系统管理员", "000000"),
    ("secadmin", "安全管理员", "000000"),
    ("auditadmin", "审计管理员", "000000"),
]


@dataclass(frozen=True)
class DemoLogin:
    username: str
    display_name: str
    org_name: str


def load_demo_centre(uow: UnitOfWork) -> list[DemoLogin]:
    """Create the demo organisations and users once; later calls change nothing."""
    with uow:
        if uow.orgs.by_code(ORGS[0][0]) is None:
            ids: dict[str, int] = {}
            for code, name, kind, parent, region in ORGS:
                org = uow.orgs.add(OrgUnit(code=code, name=name, kind=kind, region_code=region,
                                           parent_id=ids.get(parent) if parent else None))
                ids[code] = org.id
            password = hash_password(DEMO_PASSWORD)
            for username, display, org_code in USERS:
                uow.users.add(User(username=username, display_name=display,
                                   org_id=ids[org_code], password_hash=password))
            uow.commit()
        names = {o.code: o.name for o in uow.orgs.all()}
    return [DemoLogin(u, d, names[o]) for u, d, o in USERS]
