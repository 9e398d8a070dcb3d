"""Declarative base with explicit constraint naming and the adapters' support tables."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase

from hpf.crypto import fields, integrity
from hpf_adapters.db import NAMING_CONVENTION, UtcDateTime
from hpf_adapters.db.support import define_support_tables


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar = {datetime: UtcDateTime()}


support_tables = define_support_tables(Base.metadata)
# Blind indexes first: a model may list an index column among its MAC fields.
fields.install_listeners(Base)
integrity.install_listeners(Base)


def utcnow() -> datetime:
    return datetime.now(UTC)
