"""Access control services: who may do what, over which organisations.

A request's ``Principal`` is built from the database on every request (a revoked role
stops working at once). Grants and role permissions are read with their row MACs checked:
a grant inserted in SQL is ignored and logged, never honoured. Administrative changes —
roles, grants, data scopes — follow 三员分立 (see hpf.domain.access) and are audited in the
transaction that makes them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from hpf.crypto import integrity, keys
from hpf.crypto.errors import IntegrityViolation
from hpf.domain import access as rules
from hpf.domain.access import AccessRuleBroken, DataScope, RoleHeld
from hpf.domain.errors import Conflict, Forbidden, NotFound, ValidationFailed
from hpf.repositories.models import ApprovalPolicy, Role
from hpf.repositories.uow import UnitOfWork
from hpf.services import audit

log = logging.getLogger("hpf.access")


class OutOfScope(Forbidden):
    code = "out_of_scope"
    message = "该数据不在您的数据范围（所属机构）之内"


class RuleBroken(Forbidden):
    """A grant or role change refused by a separation-of-duties rule."""

    code = "access_rule"


def _broken(exc: AccessRuleBroken) -> RuleBroken:
    return RuleBroken(exc.message, code=exc.code)


@dataclass(frozen=True)
class Principal:
    """The signed-in staff member (or program, via a token) as every service sees them."""

    id: int
    username: str
    display_name: str
    org_id: int
    org_code: str
    org_name: str
    roles: tuple[RoleHeld, ...] = ()
    permissions: frozenset[str] = frozenset()
    scope: DataScope = field(default_factory=lambda: DataScope(0, frozenset()))
    scope_org_name: str = ""
    mfa_enabled: bool = False
    must_change_password: bool = False
    password_expired: bool = False
    token_id: int | None = None

    @property
    def kinds(self) -> set[str]:
        return {r.kind for r in self.roles}

    @property
    def mfa_required(self) -> bool:
        return rules.needs_second_factor(self.kinds)

    @property
    def role_names(self) -> str:
        return "、".join(r.name for r in self.roles) or "（未授权）"

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    def require(self, permission: str) -> None:
        if permission not in self.permissions:
            perm = rules.BY_CODE.get(permission)
            raise Forbidden(
                f"没有「{perm.name if perm else permission}」权限", details={"permission": permission}
            )

    def require_scope(self, org_id: int | None) -> None:
        if not self.scope.covers(org_id):
            raise OutOfScope()

    def who(self, base: audit.Who) -> audit.Who:
        return audit.Who(actor=self.username, org_code=self.org_code, ip=base.ip, request_id=base.request_id,
                         role=",".join(r.code for r in self.roles))


# ---------------------------------------------------------------- loading a principal


def load(uow: UnitOfWork, user, now: datetime | None = None, max_age_days: int = 0) -> Principal:
    """The principal of an (already verified) ``app_user`` row, inside an open unit of work."""
    ring = keys.for_engine(uow.database.engine)
    org = uow.orgs.get(user.org_id)
    settings = uow.access.security(user.id)
    reason = integrity.check_instance(ring, settings) if settings is not None else "缺少用户安全设置记录"
    if reason:  # a scope widened or a second factor switched off (or its row deleted) in SQL
        log.error("user_security %s fails its integrity check (%s)", user.id, reason)
        raise IntegrityViolation(internal=f"user_security {user.id}: {reason}")
    roles, permissions = _grants(uow, ring, user.id)
    nodes = uow.access.org_nodes()
    root = settings.scope_org_id if settings and settings.scope_org_id in nodes else None
    if root is None:
        root = rules.home_scope_root(nodes[user.org_id], nodes)
    scope_org = uow.orgs.get(root)
    changed = user.password_changed_at or user.created_at
    expired = bool(max_age_days and now and changed and now - changed > timedelta(days=max_age_days))
    return Principal(
        user.id,
        user.username,
        user.display_name,
        org.id,
        org.code,
        org.name,
        roles=tuple(roles),
        permissions=permissions,
        scope=rules.scope_for(root, nodes),
        scope_org_name=scope_org.name if scope_org else "",
        mfa_enabled=bool(settings and settings.mfa_enabled),
        must_change_password=bool(settings and settings.must_change_password),
        password_expired=expired,
    )


def _grants(uow: UnitOfWork, ring, user_id: int) -> tuple[list[RoleHeld], frozenset[str]]:
    held: list[RoleHeld] = []
    ids: list[int] = []
    for grant in uow.access.grants_of(user_id):
        if _tampered(ring, grant):
            continue
        role = uow.access.role(grant.role_id)
        if role is None or _tampered(ring, role):
            continue
        held.append(RoleHeld(role.code, role.name, role.kind, role.builtin))
        ids.append(role.id)
    perms = (
        {rp.permission for rp in uow.access.role_permissions(ids) if not _tampered(ring, rp)}
        if ids
        else set()
    )
    # Defence in depth: a role of one kind never confers another kind's permissions.
    kinds = {r.kind for r in held}
    perms = {p for p in perms if p in rules.BY_CODE and rules.BY_CODE[p].kind in kinds}
    return sorted(held, key=lambda r: r.code), frozenset(perms)


def _tampered(ring, row) -> bool:
    reason = integrity.check_instance(ring, row)
    if reason:
        log.error("ignored %s %s: %s", row.__tablename__, sa.inspect(row).identity, reason)
    return bool(reason)


# ---------------------------------------------------------------- built-in data

DEFAULT_POLICIES = [
    # (op_type, mode, threshold, checker permission)
    ("param.change", "always", None, "param:approve"),
    ("remittance.reverse", "always", None, "remittance:review"),
    ("withdrawal.large", "above", Decimal("50000.00"), "withdrawal:approve"),
    ("loan.approve", "always", None, "loan:approve"),
    ("unit.defer", "always", None, "unit:defer"),
]


def sync_builtin(uow: UnitOfWork, now: datetime) -> dict[str, int]:
    """Make the built-in roles hold exactly their permissions in code, and add the default
    maker-checker rules that are missing (a centre's own settings are kept). Idempotent;
    ``hpf db upgrade`` runs it."""
    created = changed = 0
    with uow:
        for spec in rules.BUILTIN_ROLES:
            role = uow.access.role_by_code(spec.code)
            if role is None:
                role = uow.access.add_role(
                    Role(
                        code=spec.code,
                        name=spec.name,
                        kind=spec.kind,
                        builtin=True,
                        description=spec.description,
                        created_at=now,
                    )
                )
                created += 1
            added, removed = uow.access.set_role_permissions(role.id, set(spec.permissions))
            changed += bool(added or removed)
        for op_type, mode, threshold, permission in DEFAULT_POLICIES:
            if uow.access.policy(op_type) is None:
                uow.access.add_policy(
                    ApprovalPolicy(
                        op_type=op_type,
                        mode=mode,
                        threshold=threshold,
                        checker_permission=permission,
                        updated_at=now,
                    )
                )
        uow.commit()
    return {"roles_created": created, "roles_updated": changed}


# ---------------------------------------------------------------- roles


@dataclass(frozen=True)
class RoleView:
    id: int
    code: str
    name: str
    kind: str
    kind_name: str
    builtin: bool
    description: str
    permissions: list[str]
    holders: int


def list_roles(uow: UnitOfWork, actor: Principal) -> list[RoleView]:
    actor.require("role:view")
    with uow:
        return _role_views(uow)


def _role_views(uow: UnitOfWork) -> list[RoleView]:
    perms: dict[int, list[str]] = {}
    for rp in uow.access.role_permissions():
        perms.setdefault(rp.role_id, []).append(rp.permission)
    return [
        RoleView(
            r.id,
            r.code,
            r.name,
            r.kind,
            rules.KINDS[r.kind],
            r.builtin,
            r.description,
            sorted(perms.get(r.id, [])),
            len(uow.access.holders(r.id)),
        )
        for r in uow.access.roles()
    ]


def create_role(
    uow: UnitOfWork,
    actor: Principal,
    who: audit.Who,
    now: datetime,
    *,
    code: str,
    name: str,
    kind: str,
    permissions: list[str],
    description: str = "",
) -> RoleView:
    actor.require("role:manage")
    code, name = code.strip(), name.strip()
    problems = {}
    if not code or len(code) > 40 or not all(c.isalnum() or c in "_-." for c in code):
        problems["code"] = ["角色代码为 1-40 位字母、数字或 _ - ."]
    if not name or len(name) > 60:
        problems["name"] = ["角色名称为 1-60 个字符"]
    if problems:
        raise ValidationFailed(details=problems)
    try:
        rules.check_role_permissions(kind, permissions)
    except AccessRuleBroken as exc:
        raise ValidationFailed(details={"permissions": [exc.message]}) from None
    with uow:
        if uow.access.role_by_code(code) is not None:
            raise Conflict(
                f"角色代码 {code} 已存在", code="role_exists", details={"code": ["角色代码已存在"]}
            )
        role = uow.access.add_role(
            Role(
                code=code,
                name=name,
                kind=kind,
                builtin=False,
                description=description.strip()[:200],
                created_at=now,
            )
        )
        uow.access.set_role_permissions(role.id, set(permissions))
        audit.record(
            uow,
            actor.who(who),
            "access.role.create",
            target=f"role:{code}",
            summary=f"kind={kind} permissions={' '.join(sorted(permissions))}",
            now=now,
        )
        view = next(v for v in _role_views(uow) if v.id == role.id)
        uow.commit()
    return view


def set_role_permissions(
    uow: UnitOfWork, actor: Principal, who: audit.Who, now: datetime, role_id: int, permissions: list[str]
) -> RoleView:
    actor.require("role:manage")
    with uow:
        role = uow.access.role(role_id)
        if role is None:
            raise NotFound("角色不存在", code="role_not_found")
        try:
            rules.check_role_edit(
                RoleHeld(role.code, role.name, role.kind, role.builtin),
                held_by_editor=actor.id in uow.access.holders(role.id),
            )
            rules.check_role_permissions(role.kind, permissions)
        except AccessRuleBroken as exc:
            raise _broken(exc) from None
        added, removed = uow.access.set_role_permissions(role.id, set(permissions))
        if added or removed:
            audit.record(
                uow,
                actor.who(who),
                "access.role.permissions",
                target=f"role:{role.code}",
                summary=f"+{' +'.join(sorted(added)) or '-'} -{' -'.join(sorted(removed)) or '-'}",
                now=now,
            )
        view = next(v for v in _role_views(uow) if v.id == role.id)
        uow.commit()
    return view


# ---------------------------------------------------------------- grants and scope


def set_user_roles(
    uow: UnitOfWork, actor: Principal, who: audit.Who, now: datetime, user_id: int, role_ids: list[int]
) -> list[RoleHeld]:
    """Make the user hold exactly ``role_ids`` (安全管理员). Refused: granting oneself,
    combining administrator roles or an administrator with business roles, a user outside
    one's data scope."""
    actor.require("grant:manage")
    try:
        rules.check_grant(actor.id, user_id)
    except AccessRuleBroken as exc:
        raise _broken(exc) from None
    with uow:
        user = uow.access.lock_user(user_id)
        if user is None:
            raise NotFound("用户不存在", code="user_not_found")
        actor.require_scope(user.org_id)
        wanted = {}
        for rid in dict.fromkeys(role_ids):
            role = uow.access.role(rid)
            if role is None:
                raise ValidationFailed(details={"roles": [f"角色 {rid} 不存在"]})
            wanted[rid] = role
        try:
            rules.check_role_set(RoleHeld(r.code, r.name, r.kind, r.builtin) for r in wanted.values())
        except AccessRuleBroken as exc:
            raise _broken(exc) from None
        current = {g.role_id: g for g in uow.access.grants_of(user_id)}
        added = [wanted[r] for r in wanted if r not in current]
        removed = [r for r in current if r not in wanted]
        for rid in removed:
            uow.access.revoke(current[rid])
        for role in added:
            uow.access.grant(user_id, role.id, actor.username, now)
        if added or removed:
            names = {r.id: r.code for r in uow.access.roles()}
            audit.record(
                uow,
                actor.who(who),
                "access.grant",
                target=f"user:{user.username}",
                summary=" ".join([*(f"+{r.code}" for r in added), *(f"-{names[r]}" for r in removed)]),
                now=now,
            )
        uow.commit()
        return [RoleHeld(r.code, r.name, r.kind, r.builtin) for r in wanted.values()]


def set_scope(
    uow: UnitOfWork, actor: Principal, who: audit.Who, now: datetime, user_id: int, org_id: int | None
) -> None:
    """Widen (or reset, with None) a user's data scope to the subtree of ``org_id``."""
    actor.require("grant:manage")
    try:
        rules.check_grant(actor.id, user_id)
        if org_id is not None:
            rules.check_scope_grant(actor.scope, org_id)
    except AccessRuleBroken as exc:
        raise _broken(exc) from None
    with uow:
        user = uow.access.lock_user(user_id)
        if user is None:
            raise NotFound("用户不存在", code="user_not_found")
        actor.require_scope(user.org_id)
        if org_id is not None and uow.orgs.get(org_id) is None:
            raise ValidationFailed(details={"scope_org_id": ["机构不存在"]})
        settings = uow.access.security_for_update(user_id, now)  # the ORM refuses a tampered row
        before = settings.scope_org_id
        settings.scope_org_id, settings.updated_at = org_id, now
        audit.record(
            uow,
            actor.who(who),
            "access.scope",
            target=f"user:{user.username}",
            summary=f"scope_org {before or '默认'} -> {org_id or '默认'}",
            now=now,
        )
        uow.commit()


def grant_role_codes(uow: UnitOfWork, user_id: int, codes: list[str], by: str, now: datetime) -> None:
    """Bootstrap and demo: grant built-in roles by code inside an open unit of work (the
    rules still hold)."""
    roles = [uow.access.role_by_code(c) for c in codes]
    if any(r is None for r in roles):
        raise NotFound("角色不存在", code="role_not_found")
    current = {g.role_id for g in uow.access.grants_of(user_id)}
    held = [uow.access.role(r) for r in current]
    rules.check_role_set(RoleHeld(r.code, r.name, r.kind, r.builtin) for r in [*held, *roles])
    for role in roles:
        if role.id not in current:
            uow.access.grant(user_id, role.id, by, now)
