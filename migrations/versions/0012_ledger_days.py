"""closed business days (日结) and the voucher number counter

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-24

Adds ``ledger_day``, one sealed row per closed business day (postings dated on or before
the last closed day are refused), and the ``voucher_no_seq`` counter that numbers vouchers
(``JZ`` + business date + 8 digits; a native sequence where the server has them, the
support table otherwise).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hpf_adapters.db import UtcDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

MAC = sa.String(89)
SEQUENCES = ("voucher_no_seq",)


def upgrade() -> None:
    op.create_table(
        "ledger_day",
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("closed_at", UtcDateTime(), nullable=False),
        sa.Column("closed_by", sa.String(64), nullable=False),
        sa.Column("row_mac", MAC, nullable=True),
        sa.PrimaryKeyConstraint("business_date", name=op.f("pk_ledger_day")),
        comment="已日结的业务日（此日及以前不能再记账）",
    )
    bind = op.get_bind()
    if bind.dialect.supports_sequences:  # else: hpf_sequence rows, made on first use
        for name in SEQUENCES:
            op.execute(sa.schema.CreateSequence(sa.Sequence(name), if_not_exists=True))


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.supports_sequences:
        for name in SEQUENCES:
            op.execute(sa.schema.DropSequence(sa.Sequence(name), if_exists=True))
    op.drop_table("ledger_day")  # no foreign keys: closed_by is a name (a person or os:<account>)
