"""Reference data for every screen: organisations and code tables (数据字典)."""

from __future__ import annotations

from dataclasses import dataclass

from hpf.domain.errors import NotFound
from hpf.repositories.uow import UnitOfWork


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
        items = [CodeItemView(i.code, i.name, i.active) for i in uow.codes.items(type_code)]
        return CodeTableView(table.code, table.name, table.standard, items)
