"""Business parameters with effective dates (rates, caps, bands, rounding)."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hpf.crypto.integrity import Sealed
from hpf.repositories.models.base import Base, utcnow


class ParamDef(Base):
    __tablename__ = "param_def"
    __table_args__ = (
        sa.CheckConstraint("value_type IN ('decimal', 'integer', 'text', 'date')",
                           name="value_type"),
        {"comment": "业务参数定义"},
    )

    code: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    value_type: Mapped[str] = mapped_column(sa.String(10))
    unit: Mapped[str] = mapped_column(sa.String(20), default="", server_default="")
    min_value: Mapped[str | None] = mapped_column(sa.String(40))
    max_value: Mapped[str | None] = mapped_column(sa.String(40))
    choices: Mapped[str | None] = mapped_column(sa.String(200))  # comma-separated, for text
    description: Mapped[str] = mapped_column(sa.String(500), default="", server_default="")


class ParamValue(Sealed, Base):
    """One dated value; it holds until the next value of the same parameter takes effect."""

    # A rate or cap edited in SQL would move money: the value carries a MAC.
    __integrity__ = ("param_code", "value", "effective_from")

    __tablename__ = "param_value"
    __table_args__ = (
        sa.UniqueConstraint("param_code", "effective_from"),
        {"comment": "业务参数取值 (按生效日期)"},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    param_code: Mapped[str] = mapped_column(sa.ForeignKey("param_def.code"))
    value: Mapped[str] = mapped_column(sa.String(200))
    effective_from: Mapped[date]
    source: Mapped[str] = mapped_column(sa.String(200), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(sa.String(64), default="system",
                                            server_default="system")
