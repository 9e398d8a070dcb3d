"""dated business parameters, with the national defaults

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa
from alembic import op

from hpf_adapters.db import UtcDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# (code, name, type, unit, min, max, choices, description)
DEFINITIONS = [
    ("interest.rate.current_year", "当年归集部分存款年利率", "decimal", "年利率", "0", "0.2", None,
     "结息时当年缴存部分适用的年利率"),
    ("interest.rate.prior_year", "上年结转部分存款年利率", "decimal", "年利率", "0", "0.2", None,
     "结息时上年结转部分适用的年利率"),
    ("interest.day_basis", "计息年天数", "integer", "天", "360", "366", None,
     "积数法: 利息 = 日积数之和 × 年利率 / 计息年天数"),
    ("deposit.ratio.min", "缴存比例下限", "decimal", "比例", "0", "1", None,
     "单位和职工缴存比例均不得低于此值"),
    ("deposit.ratio.max", "缴存比例上限", "decimal", "比例", "0", "1", None,
     "单位和职工缴存比例均不得高于此值"),
    ("deposit.base.cap_multiple", "缴存基数上限倍数", "decimal", "倍", "1", "5", None,
     "缴存基数上限 = 上年度职工月平均工资 × 此倍数"),
    ("deposit.rounding_unit", "月缴存额舍入单位", "decimal", "元", "0.01", "1", None,
     "单位和个人月缴存额分别舍入到此单位"),
    ("deposit.rounding_mode", "月缴存额舍入方式", "text", "", None, None, "HALF_UP,UP,DOWN",
     "HALF_UP 四舍五入; UP 进位; DOWN 舍去"),
    ("job.history_retention_days", "作业运行记录保留天数", "integer", "天", "180", "3650", None,
     "超过此天数的批处理运行记录由 system.purge_job_history 作业清理"),
]

# (code, value, effective_from, source)
VALUES = [
    ("interest.rate.current_year", "0.0035", date(2015, 10, 24), "人民银行 2015-10-24 活期存款基准利率"),
    ("interest.rate.current_year", "0.015", date(2016, 2, 21), "银发〔2016〕43号"),
    ("interest.rate.prior_year", "0.011", date(2015, 10, 24), "人民银行 2015-10-24 三个月定期存款基准利率"),
    ("interest.rate.prior_year", "0.015", date(2016, 2, 21), "银发〔2016〕43号"),
    ("interest.day_basis", "360", date(2000, 1, 1), "住房公积金结息惯例 (积数法)"),
    ("deposit.ratio.min", "0.05", date(2005, 1, 10), "建金管〔2005〕5号"),
    ("deposit.ratio.max", "0.12", date(2005, 1, 10), "建金管〔2005〕5号"),
    ("deposit.base.cap_multiple", "3", date(2005, 1, 10), "建金管〔2005〕5号"),
    ("deposit.rounding_unit", "0.01", date(2000, 1, 1), "中心默认: 舍入到分"),
    ("deposit.rounding_mode", "HALF_UP", date(2000, 1, 1), "中心默认: 四舍五入"),
    ("job.history_retention_days", "400", date(2000, 1, 1), "系统默认"),
]


def upgrade() -> None:
    param_def = op.create_table(
        "param_def",
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("value_type", sa.String(10), nullable=False),
        sa.Column("unit", sa.String(20), server_default="", nullable=False),
        sa.Column("min_value", sa.String(40), nullable=True),
        sa.Column("max_value", sa.String(40), nullable=True),
        sa.Column("choices", sa.String(200), nullable=True),
        sa.Column("description", sa.String(500), server_default="", nullable=False),
        sa.CheckConstraint("value_type IN ('decimal', 'integer', 'text', 'date')",
                           name=op.f("ck_param_def_value_type")),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_param_def")),
        comment="业务参数定义",
    )
    param_value = op.create_table(
        "param_value",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("param_code", sa.String(64), nullable=False),
        sa.Column("value", sa.String(200), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("source", sa.String(200), server_default="", nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("created_by", sa.String(64), server_default="system", nullable=False),
        sa.ForeignKeyConstraint(["param_code"], ["param_def.code"],
                                name=op.f("fk_param_value_param_code")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_param_value")),
        sa.UniqueConstraint("param_code", "effective_from",
                            name=op.f("uq_param_value_param_code_effective_from")),
        comment="业务参数取值 (按生效日期)",
    )
    op.bulk_insert(param_def, [
        dict(code=c, name=n, value_type=t, unit=u, min_value=lo, max_value=hi, choices=ch,
             description=d)
        for c, n, t, u, lo, hi, ch, d in DEFINITIONS
    ])
    now = datetime.now(UTC)
    op.bulk_insert(param_value, [
        dict(param_code=c, value=v, effective_from=f, source=s, created_at=now,
             created_by="system")
        for c, v, f, s in VALUES
    ])


def downgrade() -> None:
    op.drop_table("param_value")
    op.drop_table("param_def")
