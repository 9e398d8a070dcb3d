"""Staff accounts and organisations (系统管理员): within the administrator's data scope.

The system administrator creates and maintains accounts but grants nothing: roles come from
the security administrator (services.access). A new account, or one whose password an
administrator reset, must change its password at the next sign-in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from hpf.domain import password_policy as password_rules
from hpf.domain.errors import Conflict, Forbidden, NotFound, ValidationFailed
from hpf.domain.password_policy import PasswordPolicy
from hpf.repositories.models import OrgUnit, User
from hpf.repositories.uow import UnitOfWork
from hpf.security.passwords import hash_password
from hpf.services import audit
from hpf.services.access import Principal

USERNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{2,31}$")
ORG_CODE = re.compile(r"^[0-9A-Za-z]{1,20}$")
CHILD_KIND = {"centre": "branch", "branch": "counter"}
KIND_NAMES = {"centre": "中心", "branch": "分中心/管理部", "counter": "网点柜台"}


@dataclass(frozen=True)
class UserRow:
    id: int
    username: str
    display_name: str
    org_id: int
    org_code: str
    org_name: str
    active: bool
    roles: list[str]
    role_names: list[str]
    locked: bool
    mfa_enabled: bool
    must_change_password: bool
    scope_org_id: int | None
    last_login_at: datetime | None
    created_at: datetime


@dataclass(frozen=True)
class UserPage:
    items: list[UserRow]
    total: int
    page: int
    per_page: int


def list_users(
    uow: UnitOfWork,
    actor: Principal,
    now: datetime,
    *,
    q: str = "",
    org_id: int | None = None,
    page: int = 1,
    per_page: int = 50,
) -> UserPage:
    """Accounts in the actor's scope (user:view, or grant:manage for the security admin)."""
    if not (actor.can("user:view") or actor.can("grant:manage")):
        actor.require("user:view")
    page, per_page = max(page, 1), min(max(per_page, 1), 200)
    with uow:
        users, total = uow.users.search(
            actor.scope.org_ids, q.strip()[:64], org_id, (page - 1) * per_page, per_page
        )
        return UserPage(_rows(uow, users, now), total, page, per_page)


def get_user(uow: UnitOfWork, actor: Principal, user_id: int, now: datetime) -> UserRow:
    if not (actor.can("user:view") or actor.can("grant:manage")):
        actor.require("user:view")
    with uow:
        user = _user_in_scope(uow, actor, user_id)
        return _rows(uow, [user], now)[0]


def _rows(uow: UnitOfWork, users: list[User], now: datetime) -> list[UserRow]:
    ids = [u.id for u in users]
    roles = {r.id: r for r in uow.access.roles()}
    grants: dict[int, list[int]] = {}
    for g in uow.access.grants_for(ids):
        grants.setdefault(g.user_id, []).append(g.role_id)
    settings = uow.access.securities(ids)
    orgs = {o.id: o for o in uow.orgs.all()}
    locked = uow.throttle.locked_usernames([u.username for u in users], now)
    out = []
    for u in users:
        held = sorted((roles[r] for r in grants.get(u.id, []) if r in roles), key=lambda r: r.code)
        s = settings.get(u.id)
        out.append(
            UserRow(
                u.id,
                u.username,
                u.display_name,
                u.org_id,
                orgs[u.org_id].code,
                orgs[u.org_id].name,
                u.active,
                [r.code for r in held],
                [r.name for r in held],
                u.username in locked,
                bool(s and s.mfa_enabled),
                bool(s and s.must_change_password),
                s.scope_org_id if s else None,
                u.last_login_at,
                u.created_at,
            )
        )
    return out


def _user_in_scope(uow: UnitOfWork, actor: Principal, user_id: int) -> User:
    user = uow.users.get(user_id)
    if user is None:
        raise NotFound("用户不存在", code="user_not_found")
    actor.require_scope(user.org_id)
    return user


def _not_self(actor: Principal, user_id: int, what: str) -> None:
    if actor.id == user_id:
        raise Forbidden(f"不能{what}自己的账号，请使用“个人设置”", code="self_administration")


def _check_org(uow: UnitOfWork, actor: Principal, org_id: int) -> OrgUnit:
    org = uow.orgs.get(org_id)
    if org is None or not org.active:
        raise ValidationFailed(details={"org_id": ["机构不存在或已停用"]})
    actor.require_scope(org.id)
    return org


def create_user(
    uow: UnitOfWork,
    actor: Principal,
    who: audit.Who,
    now: datetime,
    *,
    username: str,
    display_name: str,
    org_id: int,
    password: str,
    policy: PasswordPolicy,
) -> UserRow:
    actor.require("user:manage")
    username, display_name = username.strip(), display_name.strip()
    problems: dict[str, list[str]] = {}
    if not USERNAME.match(username):
        problems["username"] = ["用户名为 3-32 位，以字母开头，可含字母、数字、_ . -"]
    if not display_name or len(display_name) > 64:
        problems["display_name"] = ["姓名为 1-64 个字符"]
    weak = password_rules.problems(password, username, policy)
    if weak:
        problems["password"] = weak
    if problems:
        raise ValidationFailed(details=problems)
    with uow:
        _check_org(uow, actor, org_id)
        if uow.users.by_username(username) is not None:
            raise Conflict("用户名已存在", code="user_exists", details={"username": ["用户名已存在"]})
        user = uow.users.add(
            User(
                username=username,
                display_name=display_name,
                org_id=org_id,
                password_hash=hash_password(password),
                active=True,
                created_at=now,
            )
        )
        settings = uow.access.security_for_update(user.id, now)
        settings.must_change_password = True  # 初始密码须在首次登录时修改
        audit.record(
            uow,
            actor.who(who),
            "user.create",
            target=f"user:{username}",
            summary=f"display_name={display_name} org_id={org_id}",
            now=now,
        )
        row = _rows(uow, [user], now)[0]
        uow.commit()
    return row


def update_user(
    uow: UnitOfWork,
    actor: Principal,
    who: audit.Who,
    now: datetime,
    user_id: int,
    *,
    display_name: str | None = None,
    org_id: int | None = None,
    active: bool | None = None,
) -> UserRow:
    actor.require("user:manage")
    if active is not None or org_id is not None:
        _not_self(actor, user_id, "停用或调动")
    with uow:
        user = _user_in_scope(uow, actor, user_id)
        changes = []
        if display_name is not None and display_name.strip() != user.display_name:
            name = display_name.strip()
            if not name or len(name) > 64:
                raise ValidationFailed(details={"display_name": ["姓名为 1-64 个字符"]})
            changes.append(f"display_name={name}")
            user.display_name = name
        if org_id is not None and org_id != user.org_id:
            _check_org(uow, actor, org_id)
            changes.append(f"org_id {user.org_id}->{org_id}")
            user.org_id = org_id
        if active is not None and active != user.active:
            changes.append("启用" if active else "停用")
            user.active = active
            if not active:
                uow.access.end_sessions(user.id, now)  # signed out everywhere at once
        if changes:
            audit.record(
                uow,
                actor.who(who),
                "user.update",
                target=f"user:{user.username}",
                summary=" ".join(changes),
                now=now,
            )
        row = _rows(uow, [user], now)[0]
        uow.commit()
    return row


def reset_password(
    uow: UnitOfWork,
    actor: Principal,
    who: audit.Who,
    now: datetime,
    user_id: int,
    password: str,
    policy: PasswordPolicy,
) -> None:
    """A temporary password, to be changed at the next sign-in; also lifts a lock."""
    actor.require("user:manage")
    _not_self(actor, user_id, "重置")
    with uow:
        user = _user_in_scope(uow, actor, user_id)
        weak = password_rules.problems(password, user.username, policy)
        if weak:
            raise ValidationFailed(details={"password": weak})
        user.password_hash = hash_password(password)
        user.password_changed_at = now
        uow.access.security_for_update(user.id, now).must_change_password = True
        uow.access.end_sessions(user.id, now)
        uow.throttle.clear(user.username)
        audit.record(uow, actor.who(who), "user.password.reset", target=f"user:{user.username}", now=now)
        uow.commit()


def unlock(uow: UnitOfWork, actor: Principal, who: audit.Who, now: datetime, user_id: int) -> None:
    actor.require("user:manage")
    with uow:
        user = _user_in_scope(uow, actor, user_id)
        uow.throttle.clear(user.username)
        audit.record(uow, actor.who(who), "user.unlock", target=f"user:{user.username}", now=now)
        uow.commit()


# ---------------------------------------------------------------- organisations


@dataclass(frozen=True)
class OrgRow:
    id: int
    code: str
    name: str
    kind: str
    kind_name: str
    parent_id: int | None
    region_code: str | None
    active: bool
    depth: int
    users: int


def org_tree(uow: UnitOfWork, actor: Principal) -> list[OrgRow]:
    """The organisations in scope, in tree order (centre, each branch followed by its counters)."""
    with uow:
        orgs = [o for o in uow.orgs.all() if actor.scope.covers(o.id)]
        counts = uow.users.count_by_org()
        ids = {o.id for o in orgs}
        children: dict[int | None, list[OrgUnit]] = {}
        for o in orgs:
            children.setdefault(o.parent_id if o.parent_id in ids else None, []).append(o)
        out: list[OrgRow] = []

        def walk(parent, depth):
            for o in sorted(children.get(parent, []), key=lambda x: x.code):
                out.append(
                    OrgRow(
                        o.id,
                        o.code,
                        o.name,
                        o.kind,
                        KIND_NAMES[o.kind],
                        o.parent_id,
                        o.region_code,
                        o.active,
                        depth,
                        counts.get(o.id, 0),
                    )
                )
                walk(o.id, depth + 1)

        walk(None, 0)
        return out


def create_org(
    uow: UnitOfWork,
    actor: Principal,
    who: audit.Who,
    now: datetime,
    *,
    code: str,
    name: str,
    parent_id: int,
    region_code: str | None = None,
) -> OrgRow:
    """A branch under the centre or a counter under a branch (the kind follows the parent)."""
    actor.require("org:manage")
    code, name = code.strip(), name.strip()
    problems: dict[str, list[str]] = {}
    if not ORG_CODE.match(code):
        problems["code"] = ["机构代码为 1-20 位字母或数字"]
    if not name or len(name) > 100:
        problems["name"] = ["机构名称为 1-100 个字符"]
    if region_code and not re.fullmatch(r"\d{6}", region_code):
        problems["region_code"] = ["行政区划代码为 6 位数字（GB/T 2260）"]
    if problems:
        raise ValidationFailed(details=problems)
    with uow:
        parent = uow.orgs.get(parent_id)
        if parent is None or parent.kind not in CHILD_KIND or not parent.active:
            raise ValidationFailed(details={"parent_id": ["上级机构须为中心或分中心（网点下不能再设机构）"]})
        actor.require_scope(parent.id)
        if uow.orgs.by_code(code) is not None:
            raise Conflict("机构代码已存在", code="org_exists", details={"code": ["机构代码已存在"]})
        org = uow.orgs.add(
            OrgUnit(
                code=code,
                name=name,
                kind=CHILD_KIND[parent.kind],
                parent_id=parent.id,
                region_code=region_code or parent.region_code,
                active=True,
                created_at=now,
            )
        )
        audit.record(
            uow,
            actor.who(who),
            "org.create",
            target=f"org:{code}",
            summary=f"name={name} kind={org.kind} parent={parent.code}",
            now=now,
        )
        row = OrgRow(
            org.id,
            org.code,
            org.name,
            org.kind,
            KIND_NAMES[org.kind],
            org.parent_id,
            org.region_code,
            True,
            0,
            0,
        )
        uow.commit()
    return row


def update_org(
    uow: UnitOfWork,
    actor: Principal,
    who: audit.Who,
    now: datetime,
    org_id: int,
    *,
    name: str | None = None,
    active: bool | None = None,
) -> None:
    actor.require("org:manage")
    with uow:
        org = uow.orgs.get(org_id)
        if org is None:
            raise NotFound("机构不存在", code="org_not_found")
        actor.require_scope(org.id)
        changes = []
        if name is not None and name.strip() != org.name:
            if not name.strip() or len(name.strip()) > 100:
                raise ValidationFailed(details={"name": ["机构名称为 1-100 个字符"]})
            changes.append(f"name={name.strip()}")
            org.name = name.strip()
        if active is not None and active != org.active:
            if not active and (
                org.parent_id is None
                or uow.users.count_by_org().get(org.id)
                or uow.orgs.has_active_children(org.id)
            ):
                raise Conflict("机构下仍有用户或下级机构，不能停用（中心不能停用）", code="org_in_use")
            changes.append("启用" if active else "停用")
            org.active = active
        if changes:
            audit.record(
                uow,
                actor.who(who),
                "org.update",
                target=f"org:{org.code}",
                summary=" ".join(changes),
                now=now,
            )
        uow.commit()


# ---------------------------------------------------------------- the operator's command line

def bootstrap_admin(uow: UnitOfWork, who: audit.Who, now: datetime, *, username: str, display_name: str,
                    org_code: str, role: str, password: str, policy: PasswordPolicy) -> str:
    """``hpf users create-admin``: the first administrators of a new installation (nobody
    can sign in to grant anything yet). Someone with the server's configuration and database
    access runs it; it is audited like any grant. The password is temporary."""
    from hpf.domain import access as rules
    from hpf.services import access

    if role not in rules.ADMIN_KINDS:
        raise ValidationFailed(details={"role": ["只能创建系统管理员、安全管理员或审计管理员"]})
    with uow:
        org = uow.orgs.by_code(org_code)
        if org is None:
            raise ValidationFailed(details={"org": [f"机构 {org_code} 不存在"]})
        user = uow.users.by_username(username)
        created = user is None
        if created:
            problems = {"password": password_rules.problems(password, username, policy)}
            if not USERNAME.match(username):
                problems["username"] = ["用户名为 3-32 位，以字母开头，可含字母、数字、_ . -"]
            if any(problems.values()):
                raise ValidationFailed(details={k: v for k, v in problems.items() if v})
            user = uow.users.add(User(username=username, display_name=display_name or username, org_id=org.id,
                                      password_hash=hash_password(password), active=True, created_at=now))
            uow.access.security_for_update(user.id, now).must_change_password = True
        try:
            access.grant_role_codes(uow, user.id, [role], who.actor, now)
        except rules.AccessRuleBroken as exc:
            raise Forbidden(exc.message, code=exc.code) from None
        audit.record(uow, who, "user.bootstrap", target=f"user:{username}",
                     summary=f"role={role} created={created}", now=now)
        uow.commit()
    return "created" if created else "granted"


def operator_recover(uow: UnitOfWork, who: audit.Who, now: datetime, username: str, *,
                     unlock: bool = False, reset_mfa: bool = False) -> None:
    """``hpf users unlock/reset-mfa``: when the only security administrator is locked out or
    lost their authenticator, the operator recovers the account (audited)."""
    with uow:
        user = uow.users.by_username(username)
        if user is None:
            raise NotFound("用户不存在", code="user_not_found")
        if unlock:
            uow.throttle.clear(username)
            audit.record(uow, who, "user.unlock", target=f"user:{username}", now=now)
        if reset_mfa:
            settings = uow.access.security_for_update(user.id, now)
            settings.mfa_secret, settings.mfa_enabled, settings.mfa_last_step = None, False, None
            audit.record(uow, who, "auth.mfa.reset", target=f"user:{username}", now=now)
        uow.commit()


def bootstrap_centre(uow: UnitOfWork, who: audit.Who, now: datetime, *, code: str, name: str,
                     region_code: str) -> None:
    """``hpf users create-centre``: the root of the organisation tree on a new installation
    (branches and counters are then created in the console). Only one centre."""
    problems: dict[str, list[str]] = {}
    if not ORG_CODE.match(code.strip()):
        problems["code"] = ["机构代码为 1-20 位字母或数字"]
    if not name.strip() or len(name.strip()) > 100:
        problems["name"] = ["机构名称为 1-100 个字符"]
    if not re.fullmatch(r"\d{6}", region_code):
        problems["region_code"] = ["行政区划代码为 6 位数字（GB/T 2260）"]
    if problems:
        raise ValidationFailed(details=problems)
    with uow:
        if any(o.kind == "centre" for o in uow.orgs.all()):
            raise Conflict("已存在中心机构", code="centre_exists")
        uow.orgs.add(OrgUnit(code=code.strip(), name=name.strip(), kind="centre", parent_id=None,
                             region_code=region_code, active=True, created_at=now))
        audit.record(uow, who, "org.create", target=f"org:{code.strip()}",
                     summary=f"name={name.strip()} kind=centre", now=now)
        uow.commit()
