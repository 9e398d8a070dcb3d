"""汇缴 and 补缴: the life of a remittance (汇缴单) and the rules on the months it covers.

A remittance is listed (from the roster or an imported 清册), matched to the bank credit
(到账) and posted once; a posted one is corrected only by reversal (错缴更正), after which
the month may be listed again. 补缴 covers months already behind the unit's 缴至年月 (a
missed month or a base gap) and carries its reason (HBJNY/BJYY, HPF_RULES §1.4).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hpf.domain.contribution import RuleBroken, YearMonth
from hpf.domain.errors import Conflict
from hpf.domain.ledger import BACK_PAYMENT, REMITTANCE

KINDS = {REMITTANCE: "汇缴", BACK_PAYMENT: "补缴"}
LISTED, CREDITED, POSTED, REVERSED, CANCELLED = "01", "02", "03", "04", "05"
STATES = {LISTED: "待到账", CREDITED: "已到账", POSTED: "已入账", REVERSED: "已冲销", CANCELLED: "已作废"}
CREDIT_STATES = {"0": "未匹配", "1": "已匹配", "2": "金额不符", "3": "无法识别"}
SOURCES = {"roster": "按花名册生成", "import": "清册导入"}
UNIT_CAN_REMIT = ("01", "02")  # 正常, 开户 (its first remittance makes it 正常)
UNIT_CAN_BACK_PAY = ("01", "02", "03")  # a unit in 缓缴 pays its arrears by 补缴
MAX_BACK_MONTHS = 120


class StateConflict(Conflict):
    def __init__(self, message: str, code: str = "remittance_state") -> None:
        super().__init__(message, code=code)


def live_key(unit_id: int, month: str) -> str:
    """The unique key a standing 汇缴 holds: one per unit and month."""
    return f"{unit_id}:{month}"


def number(month: YearMonth, counter: int) -> str:
    """汇缴单号: HJ + the month + an 8-digit counter (the bank 附言 carries it)."""
    return f"HJ{month}{counter:08d}"


def check_state(status: str, allowed: tuple[str, ...], action: str) -> None:
    if status not in allowed:
        raise StateConflict(f"汇缴单状态为“{STATES.get(status, status)}”，不能{action}")


def check_back_months(first: YearMonth, last: YearMonth, today: date, opened_on: date) -> int:
    """The months a 补缴 covers: first ≤ last, not before the unit opened, not in the future."""
    if last < first:
        raise RuleBroken("month_to", f"补缴截止年月 {last} 早于起始年月 {first}")
    if last > YearMonth.of(today):
        raise RuleBroken("month_to", f"不能补缴未来月份（{last} 晚于当前月份 {YearMonth.of(today)}）")
    if first < YearMonth.of(opened_on):
        raise RuleBroken("month", f"补缴起始年月 {first} 早于单位开户年月 {YearMonth.of(opened_on)}")
    months = last.index - first.index + 1
    if months > MAX_BACK_MONTHS:
        raise RuleBroken("month_to", f"一次补缴不超过 {MAX_BACK_MONTHS} 个月")
    return months


def check_reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text or len(text) > 100:
        raise RuleBroken("reason", "请填写补缴原因（不超过 100 个字符）")
    return text


def check_positive(amount: Decimal, field: str = "amount") -> Decimal:
    if amount <= 0:
        raise RuleBroken(field, f"金额必须大于零（{amount}）")
    return amount
