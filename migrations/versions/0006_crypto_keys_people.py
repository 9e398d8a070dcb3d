"""national crypto: data keys, integrity MACs, encrypted personal data, ledger

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22

Adds the wrapped data-key table, a ``row_mac`` (HMAC-SM3) on staff users and parameter
values, and the depositor and individual-account tables whose identity numbers, phones
and bank cards are stored SM4-GCM encrypted with blind indexes, and the ledger's voucher
and entry tables, sealed like the balances. Existing rows get their MACs from
``hpf db upgrade`` right after the migration (the keys live outside SQL).
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
        sa.Column("row_mac", MAC, nullable=True),
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

    op.create_table(
        "ledger_voucher",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("voucher_no", sa.String(32), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("business_type", sa.String(4), nullable=False),
        sa.Column("summary", sa.String(200), nullable=False),
        sa.Column("reversal_of_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("row_mac", MAC, nullable=True),
        sa.ForeignKeyConstraint(["reversal_of_id"], ["ledger_voucher.id"],
                                name=op.f("fk_ledger_voucher_reversal_of_id_ledger_voucher")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_voucher")),
        sa.UniqueConstraint("voucher_no", name=op.f("uq_ledger_voucher_voucher_no")),
        comment="记账凭证（只增不改，错账以红字冲销）",
    )
    op.create_index(op.f("ix_ledger_voucher_business_date"), "ledger_voucher", ["business_date"])
    op.create_table(
        "ledger_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("voucher_id", sa.Integer(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("subject_code", sa.String(12), nullable=False),
        sa.Column("debit", sa.Numeric(18, 2), nullable=False),
        sa.Column("credit", sa.Numeric(18, 2), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("row_mac", MAC, nullable=True),
        sa.CheckConstraint("debit >= 0 AND credit >= 0 AND (debit = 0 OR credit = 0)",
                           name=op.f("ck_ledger_entry_one_side")),
        sa.ForeignKeyConstraint(["account_id"], ["individual_account.id"],
                                name=op.f("fk_ledger_entry_account_id_individual_account")),
        sa.ForeignKeyConstraint(["voucher_id"], ["ledger_voucher.id"],
                                name=op.f("fk_ledger_entry_voucher_id_ledger_voucher")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entry")),
        sa.UniqueConstraint("voucher_id", "line_no", name=op.f("uq_ledger_entry_voucher_id_line_no")),
        comment="会计分录（借贷记账，带完整性校验值）",
    )
    op.create_index(op.f("ix_ledger_entry_account_id"), "ledger_entry", ["account_id"])
    op.create_index(op.f("ix_ledger_entry_subject_code"), "ledger_entry", ["subject_code"])


def downgrade() -> None:
    op.drop_table("ledger_entry")
    op.drop_table("ledger_voucher")
    op.drop_table("individual_account")
    op.drop_table("person")
    with op.batch_alter_table("param_value") as batch:
        batch.drop_column("row_mac")
    with op.batch_alter_table("app_user") as batch:
        batch.drop_column("row_mac")
    op.drop_table("crypto_key")
