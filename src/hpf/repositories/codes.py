"""Code tables (数据字典)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from hpf.repositories.models import CodeItem, CodeType


class CodeRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def types(self) -> list[CodeType]:
        return list(self.session.scalars(select(CodeType).order_by(CodeType.code)))

    def get_type(self, code: str) -> CodeType | None:
        return self.session.get(CodeType, code)

    def item(self, type_code: str, code: str) -> CodeItem | None:
        return self.session.get(CodeItem, (type_code, code))

    def add_item(self, item: CodeItem) -> None:
        self.session.add(item)
        self.session.flush()

    def items(self, type_code: str) -> list[CodeItem]:
        return list(self.session.scalars(
            select(CodeItem).where(CodeItem.type_code == type_code)
            .order_by(CodeItem.sort_order, CodeItem.code)))
