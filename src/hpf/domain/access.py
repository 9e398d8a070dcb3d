"""Access control rules: the permission catalogue, role kinds, separation of duties, data scope.

Pure: no I/O. A permission names one business or administrative action (``unit:open``,
``withdrawal:approve``); a role is a named set of permissions of one *kind*. The three
administrators of 三员分立 (GB/T 22239-2019 8.1.4.2 / 8.1.10.x: 系统管理员、安全管理员、审计管理员)
are kinds of their own: their roles hold only permissions of their kind, no one holds two
of them, and an administrator holds no business role.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

BUSINESS, SYSTEM, SECURITY, AUDIT = "business", "sysadmin", "secadmin", "auditadmin"
KINDS = {BUSINESS: "业务角色", SYSTEM: "系统管理员", SECURITY: "安全管理员", AUDIT: "审计管理员"}
ADMIN_KINDS = (SYSTEM, SECURITY, AUDIT)


@dataclass(frozen=True)
class Permission:
    code: str
    name: str
    group: str
    kind: str


def _perms(kind: str, group: str, *items: tuple[str, str]) -> list[Permission]:
    return [Permission(code, name, group, kind) for code, name in items]


CATALOGUE: list[Permission] = [
    # 系统管理员: accounts, organisations, parameters, code tables, jobs
    *_perms(
        SYSTEM, "用户管理", ("user:view", "查看用户"), ("user:manage", "新建/修改/停用用户、重置密码、解锁")
    ),
    *_perms(SYSTEM, "机构管理", ("org:view", "查看机构"), ("org:manage", "新建/修改机构")),
    *_perms(
        SYSTEM,
        "业务参数",
        ("param:view", "查看业务参数"),
        ("param:edit", "提交参数调整"),
        ("param:approve", "复核参数调整"),
    ),
    *_perms(SYSTEM, "数据字典", ("code:view", "查看数据字典"), ("code:manage", "维护数据字典")),
    *_perms(
        SYSTEM,
        "系统运行",
        ("system:view", "查看系统信息"),
        ("job:view", "查看作业"),
        ("job:run", "手工执行作业"),
    ),
    # 安全管理员: roles, grants, scopes, second factors, tokens, maker-checker policy
    *_perms(
        SECURITY,
        "授权管理",
        ("role:view", "查看角色与权限"),
        ("role:manage", "新建/修改角色"),
        ("grant:manage", "授予/收回角色、设置数据范围"),
        ("mfa:reset", "重置他人的动态口令"),
        ("token:manage", "查看/吊销接口令牌"),
        ("approval:policy", "设置双人复核规则"),
    ),
    # 审计管理员: the audit trail
    *_perms(
        AUDIT,
        "审计",
        ("audit:view", "查询审计日志"),
        ("audit:export", "导出审计日志"),
        ("audit:verify", "校验审计链"),
    ),
    # 业务: one permission per business action; the modules of later issues use these codes
    *_perms(
        BUSINESS,
        "单位",
        ("unit:view", "查询单位"),
        ("unit:open", "单位开户"),
        ("unit:change", "单位变更"),
        ("unit:defer", "缓缴审批"),
        ("unit:close", "单位销户"),
    ),
    *_perms(
        BUSINESS,
        "个人",
        ("person:view", "查询个人"),
        ("account:open", "个人开户"),
        ("account:change", "个人变更、封存、启封、转移"),
        ("account:freeze", "冻结/解冻"),
    ),
    *_perms(
        BUSINESS,
        "汇缴",
        ("remittance:entry", "汇缴录入/导入"),
        ("remittance:post", "汇缴入账"),
        ("remittance:reverse", "错缴更正（冲正）申请"),
        ("remittance:review", "复核汇缴冲正"),
    ),
    *_perms(
        BUSINESS,
        "提取",
        ("withdrawal:apply", "提取受理"),
        ("withdrawal:review", "提取复核"),
        ("withdrawal:approve", "提取审批（大额）"),
    ),
    *_perms(
        BUSINESS,
        "贷款",
        ("loan:apply", "贷款受理"),
        ("loan:review", "贷款复核"),
        ("loan:approve", "贷款审批"),
    ),
    *_perms(
        BUSINESS,
        "会计",
        ("ledger:view", "查询凭证与账簿"),
        ("ledger:post", "手工记账"),
        ("ledger:close", "日结/年结"),
    ),
    *_perms(BUSINESS, "稽核", ("inspection:view", "稽核查询"), ("inspection:manage", "稽核处理")),
    *_perms(BUSINESS, "查询", ("statement:view", "明细与证明")),
    *_perms(BUSINESS, "接口", ("token:self", "为本人申请接口令牌")),
]
BY_CODE: dict[str, Permission] = {p.code: p for p in CATALOGUE}


@dataclass(frozen=True)
class RoleSpec:
    code: str
    name: str
    kind: str
    permissions: frozenset[str]
    description: str = ""


def _role(code: str, name: str, kind: str, perms: Iterable[str], description: str = "") -> RoleSpec:
    return RoleSpec(code, name, kind, frozenset(perms), description)


_VIEW = ("unit:view", "person:view", "statement:view")
BUILTIN_ROLES: list[RoleSpec] = [
    _role(
        "teller",
        "柜员",
        BUSINESS,
        (
            *_VIEW,
            "unit:open",
            "unit:change",
            "account:open",
            "account:change",
            "remittance:entry",
            "remittance:post",
            "remittance:reverse",
            "withdrawal:apply",
            "loan:apply",
        ),
        "网点柜台受理与录入",
    ),
    _role(
        "reviewer",
        "复核员",
        BUSINESS,
        (*_VIEW, "remittance:review", "withdrawal:review", "loan:review", "account:freeze"),
        "对柜员业务进行复核",
    ),
    _role(
        "approver",
        "审批员",
        BUSINESS,
        (*_VIEW, "withdrawal:approve", "loan:approve", "unit:defer", "unit:close"),
        "大额提取、贷款与单位事项审批",
    ),
    _role(
        "accountant",
        "会计",
        BUSINESS,
        ("unit:view", "statement:view", "ledger:view", "ledger:post", "ledger:close"),
        "会计核算、日结",
    ),
    _role(
        "auditor",
        "稽核员",
        BUSINESS,
        (*_VIEW, "ledger:view", "inspection:view", "inspection:manage"),
        "业务稽核（不含系统审计日志）",
    ),
    _role(
        "sysadmin",
        "系统管理员",
        SYSTEM,
        (p.code for p in CATALOGUE if p.kind == SYSTEM),
        "用户、机构、参数与数据字典；不能授权，不能查看审计日志",
    ),
    _role(
        "secadmin",
        "安全管理员",
        SECURITY,
        (p.code for p in CATALOGUE if p.kind == SECURITY),
        "角色与授权、数据范围、动态口令与令牌；不能管理用户账号，不能查看审计日志",
    ),
    _role(
        "auditadmin",
        "审计管理员",
        AUDIT,
        (p.code for p in CATALOGUE if p.kind == AUDIT),
        "查询、导出与校验审计日志；不能管理用户或授权",
    ),
]
BUILTIN_BY_CODE = {r.code: r for r in BUILTIN_ROLES}


@dataclass(frozen=True)
class RoleHeld:
    """A role as the rules see it."""

    code: str
    name: str
    kind: str
    builtin: bool = False


class AccessRuleBroken(Exception):
    """A grant or role change that breaks a rule; ``message`` is Chinese, for the user."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def check_role_permissions(kind: str, permissions: Iterable[str]) -> None:
    """A role of kind K holds only known permissions of kind K."""
    if kind not in KINDS:
        raise AccessRuleBroken("unknown_role_kind", f"未知的角色类型：{kind}")
    for code in permissions:
        perm = BY_CODE.get(code)
        if perm is None:
            raise AccessRuleBroken("unknown_permission", f"未知的权限：{code}")
        if perm.kind != kind:
            raise AccessRuleBroken(
                "permission_kind_mismatch",
                f"{KINDS[kind]}类角色不能包含「{perm.name}」（{perm.code}），三员与业务权限须分离",
            )


def check_role_set(roles: Iterable[RoleHeld]) -> None:
    """三员分立: at most one administrator kind, and an administrator holds no business role."""
    kinds = {r.kind for r in roles}
    admin = [k for k in ADMIN_KINDS if k in kinds]
    if len(admin) > 1:
        names = "、".join(KINDS[k] for k in admin)
        raise AccessRuleBroken("admin_roles_exclusive", f"{names}互斥，不能授予同一用户（三员分立）")
    if admin and BUSINESS in kinds:
        raise AccessRuleBroken(
            "admin_business_exclusive", f"{KINDS[admin[0]]}不能同时持有业务角色（三员分立）"
        )


def check_grant(granter_id: int, grantee_id: int) -> None:
    if granter_id == grantee_id:
        raise AccessRuleBroken("self_grant", "不能为自己授权或修改自己的权限")


def check_role_edit(role: RoleHeld, held_by_editor: bool) -> None:
    """Built-in roles are fixed in code; nobody edits a role they hold (no self-grant)."""
    if role.builtin:
        raise AccessRuleBroken("builtin_role", f"内置角色「{role.name}」的权限不可修改，可新建自定义角色")
    if held_by_editor:
        raise AccessRuleBroken("self_grant", "不能修改自己所持有角色的权限")


def permissions_of(role_permissions: Mapping[str, Iterable[str]], roles: Iterable[str]) -> frozenset[str]:
    return frozenset(p for r in roles for p in role_permissions.get(r, ()))


def needs_second_factor(kinds: Iterable[str]) -> bool:
    """The administrators must sign in with a second factor (GB/T 22239 8.1.4.1 d)."""
    return any(k in ADMIN_KINDS for k in kinds)


# ---------------------------------------------------------------- data scope


@dataclass(frozen=True)
class OrgNode:
    id: int
    kind: str  # centre | branch | counter
    parent_id: int | None


@dataclass(frozen=True)
class DataScope:
    """The organisations whose data a user sees and acts on: a subtree of the hierarchy.
    ``org_ids`` None means the whole centre."""

    root_id: int
    org_ids: frozenset[int] | None

    def covers(self, org_id: int | None) -> bool:
        return self.org_ids is None or (org_id is not None and org_id in self.org_ids)

    @property
    def everything(self) -> bool:
        return self.org_ids is None


def home_scope_root(user_org: OrgNode, nodes: Mapping[int, OrgNode]) -> int:
    """By default a user works for their branch: a counter's staff see their branch (the
    counter's parent), a branch's staff their branch, the centre's staff the centre."""
    if user_org.kind == "counter" and user_org.parent_id is not None and user_org.parent_id in nodes:
        return user_org.parent_id
    return user_org.id


def scope_for(root_id: int, nodes: Mapping[int, OrgNode]) -> DataScope:
    root = nodes[root_id]
    if root.parent_id is None:
        return DataScope(root_id, None)
    children: dict[int | None, list[int]] = {}
    for node in nodes.values():
        children.setdefault(node.parent_id, []).append(node.id)
    found, todo = set(), [root_id]
    while todo:
        current = todo.pop()
        if current in found:
            continue  # a cycle cannot widen the scope
        found.add(current)
        todo.extend(children.get(current, ()))
    return DataScope(root_id, frozenset(found))


def check_scope_grant(granter: DataScope, wanted_root: int) -> None:
    """Nobody hands out a scope wider than their own."""
    if not granter.covers(wanted_root):
        raise AccessRuleBroken("scope_too_wide", "不能授予超出本人数据范围的机构")
