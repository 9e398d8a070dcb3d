"""remittance (汇缴/补缴), bank credits, individual account detail, interest runs

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04

- ``account_detail`` (个人明细): one signed line per movement of an individual account
  (deposits, interest, withdrawals, their reversals); interest is computed from it.
- ``remittance`` (汇缴单/补缴单) and ``remittance_line`` (清册 lines): a unit's list for a
  month, matched to a ``bank_credit`` (到账) and posted once (``live_key`` is unique while
  the remittance stands, so one unit-month cannot be listed twice).
- ``interest_run`` (年度结息): one row per settled interest year, so a re-run posts nothing.
- ``idempotency_record``: the first response to a POST with an ``Idempotency-Key``.
- ``ledger_entry.unit_id``: the unit sub-ledger of subject 201.
- The account's integrity MAC no longer covers ``balance``: balances move set-based (a
  month's remittance updates a million rows in one statement) and are proven instead by
  ``hpf ledger check`` against the detail and subject 201. Existing MACs are cleared here
  and re-sealed by ``hpf db upgrade`` (services.crypto.prepare).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hpf_adapters.db import UtcDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

MAC = sa.String(89)
MONEY = sa.Numeric(18, 2)
BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
SEQUENCES = ("remittance_no_seq",)


def upgrade() -> None:
    op.create_table(
        "bank_credit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bank_ref", sa.String(40), nullable=False),
        sa.Column("payer_account", sa.String(40), nullable=False),
        sa.Column("payer_name", sa.String(100), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("value_date", sa.Date(), nullable=False),
        sa.Column("reference", sa.String(200), nullable=False),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.Column("status", sa.String(2), nullable=False),
        sa.Column("remittance_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(200), nullable=True),
        sa.Column("row_mac", MAC, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_credit")),
        sa.UniqueConstraint("bank_ref", name=op.f("uq_bank_credit_bank_ref")),
        comment="银行到账流水（来自银行接口，匹配汇缴单）",
    )
    op.create_index(op.f("ix_bank_credit_status"), "bank_credit", ["status"])
    op.create_table(
        "remittance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("remittance_no", sa.String(16), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(2), nullable=False),
        sa.Column("month", sa.String(6), nullable=False),
        sa.Column("month_to", sa.String(6), nullable=False),
        sa.Column("reason", sa.String(100), nullable=True),
        sa.Column("source", sa.String(10), nullable=False),
        sa.Column("status", sa.String(2), nullable=False),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.Column("unit_total", MONEY, nullable=False),
        sa.Column("person_total", MONEY, nullable=False),
        sa.Column("total", MONEY, nullable=False),
        sa.Column("live_key", sa.String(40), nullable=True),
        sa.Column("bank_credit_id", sa.Integer(), nullable=True),
        sa.Column("credited_on", sa.Date(), nullable=True),
        sa.Column("voucher_id", sa.Integer(), nullable=True),
        sa.Column("posted_on", sa.Date(), nullable=True),
        sa.Column("posted_by", sa.String(64), nullable=True),
        sa.Column("reversal_voucher_id", sa.Integer(), nullable=True),
        sa.Column("reversal_reason", sa.String(100), nullable=True),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("row_mac", MAC, nullable=True),
        sa.CheckConstraint("total = unit_total + person_total", name=op.f("ck_remittance_total_parts")),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_remittance_unit_id_unit")),
        sa.ForeignKeyConstraint(
            ["bank_credit_id"], ["bank_credit.id"], name=op.f("fk_remittance_bank_credit_id_bank_credit")
        ),
        sa.ForeignKeyConstraint(
            ["voucher_id"], ["ledger_voucher.id"], name=op.f("fk_remittance_voucher_id_ledger_voucher")
        ),
        sa.ForeignKeyConstraint(
            ["reversal_voucher_id"],
            ["ledger_voucher.id"],
            name=op.f("fk_remittance_reversal_voucher_id_ledger_voucher"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_remittance")),
        sa.UniqueConstraint("remittance_no", name=op.f("uq_remittance_remittance_no")),
        sa.UniqueConstraint("live_key", name=op.f("uq_remittance_live_key")),
        sa.UniqueConstraint("bank_credit_id", name=op.f("uq_remittance_bank_credit_id")),
        comment="汇缴单/补缴单（缴存清册表头；到账匹配后入账，错缴以冲销更正）",
    )
    op.create_index(op.f("ix_remittance_unit_id"), "remittance", ["unit_id", "month"])
    op.create_index(op.f("ix_remittance_status"), "remittance", ["status"])
    op.create_table(
        "remittance_line",
        sa.Column("remittance_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("base", MONEY, nullable=False),
        sa.Column("unit_amount", MONEY, nullable=False),
        sa.Column("person_amount", MONEY, nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.CheckConstraint(
            "unit_amount >= 0 AND person_amount >= 0 AND amount = unit_amount + person_amount",
            name=op.f("ck_remittance_line_parts"),
        ),
        sa.ForeignKeyConstraint(
            ["remittance_id"], ["remittance.id"], name=op.f("fk_remittance_line_remittance_id_remittance")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["individual_account.id"],
            name=op.f("fk_remittance_line_account_id_individual_account"),
        ),
        sa.PrimaryKeyConstraint("remittance_id", "account_id", name=op.f("pk_remittance_line")),
        comment="缴存清册明细（每人一行：基数、单位与个人月缴存额）",
    )
    op.create_table(
        "account_detail",
        sa.Column("id", BIGID, autoincrement=True, nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("value_date", sa.Date(), nullable=False),
        sa.Column("business_type", sa.String(2), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("unit_part", MONEY, nullable=True),
        sa.Column("person_part", MONEY, nullable=True),
        sa.Column("month", sa.String(6), nullable=True),
        sa.Column("voucher_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.Column("reversal_flag", sa.String(1), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["individual_account.id"],
            name=op.f("fk_account_detail_account_id_individual_account"),
        ),
        sa.ForeignKeyConstraint(
            ["voucher_id"], ["ledger_voucher.id"], name=op.f("fk_account_detail_voucher_id_ledger_voucher")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_detail")),
        comment="个人明细账（带符号金额；计息按明细积数计算；错账以冲账行更正）",
    )
    op.create_index(op.f("ix_account_detail_account_id"), "account_detail", ["account_id", "value_date"])
    op.create_index(op.f("ix_account_detail_unit_id"), "account_detail", ["unit_id", "value_date"])
    op.create_index(op.f("ix_account_detail_voucher_id"), "account_detail", ["voucher_id"])
    op.create_table(
        "interest_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("interest_year", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("settled_on", sa.Date(), nullable=False),
        sa.Column("accounts", sa.Integer(), nullable=False),
        sa.Column("total", MONEY, nullable=False),
        sa.Column("voucher_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("row_mac", MAC, nullable=True),
        sa.ForeignKeyConstraint(
            ["voucher_id"], ["ledger_voucher.id"], name=op.f("fk_interest_run_voucher_id_ledger_voucher")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interest_run")),
        sa.UniqueConstraint("interest_year", name=op.f("uq_interest_run_interest_year")),
        comment="年度结息批次（每个结息年度一次，重跑不重复入账）",
    )
    op.create_table(
        "idempotency_record",
        sa.Column("principal", sa.String(64), nullable=False),
        sa.Column("idem_key", sa.String(64), nullable=False),
        sa.Column("endpoint", sa.String(200), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.Text(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("principal", "idem_key", name=op.f("pk_idempotency_record")),
        comment="接口幂等键（重复提交返回首次结果）",
    )
    op.create_index(op.f("ix_idempotency_record_created_at"), "idempotency_record", ["created_at"])
    with op.batch_alter_table("ledger_entry") as batch:
        batch.add_column(sa.Column("unit_id", sa.Integer(), nullable=True))
        batch.create_index(op.f("ix_ledger_entry_unit_id"), ["unit_id"])
    # The MAC no longer covers the balance (see the docstring): re-sealed after upgrade.
    op.execute(sa.text("UPDATE individual_account SET row_mac = NULL"))
    bind = op.get_bind()
    if bind.dialect.supports_sequences:
        for name in SEQUENCES:
            op.execute(sa.schema.CreateSequence(sa.Sequence(name), if_not_exists=True))


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.supports_sequences:
        for name in SEQUENCES:
            op.execute(sa.schema.DropSequence(sa.Sequence(name), if_exists=True))
    op.execute(sa.text("UPDATE individual_account SET row_mac = NULL"))
    with op.batch_alter_table("ledger_entry") as batch:
        batch.drop_index(op.f("ix_ledger_entry_unit_id"))
        batch.drop_column("unit_id")
    op.drop_table("idempotency_record")
    op.drop_table("interest_run")
    op.drop_table("account_detail")
    op.drop_table("remittance_line")
    op.drop_table("remittance")
    op.drop_table("bank_credit")
