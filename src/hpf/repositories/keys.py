"""SQL for the data-key table. Runs on its own short connection (see hpf.crypto.keys)."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from hpf.repositories.models.crypto import CryptoKey

T = CryptoKey.__table__


def all_keys(conn: Connection) -> list[Row]:
    return list(conn.execute(sa.select(T).order_by(T.c.purpose, T.c.version)))


def insert_key(conn: Connection, **values) -> None:
    conn.execute(T.insert().values(created_at=datetime.now(UTC), **values))


def retire_active(conn: Connection, purpose: str, except_key: str) -> None:
    conn.execute(T.update().where(T.c.purpose == purpose, T.c.status == "active",
                                  T.c.key_id != except_key)
                 .values(status="retired", retired_at=datetime.now(UTC)))


def rewrap(conn: Connection, key_id: str, wrapped: bytes, kek_id: str) -> None:
    conn.execute(T.update().where(T.c.key_id == key_id).values(wrapped=wrapped, kek_id=kek_id))


def delete_key(conn: Connection, key_id: str) -> None:
    conn.execute(T.delete().where(T.c.key_id == key_id, T.c.status == "retired"))
