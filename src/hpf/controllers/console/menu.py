"""The left-hand menu: grouped by area, showing only what the signed-in person may use."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass

from flask import g, request, session
from sqlalchemy.exc import SQLAlchemyError

from hpf.controllers import deps
from hpf.controllers.console.common import ANONYMOUS, bp, csrf_token, page_url
from hpf.domain.errors import HpfError
from hpf.services import approvals, params  # noqa: F401 - params registers param.change
from hpf.services.access import DEFAULT_POLICIES, Principal

log = logging.getLogger("hpf.console")


@dataclass(frozen=True)
class Item:
    label: str
    endpoint: str
    permission: str | None  # None: everyone signed in
    section: str  # the views named console.<section>_* belong to this item


@dataclass(frozen=True)
class Shown:
    item: Item
    active: bool
    badge: int | None = None


@dataclass(frozen=True)
class Group:
    label: str
    items: list[Shown]


APPROVALS = "approvals"
MENU: list[tuple[str, list[Item]]] = [
    ("工作台", [Item("工作台", "console.home", None, "home")]),
    ("复核待办", [Item("复核待办", "console.approvals_inbox", APPROVALS, "approvals")]),
    ("归集业务", [
        Item("单位", "console.units_list", "unit:view", "units"),
        Item("个人账户", "console.accounts_list", "person:view", "accounts"),
        Item("汇缴管理", "console.remittances_list", "unit:view", "remittances"),
        Item("银行到账", "console.credits_list", "remittance:post", "credits"),
    ]),
    ("会计核算", [
        Item("凭证查询", "console.vouchers_list", "ledger:view", "vouchers"),
        Item("试算平衡表", "console.trial_balance", "ledger:view", "trial"),
        Item("年度结息", "console.interest_form", "ledger:post", "interest"),
    ]),
    ("系统管理", [
        Item("用户管理", "console.users_list", "user:view", "users"),
        Item("机构管理", "console.orgs_list", "org:view", "orgs"),
        Item("业务参数", "console.params_list", "param:view", "params"),
        Item("数据字典", "console.codes_list", "code:view", "codes"),
    ]),
    ("安全管理", [
        Item("角色与权限", "console.roles_list", "role:view", "roles"),
        Item("用户授权", "console.grants_list", "grant:manage", "grants"),
        Item("复核规则", "console.policies_list", "approval:policy", "policies"),
        Item("接口令牌", "console.tokens_list", "token:manage", "tokens"),
    ]),
    ("审计", [Item("审计日志", "console.audit_list", "audit:view", "audit")]),
    ("个人", [
        Item("个人设置", "console.me_profile", None, "me"),
        Item("修改密码", "console.password_form", None, "password"),
        Item("我的接口令牌", "console.my_tokens", "token:self", "my"),
    ]),
]
PASSWORD_ONLY = [("个人", [MENU[-1][1][1]])]


def takes_part_in_approvals(principal: Principal) -> bool:
    """A checker of some rule, or a maker of an operation that may wait for one."""
    checkers = {permission for _op, _mode, _threshold, permission in DEFAULT_POLICIES}
    makers = {op.maker_permission for op in approvals.OPERATIONS.values()}
    return bool(principal.permissions & (checkers | makers))


def visible(item: Item, principal: Principal) -> bool:
    if item.permission is None:
        return True
    if item.permission == APPROVALS:
        return takes_part_in_approvals(principal)
    return principal.can(item.permission)


def section_of(endpoint: str | None) -> str:
    name = (endpoint or "").partition(".")[2]
    return "password" if name.startswith("password") else name.partition("_")[0]


def build(principal: Principal, endpoint: str | None,
          pending: int | None) -> tuple[list[Group], tuple[str, Shown] | None]:
    """The menu for ``principal`` and (group, entry) of the current page, for the breadcrumbs."""
    restricted = principal.must_change_password or principal.password_expired
    section = section_of(endpoint)
    groups, current = [], None
    for label, items in PASSWORD_ONLY if restricted else MENU:
        shown = [Shown(i, i.section == section, pending if i.section == "approvals" else None)
                 for i in items if visible(i, principal)]
        if shown:
            groups.append(Group(label, shown))
        current = current or next(((label, s) for s in shown if s.active), None)
    return groups, current


def current_principal() -> Principal | None:
    """The signed-in person for the layout (also on error pages), or None."""
    if ("actor" not in g and isinstance(session.get("uid"), int)
            and request.endpoint not in ANONYMOUS):
        with contextlib.suppress(HpfError):  # a password to change still leaves g.actor set
            deps.actor()
    return g.get("actor")


def pending_count(principal: Principal) -> int | None:
    if not takes_part_in_approvals(principal):
        return None
    try:
        return approvals.inbox_count(deps.uow(), principal)
    except (HpfError, SQLAlchemyError):  # a badge must never break the page it sits on
        log.warning("could not count pending approvals", exc_info=True)
        return None


@bp.app_context_processor
def _layout():
    principal = None if request.endpoint in ANONYMOUS else current_principal()
    context = {"csrf_token": csrf_token, "page_url": page_url, "me": principal, "menu": [], "current": None,
               "pending": None}
    if principal is not None:
        pending = None if principal.must_change_password or principal.password_expired \
            else pending_count(principal)
        context["menu"], context["current"] = build(principal, request.endpoint, pending)
        context["pending"] = pending
        context["signed_in_at"] = session.get("iat")
        context["idle_minutes"] = deps.state().settings.security.session_idle_minutes
    return context
