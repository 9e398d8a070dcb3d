"""The tamper-evident audit trail: records chained by SM3, a sealed chain head, and
SM2-signed checkpoints (see hpf.domain.audit)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hpf.crypto.integrity import Sealed
from hpf.repositories.models.base import Base


class AuditEvent(Sealed, Base):
    __tablename__ = "audit_event"
    __table_args__ = (
        sa.CheckConstraint("result IN ('success', 'failure', 'denied')", name="result"),
        {"comment": "审计记录（只增不改，SM3 哈希链）"},
    )
    # The hash covers every content field; the keyed MAC over (seq, hash) makes a record
    # rewritten with a recomputed SM3 hash show at once, not only at the next checkpoint.
    __integrity__ = ("seq", "hash")

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(unique=True)
    occurred_at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(sa.String(80), index=True)
    org_code: Mapped[str] = mapped_column(sa.String(20))
    ip: Mapped[str] = mapped_column(sa.String(45))
    action: Mapped[str] = mapped_column(sa.String(60), index=True)
    target: Mapped[str] = mapped_column(sa.String(200))
    result: Mapped[str] = mapped_column(sa.String(10))
    summary: Mapped[str] = mapped_column(sa.String(2000))
    request_id: Mapped[str] = mapped_column(sa.String(64))
    role: Mapped[str] = mapped_column(sa.String(60), default="", server_default="")
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64))


class AuditChain(Sealed, Base):
    """One row: the chain's head. Appending locks it, which orders the records."""

    __tablename__ = "audit_chain"
    __table_args__ = ({"comment": "审计哈希链链头"},)
    __integrity__ = ("id", "last_seq", "last_hash")

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_seq: Mapped[int]
    last_hash: Mapped[str] = mapped_column(sa.String(64))


class AuditCheckpoint(Base):
    __tablename__ = "audit_checkpoint"
    __table_args__ = ({"comment": "审计链检查点（SM2 签名）"},)

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(index=True)
    chain_hash: Mapped[str] = mapped_column(sa.String(64))
    signed_at: Mapped[datetime]
    key_id: Mapped[str] = mapped_column(sa.String(24))
    signature: Mapped[str] = mapped_column(sa.String(200))  # DER, hex


class AuditArchive(Base):
    """One archive file: records ``from_seq``..``to_seq`` moved out of ``audit_event``.

    The remaining chain starts at ``to_seq + 1`` and links to ``last_hash``. Every field but
    ``id``, ``key_id`` and ``signature`` is covered by the SM2 signature (no row MAC needed).
    """

    __tablename__ = "audit_archive"
    __table_args__ = ({"comment": "审计记录归档登记（归档文件 SM3 与 SM2 签名）"},)

    id: Mapped[int] = mapped_column(primary_key=True)
    from_seq: Mapped[int] = mapped_column(unique=True)
    to_seq: Mapped[int]
    record_count: Mapped[int]
    last_hash: Mapped[str] = mapped_column(sa.String(64))  # hash of record to_seq: the anchor
    cutoff: Mapped[datetime]  # records strictly before it were archived
    file_name: Mapped[str] = mapped_column(sa.String(255))
    file_sm3: Mapped[str] = mapped_column(sa.String(64))
    archived_at: Mapped[datetime]
    archived_by: Mapped[str] = mapped_column(sa.String(80))
    key_id: Mapped[str] = mapped_column(sa.String(24))
    signature: Mapped[str] = mapped_column(sa.String(200))  # DER, hex
