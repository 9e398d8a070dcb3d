"""employers (单位) and individual accounts under them; base floor and city average wage

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23

Adds the ``unit`` table (缴存登记: managing branch, ratios, deposit day, encrypted bank
account and contact phone, sealed row), links individual accounts to their unit with a
deposit base and the state to restore after a freeze, creates the counters that number
units and accounts (native sequences where the server has them; the support table
otherwise), and the dated parameters for the base floor (当地最低工资) and the city's
average wage (the cap is that wage × ``deposit.base.cap_multiple``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa
from alembic import op

from hpf_adapters.db import UtcDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

MAC = sa.String(89)
SEQUENCES = ("unit_no_seq", "account_no_seq")

# (code, name, type, unit, min, max, choices, description)
DEFINITIONS = [
    ("deposit.base.floor", "缴存基数下限", "decimal", "元", "0", "100000", None,
     "缴存基数不得低于当地最低工资标准"),
    ("deposit.city_avg_wage", "上年度职工月平均工资", "decimal", "元", "0", "1000000", None,
     "设区城市上年度职工月平均工资；缴存基数上限 = 此值 × 缴存基数上限倍数"),
]
# (code, value, effective_from, source)
VALUES = [
    ("deposit.base.floor", "2030.00", date(2022, 4, 1), "示范市最低工资标准（示例）"),
    ("deposit.city_avg_wage", "7800.00", date(2022, 7, 1), "示范市统计局（示例）"),
]


def upgrade() -> None:
    op.create_table(
        "unit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_no", sa.String(20), nullable=False),
        sa.Column("credit_code", sa.String(18), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(2), nullable=False),
        sa.Column("unit_ratio", sa.Numeric(5, 4), nullable=False),
        sa.Column("person_ratio", sa.Numeric(5, 4), nullable=False),
        sa.Column("deposit_day", sa.Integer(), nullable=False),
        sa.Column("bank_name", sa.String(100), nullable=False),
        sa.Column("bank_account", sa.String(233), nullable=False),
        sa.Column("contact_name", sa.String(60), nullable=False),
        sa.Column("contact_phone", sa.String(169), nullable=False),
        sa.Column("paid_up_to", sa.String(6), nullable=True),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("row_mac", MAC, nullable=True),
        sa.CheckConstraint("deposit_day BETWEEN 1 AND 28", name=op.f("ck_unit_deposit_day")),
        sa.ForeignKeyConstraint(["org_id"], ["org_unit.id"], name=op.f("fk_unit_org_id_org_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit")),
        sa.UniqueConstraint("credit_code", name=op.f("uq_unit_credit_code")),
        sa.UniqueConstraint("unit_no", name=op.f("uq_unit_unit_no")),
        comment="单位缴存登记（单位账户，银行账号与联系电话加密存储）",
    )
    op.create_index(op.f("ix_unit_org_id"), "unit", ["org_id"])
    with op.batch_alter_table("individual_account") as batch:
        batch.add_column(sa.Column("unit_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("deposit_base", sa.Numeric(18, 2), nullable=True))
        batch.add_column(sa.Column("status_before_freeze", sa.String(2), nullable=True))
        batch.add_column(sa.Column("closed_on", sa.Date(), nullable=True))
        batch.create_foreign_key(op.f("fk_individual_account_unit_id_unit"), "unit", ["unit_id"], ["id"])
        batch.create_index(op.f("ix_individual_account_unit_id"), ["unit_id"])

    bind = op.get_bind()
    if bind.dialect.supports_sequences:  # else: hpf_support_sequence rows, made on first use
        for name in SEQUENCES:
            op.execute(sa.schema.CreateSequence(sa.Sequence(name), if_not_exists=True))

    param_def = sa.table("param_def", *(sa.column(c) for c in (
        "code", "name", "value_type", "unit", "min_value", "max_value", "choices", "description")))
    param_value = sa.table("param_value", *(sa.column(c) for c in (
        "param_code", "value", "effective_from", "source", "created_at", "created_by")))
    op.bulk_insert(param_def, [
        dict(code=c, name=n, value_type=t, unit=u, min_value=lo, max_value=hi, choices=ch, description=d)
        for c, n, t, u, lo, hi, ch, d in DEFINITIONS
    ])
    now = datetime.now(UTC)
    op.bulk_insert(param_value, [
        dict(param_code=c, value=v, effective_from=f, source=s, created_at=now, created_by="system")
        for c, v, f, s in VALUES
    ])


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM param_value WHERE param_code IN ('deposit.base.floor', "
                       "'deposit.city_avg_wage')"))
    op.execute(sa.text("DELETE FROM param_def WHERE code IN ('deposit.base.floor', "
                       "'deposit.city_avg_wage')"))
    bind = op.get_bind()
    if bind.dialect.supports_sequences:
        for name in SEQUENCES:
            op.execute(sa.schema.DropSequence(sa.Sequence(name), if_exists=True))
    with op.batch_alter_table("individual_account") as batch:
        # The foreign key first: MySQL/MariaDB will not drop an index a foreign key uses.
        batch.drop_constraint(op.f("fk_individual_account_unit_id_unit"), type_="foreignkey")
        batch.drop_index(op.f("ix_individual_account_unit_id"))
        batch.drop_column("closed_on")
        batch.drop_column("status_before_freeze")
        batch.drop_column("deposit_base")
        batch.drop_column("unit_id")
    op.drop_table("unit")  # with its indexes (MySQL refuses to drop one its foreign key uses)
