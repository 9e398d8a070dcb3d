"""Reference data for every screen: organisations and code tables (数据字典)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from hpf.domain.errors import Conflict, NotFound, ValidationFailed
from hpf.repositories.models import CodeItem
from hpf.repositories.uow import UnitOfWork
from hpf.services import audit
from hpf.services.access import Principal

ITEM_CODE = re.compile(r"^[0-9A-Za-z]{1,16}$")


@dataclass(frozen=True)
class OrgView:
    id: int
    code: str
    name: str
    kind: str
    parent_code: str | None
    region_code: str | None
    active: bool


@dataclass(frozen=True)
class CodeItemView:
    code: str
    name: str
    active: bool
    local: bool = False


@dataclass(frozen=True)
class CodeTableView:
    code: str
    name: str
    standard: str
    items: list[CodeItemView]


def list_orgs(uow: UnitOfWork) -> list[OrgView]:
    with uow:
        orgs = uow.orgs.all()
        codes = {o.id: o.code for o in orgs}
        return [OrgView(o.id, o.code, o.name, o.kind, codes.get(o.parent_id), o.region_code,
                        o.active) for o in orgs]


def list_code_tables(uow: UnitOfWork) -> list[CodeTableView]:
    with uow:
        return [CodeTableView(t.code, t.name, t.standard, []) for t in uow.codes.types()]


def get_code_table(uow: UnitOfWork, type_code: str) -> CodeTableView:
    with uow:
        table = uow.codes.get_type(type_code)
        if table is None:
            raise NotFound(f"代码类别 {type_code} 不存在", code="unknown_code_table")
        items = [CodeItemView(i.code, i.name, i.active, i.local) for i in uow.codes.items(type_code)]
        return CodeTableView(table.code, table.name, table.standard, items)


def add_code_item(uow: UnitOfWork, actor: Principal, who: audit.Who, now: datetime, type_code: str, *,
                  code: str, name: str) -> CodeTableView:
    """A centre's own item in a code table (the standard's items stay as published)."""
    actor.require("code:manage")
    code, name = code.strip(), name.strip()
    problems: dict[str, list[str]] = {}
    if not ITEM_CODE.match(code):
        problems["code"] = ["代码为 1-16 位字母或数字"]
    if not name or len(name) > 100:
        problems["name"] = ["名称为 1-100 个字符"]
    if problems:
        raise ValidationFailed(details=problems)
    with uow:
        if uow.codes.get_type(type_code) is None:
            raise NotFound(f"代码类别 {type_code} 不存在", code="unknown_code_table")
        if uow.codes.item(type_code, code) is not None:
            raise Conflict("代码已存在", code="code_item_exists", details={"code": ["该代码已存在"]})
        order = max((i.sort_order for i in uow.codes.items(type_code)), default=0) + 1
        uow.codes.add_item(CodeItem(type_code=type_code, code=code, name=name, sort_order=order, active=True,
                                    local=True))
        audit.record(uow, actor.who(who), "code.item.add", target=f"code:{type_code}.{code}", summary=name,
                     now=now)
        uow.commit()
    return get_code_table(uow, type_code)


def change_code_item(uow: UnitOfWork, actor: Principal, who: audit.Who, now: datetime, type_code: str,
                     code: str, *, name: str | None = None, active: bool | None = None) -> CodeTableView:
    """Rename a local item; switch any item on or off (a standard code a centre does not use)."""
    actor.require("code:manage")
    with uow:
        item = uow.codes.item(type_code, code)
        if item is None:
            raise NotFound("代码项不存在", code="unknown_code_item")
        changes = []
        if name is not None and name.strip() != item.name:
            if not item.local:
                raise ValidationFailed(details={"name": ["标准代码（JGJ/T 320）的名称不能修改，只能停用"]})
            if not name.strip() or len(name.strip()) > 100:
                raise ValidationFailed(details={"name": ["名称为 1-100 个字符"]})
            changes.append(f"name={name.strip()}")
            item.name = name.strip()
        if active is not None and active != item.active:
            changes.append("启用" if active else "停用")
            item.active = active
        if changes:
            audit.record(uow, actor.who(who), "code.item.change", target=f"code:{type_code}.{code}",
                         summary=" ".join(changes), now=now)
        uow.commit()
    return get_code_table(uow, type_code)
