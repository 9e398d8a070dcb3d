"""明细对账单: the statement of one individual account and of one employer, on screen and as
Excel, read straight from the individual sub-ledger (account_detail) in the actor's scope.

An account statement carries the opening balance (Σ of the lines before ``date_from``), each
line with its running balance (余额) and the totals of the whole filter (收入/支出). A unit
statement lists the lines posted under the unit (account_detail.unit_id: the unit at posting
time, so a person who moved on still shows under the employer that paid) with totals per
business type. Exports are capped and audited (``statement.export``).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from hpf.crypto import masking
from hpf.domain import accounts as states
from hpf.domain.calendar import BUSINESS_TZ
from hpf.domain.errors import NotFound, ValidationFailed
from hpf.repositories.statements import DetailFilter, StatementRepository
from hpf.repositories.uow import UnitOfWork
from hpf.services import audit
from hpf.services.access import Principal
from hpf.services.units import load_in_scope

ZERO = Decimal("0.00")
EXPORT_LIMIT = 200_000
MAX_PER_PAGE = 500
# 归集业务类型 (HPF_RULES §1.3, JGJ/T 320); 70–76 are local extras.
BUSINESS_TYPES = {
    "01": "汇缴", "02": "补缴", "03": "开户", "04": "启封", "05": "封存", "06": "内部转移",
    "07": "外部转出", "08": "外部转入", "09": "年终结息", "10": "基数调整", "11": "部分提取",
    "12": "销户提取", "13": "缓缴处理", "14": "冻结", "15": "解冻", "70": "错缴更正", "99": "其他",
}
UNIT_FILTERS = ("date_from", "date_to", "business_type", "month_from", "month_to")


@dataclass(frozen=True)
class StatementLine:
    id: int
    value_date: date
    business_type: str
    business_type_name: str
    amount: Decimal
    income: Decimal | None  # 收入 (amount > 0)
    expense: Decimal | None  # 支出 (amount < 0, shown positive)
    unit_part: Decimal | None
    person_part: Decimal | None
    month: str | None
    reversal: bool
    voucher_id: int
    voucher_no: str
    balance: Decimal | None  # running balance after the line; None under a business type filter
    account_id: int
    account_no: str
    name: str


@dataclass(frozen=True)
class AccountHeader:
    id: int
    account_no: str
    name: str
    id_number: str  # masked
    unit_id: int | None
    unit_no: str | None
    unit_name: str | None
    status: str
    status_name: str
    balance: Decimal


@dataclass(frozen=True)
class AccountStatement:
    header: AccountHeader
    date_from: date | None
    date_to: date | None
    business_type: str | None
    opening: Decimal | None  # balance before date_from (0 without it); None under a type filter
    page_opening: Decimal | None  # running balance before the first line of this page
    closing: Decimal | None
    income: Decimal
    expense: Decimal
    lines: list[StatementLine]
    total: int
    page: int
    per_page: int


@dataclass(frozen=True)
class TypeTotal:
    business_type: str
    business_type_name: str
    lines: int
    amount: Decimal
    unit_part: Decimal
    person_part: Decimal


@dataclass(frozen=True)
class UnitStatement:
    unit_id: int
    unit_no: str
    unit_name: str
    org_name: str
    status_name: str
    filters: dict
    by_type: list[TypeTotal]
    amount: Decimal
    lines: list[StatementLine]
    total: int
    page: int
    per_page: int
    income: Decimal = ZERO
    expense: Decimal = ZERO


# ---------------------------------------------------------------- account

def account_statement(uow: UnitOfWork, actor: Principal, account_id: int, *, date_from: date | None = None,
                      date_to: date | None = None, business_type: str | None = None, page: int = 1,
                      per_page: int = 50) -> AccountStatement:
    """个人明细对账单: opening balance, the page's lines with the running balance, totals."""
    actor.require("statement:view")
    _check_page(page, per_page)
    _check_filters(date_from, date_to)
    where = DetailFilter(account_id=account_id, date_from=date_from, date_to=date_to,
                         business_type=business_type or None)
    with uow:
        header = _account_header(uow, actor, account_id)
        repo = StatementRepository(uow.session)
        total, income, expense = repo.totals(where)
        offset = (page - 1) * per_page
        rows = repo.lines(where, offset, per_page)
        if where.business_type:
            # A running balance over one business type would skip every other movement, so it
            # would equal the account's balance at no point in time: no balance is shown.
            opening = page_opening = closing = None
        else:
            opening = uow.collection.balance_before(account_id, date_from) if date_from else ZERO
            # Lines after date_to never precede a line of the page, so the page's opening is
            # the opening plus the lines of the filter before the page, in the same order.
            page_opening = opening + repo.sum_of_first(where, offset)
            closing = opening + income - expense
        lines = list(_lines(rows, page_opening))
    return AccountStatement(header, date_from, date_to, where.business_type, opening, page_opening, closing,
                            income, expense, lines, total, page, per_page)


def export_account_xlsx(uow: UnitOfWork, actor: Principal, who: audit.Who, now: datetime, account_id: int,
                        **filters) -> bytes:
    """导出个人明细 (Excel): the header facts, every line of the filter with its balance; audited."""
    actor.require("statement:view")
    date_from, date_to = filters.get("date_from"), filters.get("date_to")
    _check_filters(date_from, date_to)
    where = DetailFilter(account_id=account_id, date_from=date_from, date_to=date_to,
                         business_type=filters.get("business_type") or None)
    with uow:
        header = _account_header(uow, actor, account_id)
        repo = StatementRepository(uow.session)
        _check_size(repo, where)
        _, income, expense = repo.totals(where)
        running = None if where.business_type else (
            uow.collection.balance_before(account_id, date_from) if date_from else ZERO)
        facts = [("个人账号", header.account_no), ("姓名", header.name), ("证件号码", header.id_number),
                 ("单位", f"{header.unit_no or '—'} {header.unit_name or ''}".strip()),
                 ("账户状态", header.status_name), ("当前余额", header.balance),
                 *_filter_facts(where), ("期初余额", running if running is not None else "—")]
        columns = ("日期", "业务类型", "所属年月", "收入", "支出", "余额", "冲账", "凭证号")
        book = _Book("个人明细对账单", [*facts, ("导出时间", _local(now))], columns,
                     (12, 12, 10, 16, 16, 18, 8, 22))
        for line in _lines(repo.stream(where), running):
            book.row((line.value_date, line.business_type_name, line.month or "", line.income, line.expense,
                      line.balance, "冲账" if line.reversal else "", line.voucher_no))
        closing = running + income - expense if running is not None else None
        book.row(("合计", "", "", income, expense, closing, "", ""))
        data = book.save()
        audit.record(uow, actor.who(who), "statement.export", target=f"account:{header.account_no}",
                     summary=_summary(where), now=now)
        uow.commit()
    return data


# ---------------------------------------------------------------- unit

def unit_statement(uow: UnitOfWork, actor: Principal, unit_id: int, *, month_from: str | None = None,
                   month_to: str | None = None, date_from: date | None = None, date_to: date | None = None,
                   business_type: str | None = None, page: int = 1, per_page: int = 50) -> UnitStatement:
    """单位明细对账单: the lines posted under the unit, with names, and totals per business type."""
    actor.require("statement:view")
    _check_page(page, per_page)
    _check_filters(date_from, date_to, month_from, month_to)
    where = DetailFilter(unit_id=unit_id, date_from=date_from, date_to=date_to,
                         business_type=business_type or None, month_from=month_from or None,
                         month_to=month_to or None)
    with uow:
        unit, org_name = _unit(uow, actor, unit_id)
        repo = StatementRepository(uow.session)
        total, income, expense = repo.totals(where)
        by_type = _by_type(repo, where)
        lines = list(_lines(repo.lines(where, (page - 1) * per_page, per_page), None))
        return UnitStatement(unit.id, unit.unit_no, unit.name, org_name, states.UNIT_STATES[unit.status],
                             _filters_of(where), by_type, income - expense, lines, total, page, per_page,
                             income, expense)


def export_unit_xlsx(uow: UnitOfWork, actor: Principal, who: audit.Who, now: datetime, unit_id: int,
                     **filters) -> bytes:
    """导出单位明细 (Excel): the unit's facts, every line of the filter, totals per type; audited."""
    actor.require("statement:view")
    _check_filters(filters.get("date_from"), filters.get("date_to"), filters.get("month_from"),
                   filters.get("month_to"))
    where = DetailFilter(unit_id=unit_id, **{k: filters.get(k) or None for k in UNIT_FILTERS})
    with uow:
        unit, org_name = _unit(uow, actor, unit_id)
        repo = StatementRepository(uow.session)
        _check_size(repo, where)
        facts = [("单位账号", unit.unit_no), ("单位名称", unit.name), ("管理部", org_name),
                 ("单位状态", states.UNIT_STATES[unit.status]), *_filter_facts(where)]
        facts += [(f"{t.business_type_name}合计", f"{t.lines} 笔 {t.amount:,.2f} 元")
                  for t in _by_type(repo, where)]
        columns = ("日期", "个人账号", "姓名", "业务类型", "所属年月", "单位部分", "个人部分", "发生额",
                   "冲账", "凭证号")
        book = _Book("单位明细对账单", [*facts, ("导出时间", _local(now))], columns,
                     (12, 14, 12, 12, 10, 14, 14, 16, 8, 22))
        total = ZERO
        for line in _lines(repo.stream(where), None):
            total += line.amount
            book.row((line.value_date, line.account_no, line.name, line.business_type_name, line.month or "",
                      line.unit_part, line.person_part, line.amount, "冲账" if line.reversal else "",
                      line.voucher_no))
        book.row(("合计", "", "", "", "", None, None, total, "", ""))
        data = book.save()
        audit.record(uow, actor.who(who), "statement.export", target=f"unit:{unit.unit_no}",
                     summary=_summary(where), now=now)
        uow.commit()
    return data


# ---------------------------------------------------------------- voucher parties

def parties(uow: UnitOfWork, actor: Principal, unit_ids: list[int],
            account_ids: list[int]) -> tuple[dict[int, tuple[str, str]], dict[int, tuple[str, str]]]:
    """The numbers and names of the units and accounts a voucher's lines name (凭证查询)."""
    actor.require("ledger:view")
    with uow:
        repo = StatementRepository(uow.session)
        return repo.unit_numbers(sorted(set(unit_ids))), repo.account_numbers(sorted(set(account_ids)))


# ---------------------------------------------------------------- helpers

def _account_header(uow: UnitOfWork, actor: Principal, account_id: int) -> AccountHeader:
    """The account in the actor's scope (its unit's branch; no unit: centre-wide staff only)."""
    account = uow.accounts.get(account_id)
    if account is None:
        raise NotFound("个人账户不存在")
    unit = None
    if account.unit_id is None:
        actor.require_scope(None)
    else:
        unit = load_in_scope(uow, actor, account.unit_id)
    person = uow.accounts.person(account.person_id)
    return AccountHeader(account.id, account.account_no, person.name,
                         masking.mask_id_number(person.id_number), account.unit_id,
                         unit.unit_no if unit else None, unit.name if unit else None,
                         account.status, states.PERSON_STATES.get(account.status, account.status),
                         Decimal(account.balance).quantize(Decimal("0.01")))


def _unit(uow: UnitOfWork, actor: Principal, unit_id: int):
    unit = load_in_scope(uow, actor, unit_id)
    org = uow.orgs.get(unit.org_id)
    return unit, org.name if org else ""


def _lines(rows, opening: Decimal | None) -> Iterator[StatementLine]:
    """The lines with their running balance from ``opening`` (none when opening is None)."""
    running = opening
    for r in rows:
        amount = _dec(r["amount"])
        if running is not None:
            running += amount
        yield StatementLine(
            r["id"], r["value_date"], r["business_type"], _type_name(r["business_type"]), amount,
            amount if amount > 0 else None, -amount if amount < 0 else None,
            _dec(r["unit_part"]) if r["unit_part"] is not None else None,
            _dec(r["person_part"]) if r["person_part"] is not None else None,
            r["month"], r["reversal_flag"] == "1", r["voucher_id"], r["voucher_no"], running,
            r["account_id"], r["account_no"], r["name"])


def _by_type(repo: StatementRepository, where: DetailFilter) -> list[TypeTotal]:
    return [TypeTotal(t["business_type"], _type_name(t["business_type"]), t["lines"], t["amount"],
                      t["unit_part"], t["person_part"]) for t in repo.totals_by_type(where)]


def _type_name(code: str) -> str:
    return BUSINESS_TYPES.get(code, code)


def _check_page(page: int, per_page: int) -> None:
    errors: dict[str, list[str]] = {}
    if page < 1:
        errors["page"] = ["页码从 1 开始"]
    if not 1 <= per_page <= MAX_PER_PAGE:
        errors["per_page"] = [f"每页条数应在 1 至 {MAX_PER_PAGE} 之间"]
    if errors:
        raise ValidationFailed("查询条件有误", details=errors)


def _check_filters(date_from, date_to, month_from=None, month_to=None) -> None:
    errors: dict[str, list[str]] = {}
    if date_from and date_to and date_from > date_to:
        errors["date_to"] = ["截止日期不能早于起始日期"]
    for name, month in (("month_from", month_from), ("month_to", month_to)):
        if month and not (len(month) == 6 and month.isdigit() and 1 <= int(month[4:]) <= 12):
            errors[name] = ["所属年月格式应为 YYYYMM"]
    if month_from and month_to and "month_from" not in errors and "month_to" not in errors \
            and month_from > month_to:
        errors["month_to"] = ["截止年月不能早于起始年月"]
    if errors:
        raise ValidationFailed("查询条件有误", details=errors)


def _check_size(repo: StatementRepository, where: DetailFilter) -> None:
    """Refuse rather than silently leave lines out of an export."""
    count = repo.count(where)
    if count > EXPORT_LIMIT:
        message = f"符合条件的明细有 {count} 条，超过单次导出上限 {EXPORT_LIMIT} 条，请缩小查询范围"
        raise ValidationFailed(message, code="export_too_large")


def _filters_of(where: DetailFilter) -> dict:
    return {k: v for k, v in (("date_from", where.date_from), ("date_to", where.date_to),
                              ("month_from", where.month_from), ("month_to", where.month_to),
                              ("business_type", where.business_type)) if v}


def _filter_facts(where: DetailFilter) -> list[tuple[str, str]]:
    period = f"{_text(where.date_from) or '开户'} 至 {_text(where.date_to) or '今'}"
    facts = [("查询期间", period)]
    if where.month_from or where.month_to:
        facts.append(("所属年月", f"{where.month_from or '—'} 至 {where.month_to or '—'}"))
    facts.append(("业务类型", BUSINESS_TYPES.get(where.business_type, where.business_type)
                  if where.business_type else "全部"))
    return facts


def _summary(where: DetailFilter) -> str:
    return " ".join(f"{k}={_text(v)}" for k, v in _filters_of(where).items()) or "全部"


def _text(value) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else (str(value) if value else "")


def _local(moment: datetime) -> str:
    return moment.astimezone(BUSINESS_TZ).strftime("%Y-%m-%d %H:%M:%S")


def _dec(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


class _Book:
    """One write-only sheet: title, header facts, column heads, then rows (money as '#,##0.00')."""

    def __init__(self, title: str, facts, columns, widths) -> None:
        from openpyxl import Workbook  # imported on use: it is not needed to start the server
        from openpyxl.styles import Font

        self._font = Font
        self.book = Workbook(write_only=True)
        self.sheet = self.book.create_sheet(title)
        for i, width in enumerate(widths):
            self.sheet.column_dimensions[chr(ord("A") + i)].width = width
        self._cell_row([title], bold=True)
        for label, value in facts:
            self.row((label, value))
        self.sheet.append([])
        self._cell_row(columns, bold=True)

    def _cell_row(self, values, bold=False) -> None:
        from openpyxl.cell import WriteOnlyCell

        cells = []
        for v in values:
            cell = WriteOnlyCell(self.sheet, value=v)
            if bold:
                cell.font = self._font(bold=True)
            cells.append(cell)
        self.sheet.append(cells)

    def row(self, values) -> None:
        from openpyxl.cell import WriteOnlyCell

        cells = []
        for v in values:
            cell = WriteOnlyCell(self.sheet, value=_cell_value(v))
            if isinstance(v, Decimal):
                cell.number_format = "#,##0.00"
            elif isinstance(v, date):
                cell.number_format = "yyyy-mm-dd"
            cells.append(cell)
        self.sheet.append(cells)

    def save(self) -> bytes:
        data = io.BytesIO()
        self.book.save(data)
        return data.getvalue()


def _cell_value(value):
    """Text a spreadsheet would evaluate as a formula gets a leading apostrophe."""
    from hpf.services.audit_export import guard_formula

    return guard_formula(value) if isinstance(value, str) else value
