"""The layout of the deposit certificate (住房公积金缴存证明), drawn from its signed facts."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from hpf.documents.pdf import LATIN, MM, Document, Page, text_width

LEFT, RIGHT = 20 * MM, 190 * MM
LABEL_W, ROW_H = 26 * MM, 9 * MM


def _yuan(text: str) -> str:
    return f"{Decimal(text):,.2f} 元" if text else "—"


def _month(text: str) -> str:
    return f"{text[:4]} 年 {text[4:]} 月" if len(text) == 6 else "—"


def _date(text: str) -> str:
    return f"{text[:4]} 年 {text[5:7]} 月 {text[8:10]} 日" if len(text) == 10 else text


def rows(f: dict[str, Any]) -> list[tuple[tuple[str, str], ...]]:
    """The table: pairs of (label, value) per row; a single pair spans the full width."""
    return [
        (("姓名", f["name"]), ("证件号码", f["id_number"])),
        (("个人账号", f["account_no"]), ("账户状态", f["status_name"])),
        (("单位名称", f["unit_name"] or "—"),),
        (("单位账号", f["unit_no"] or "—"), ("开户日期", _date(f["opened_on"]))),
        (("缴存基数", _yuan(f["deposit_base"])), ("月缴存额", _yuan(f["monthly_amount"]))),
        (("账户余额", _yuan(f["balance"])), ("单位缴至", _month(f["paid_up_to"]))),
        (("截至日期", _date(f["as_of"])), ("证明用途", f["purpose"])),
    ]


def _cell(page: Page, x: float, y: float, width: float, text: str) -> None:
    size = min(10.5, (width - 4 * MM) / max(text_width(text, 1), 1))  # shrink a long unit name
    page.text(x + 2 * MM, y + (ROW_H - size) / 2 + 1, text, size=size)


def _table(page: Page, top: float, facts: dict[str, Any]) -> float:
    half = (RIGHT - LEFT) / 2
    y = top
    for row in rows(facts):
        y -= ROW_H
        page.rect(LEFT, y, RIGHT - LEFT, ROW_H)
        spans = [(LEFT, RIGHT - LEFT)] if len(row) == 1 else [(LEFT, half), (LEFT + half, half)]
        for (label, value), (x, width) in zip(row, spans, strict=True):
            page.line(x + LABEL_W, y, x + LABEL_W, y + ROW_H)
            if x > LEFT:
                page.line(x, y, x, y + ROW_H)
            _cell(page, x, y, LABEL_W, label)
            _cell(page, x + LABEL_W, y, width - LABEL_W, value)
    return y


def render_certificate(facts: dict[str, Any], signature: str, key_id: str, issued_at: datetime,
                       verify_url: str = "") -> bytes:
    """One A4 page; the same facts and signature always give the same bytes."""
    doc = Document(created=issued_at, title="住房公积金缴存证明")
    page = doc.page()
    page.centred(262 * MM, "住房公积金缴存证明", size=20)
    code = "-".join(facts["code"][i:i + 4] for i in range(0, len(facts["code"]), 4))
    page.text(LEFT, 248 * MM, f"验证码：{code}", size=10.5)
    page.text(RIGHT - text_width(f"出具日期：{_date(facts['as_of'])}", 10.5), 248 * MM,
              f"出具日期：{_date(facts['as_of'])}", size=10.5)
    bottom = _table(page, 244 * MM, facts)
    y = bottom - 10 * MM
    for line in ("兹证明上列职工在本中心缴存住房公积金，缴存情况如上。",
                 "本证明中姓名、证件号码已作脱敏处理；金额单位为人民币元。",
                 f"真伪核验：访问 {verify_url or '本中心网站“缴存证明核验”页面'}，输入上方验证码，",
                 "核验结果应与本证明所载内容一致，否则本证明无效。"):
        page.text(LEFT, y, line, size=10.5)
        y -= 7 * MM
    y -= 4 * MM
    page.text(LEFT, y, f"电子签名（SM2，密钥 {key_id}）：", size=9)
    for start in range(0, len(signature), 96):
        y -= 4.5 * MM
        page.text(LEFT, y, signature[start:start + 96], size=7, font=LATIN)
    centre = facts.get("centre") or "住房公积金管理中心"
    page.text(RIGHT - text_width(centre, 12), 40 * MM, centre, size=12)
    page.text(RIGHT - text_width(_date(facts["as_of"]), 10.5), 32 * MM, _date(facts["as_of"]), size=10.5)
    return doc.to_bytes()
