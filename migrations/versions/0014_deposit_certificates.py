"""deposit certificates (缴存证明) with a verification code and an SM2 signature

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04

Adds ``deposit_certificate``: one sealed row per printed certificate, holding the printed
facts (canonical JSON), the centre's SM2 signature over them and the signing key id, so
that anyone can check a certificate by its verification code (验证码) on the public page.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hpf_adapters.db import UtcDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

MAC = sa.String(89)


def upgrade() -> None:
    op.create_table(
        "deposit_certificate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(16), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(40), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("issued_at", UtcDateTime(), nullable=False),
        sa.Column("issued_by", sa.String(64), nullable=False),
        sa.Column("facts", sa.Text(), nullable=False),
        sa.Column("signature", sa.String(144), nullable=False),
        sa.Column("key_id", sa.String(24), nullable=False),
        sa.Column("revoked_at", UtcDateTime(), nullable=True),
        sa.Column("row_mac", MAC, nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["individual_account.id"],
                                name=op.f("fk_deposit_certificate_account_id_individual_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deposit_certificate")),
        sa.UniqueConstraint("code", name=op.f("uq_deposit_certificate_code")),
        comment="缴存证明（打印内容、验证码与 SM2 签名，供公开核验）",
    )
    op.create_index(op.f("ix_deposit_certificate_account_id"), "deposit_certificate", ["account_id"])


def downgrade() -> None:
    op.drop_table("deposit_certificate")  # its index and foreign key go with it (MariaDB 1553)
