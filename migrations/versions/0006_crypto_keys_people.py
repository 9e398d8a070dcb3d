"""national crypto: data keys, integrity MACs, encrypted personal data

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22

Adds the wrapped data-key table, a ``row_mac`` (HMAC-SM3) on staff users and parameter
values, and the depositor and individual-account tables whose identity numbers, phones
and bank cards are stored SM4-GCM encrypted with blind indexes. Existing rows get their
MACs from ``hpf db upgrade`` right after the migration (the keys live outside SQL).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hpf_adapters.db import UtcDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

MAC = sa.String(89)
BIDX = sa.String(57)


def upgrade() -> None:
    op.create_table(
        "crypto_key",
        sa.Column("key_id", sa.String(24), nullable=False),
        sa.Column("purpose", sa.String(20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("algorithm", sa.String(20), nullable=False),
        sa.Column("wrapped", sa.LargeBinary(1024), nullable=False),
        sa.Column("kek_id", sa.String(40), nullable=False),
        sa.Column("check_value", sa.String(16), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("retired_at", UtcDateTime(), nullable=True),
        sa.CheckConstraint("status IN ('active', 'retired')", name=op.f("ck_crypto_key_status")),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_crypto_key")),
        sa.UniqueConstraint("purpose", "version", name=op.f("uq_crypto_key_purpose_version")),
        comment="数据密钥（由主密钥加密保护）",
    )
    with op.batch_alter_table("app_user") as batch:
        batch.add_column(sa.Column("row_mac", MAC, nullable=True))
    with op.batch_alter_table("param_value") as batch:
        batch.add_column(sa.Column("row_mac", MAC, nullable=True))

    op.create_table(
        "person",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(60), nullable=False),
        sa.Column("id_type", sa.String(2), nullable=False),
        sa.Column("id_number", sa.String(233), nullable=False),
        sa.Column("id_number_bidx", BIDX, nullable=False),
        sa.Column("phone", sa.String(169), nullable=True),
        sa.Column("phone_bidx", BIDX, nullable=True),
        sa.Column("bank_card", sa.String(233), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person")),
        comment="个人基本信息（证件号、手机号、银行卡号加密存储）",
    )
    op.create_index(op.f("ix_person_id_number_bidx"), "person", ["id_number_bidx"])
    op.create_index(op.f("ix_person_phone_bidx"), "person", ["phone_bidx"])
    op.create_table(
        "individual_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_no", sa.String(20), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(2), nullable=False),
        sa.Column("balance", sa.Numeric(18, 2), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("row_mac", MAC, nullable=True),
        sa.CheckConstraint("balance >= 0", name=op.f("ck_individual_account_balance_not_negative")),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"],
                                name=op.f("fk_individual_account_person_id_person")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_individual_account")),
        sa.UniqueConstraint("account_no", name=op.f("uq_individual_account_account_no")),
        comment="个人住房公积金账户（余额带完整性校验值）",
    )
    op.create_index(op.f("ix_individual_account_person_id"), "individual_account", ["person_id"])


def downgrade() -> None:
    op.drop_table("individual_account")
    op.drop_table("person")
    with op.batch_alter_table("param_value") as batch:
        batch.drop_column("row_mac")
    with op.batch_alter_table("app_user") as batch:
        batch.drop_column("row_mac")
    op.drop_table("crypto_key")
