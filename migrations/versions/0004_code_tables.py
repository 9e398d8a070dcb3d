"""code tables (数据字典) with the JGJ/T 320-2014 standard codes

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

STANDARD = "JGJ/T 320-2014"
TYPES = {
    "ZJLX": ("证件类型", [("01", "居民身份证"), ("02", "军官证"), ("03", "护照"),
                      ("04", "外国人永久居留身份证"), ("99", "其他")]),
    "GRZHZT": ("个人账户状态", [("01", "正常"), ("02", "封存"), ("03", "合并销户"),
                          ("04", "外部转出销户"), ("05", "提取销户"), ("06", "冻结"),
                          ("99", "其他")]),
    "DWZHZT": ("单位账户状态", [("01", "正常"), ("02", "开户"), ("03", "缓缴"), ("04", "销户"),
                          ("05", "封存"), ("99", "其他")]),
    "GJYWLX": ("归集业务类型", [("01", "汇缴"), ("02", "补缴"), ("03", "开户"), ("04", "启封"),
                          ("05", "封存"), ("06", "内部转移"), ("07", "外部转出"),
                          ("08", "外部转入"), ("09", "年终结息"), ("10", "基数调整"),
                          ("11", "部分提取"), ("12", "销户提取"), ("13", "缓缴处理"),
                          ("14", "冻结"), ("15", "解冻"), ("99", "其他")]),
    "TQYY": ("提取原因", [("01", "购买住房"), ("02", "建造、翻建、大修自住住房"),
                      ("03", "离休、退休"), ("04", "完全丧失劳动能力并与单位终止劳动关系"),
                      ("05", "户口迁出所在市县或出境定居"), ("06", "偿还购房贷款本息"),
                      ("07", "支付房租"), ("08", "死亡或被宣告死亡"), ("09", "生活困难"),
                      ("99", "其他")]),
    "DKHKFS": ("贷款还款方式", [("01", "等额本息"), ("02", "等额本金")]),
    "CZBZ": ("冲账标识", [("01", "非冲账"), ("02", "冲账")]),
    "ZJXZ": ("资金性质", [("01", "住房公积金存款"), ("02", "委托贷款户"), ("03", "增值收益存款")]),
    "WJFL": ("贷款五级分类", [("1", "正常"), ("2", "关注"), ("3", "次级"), ("4", "可疑"),
                        ("5", "损失")]),
}


def upgrade() -> None:
    code_type = op.create_table(
        "code_type",
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("standard", sa.String(50), server_default="", nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_code_type")),
        comment="代码类别",
    )
    code_item = op.create_table(
        "code_item",
        sa.Column("type_code", sa.String(32), nullable=False),
        sa.Column("code", sa.String(16), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("sort_order", sa.Integer(), server_default="0", nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.ForeignKeyConstraint(["type_code"], ["code_type.code"],
                                name=op.f("fk_code_item_type_code")),
        sa.PrimaryKeyConstraint("type_code", "code", name=op.f("pk_code_item")),
        comment="代码项",
    )
    op.bulk_insert(code_type, [dict(code=c, name=n, standard=STANDARD)
                               for c, (n, _) in TYPES.items()])
    op.bulk_insert(code_item, [
        dict(type_code=t, code=c, name=n, sort_order=i, active=True)
        for t, (_, items) in TYPES.items() for i, (c, n) in enumerate(items, start=1)
    ])


def downgrade() -> None:
    op.drop_table("code_item")
    op.drop_table("code_type")
