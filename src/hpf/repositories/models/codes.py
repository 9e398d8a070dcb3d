"""Code tables (数据字典) per JGJ/T 320-2014 住房公积金基础数据标准."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hpf.repositories.models.base import Base


class CodeType(Base):
    __tablename__ = "code_type"
    __table_args__ = ({"comment": "代码类别"},)

    code: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    standard: Mapped[str] = mapped_column(sa.String(50), default="", server_default="")


class CodeItem(Base):
    __tablename__ = "code_item"
    __table_args__ = ({"comment": "代码项"},)

    type_code: Mapped[str] = mapped_column(sa.ForeignKey("code_type.code"), primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    sort_order: Mapped[int] = mapped_column(default=0, server_default="0")
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    local: Mapped[bool] = mapped_column(default=False, server_default=sa.false())  # added by the centre
