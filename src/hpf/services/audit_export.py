"""审计日志查询与导出: search the audit trail and export it for auditors (CSV, Excel).

Filters are checked in one place (``AuditFilter.of``) for the page, the API and both
exports; the SQL is in the repository. Exported text that a spreadsheet would run as a
formula (``=`` ``+`` ``-`` ``@`` …) gets a leading apostrophe.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TypedDict, Unpack

from hpf.domain.audit import AuditFilter
from hpf.domain.calendar import BUSINESS_TZ
from hpf.domain.errors import ValidationFailed
from hpf.repositories.uow import UnitOfWork

MAX_PER_PAGE = 500
EXPORT_LIMIT = 100_000
HEADER = ("序号", "时间", "操作人", "角色", "机构", "IP", "操作", "对象", "结果", "摘要", "请求编号")
RESULT_NAMES = {"success": "成功", "failure": "失败", "denied": "拒绝"}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # OWASP "CSV injection"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


class FilterArgs(TypedDict, total=False):
    actor: str | None
    action: str | None     # prefix: "auth." matches auth.login, auth.logout …
    result: str | None     # success | failure | denied
    target: str | None     # substring
    org_code: str | None
    since: datetime | None  # occurred_at >= since (timezone-aware)
    until: datetime | None  # occurred_at < until


@dataclass(frozen=True)
class AuditItem:
    seq: int
    occurred_at: datetime  # UTC
    actor: str
    role: str
    org_code: str
    ip: str
    action: str
    target: str
    result: str
    summary: str
    request_id: str


@dataclass(frozen=True)
class Page:
    items: list[AuditItem]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def search(uow: UnitOfWork, *, page: int = 1, per_page: int = 50, **filters: Unpack[FilterArgs]) -> Page:
    """审计日志查询: one page of matching records, newest first, and the total."""
    where = AuditFilter.of(**filters)
    errors = {}
    if page < 1:
        errors["page"] = ["页码从 1 开始"]
    if not 1 <= per_page <= MAX_PER_PAGE:
        errors["per_page"] = [f"每页条数应在 1 至 {MAX_PER_PAGE} 之间"]
    if errors:
        raise ValidationFailed("审计查询条件有误", details=errors)
    with uow:
        rows, total = uow.audit.search(where, (page - 1) * per_page, per_page)
    return Page([AuditItem(**row) for row in rows], total, page, per_page)


def export_csv(uow: UnitOfWork, *, limit: int = EXPORT_LIMIT, **filters: Unpack[FilterArgs]) -> bytes:
    """导出审计日志 (CSV): UTF-8 with a BOM so that Excel reads the Chinese, times in Beijing time."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    for row in _rows(uow, limit, filters):
        writer.writerow([row[0], row[1].strftime(TIME_FORMAT), *row[2:]])
    return out.getvalue().encode("utf-8-sig")


def export_xlsx(uow: UnitOfWork, *, limit: int = EXPORT_LIMIT, **filters: Unpack[FilterArgs]) -> bytes:
    """导出审计日志 (Excel .xlsx), one sheet; times are Beijing time."""
    from openpyxl import Workbook  # imported on use: it is not needed to start the server
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    book = Workbook(write_only=True)
    sheet = book.create_sheet("审计日志")
    for letter, width in zip("ABCDEFGHIJK", (10, 20, 16, 16, 10, 16, 24, 30, 8, 60, 24), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    sheet.append(HEADER)
    for row in _rows(uow, limit, filters):
        when = WriteOnlyCell(sheet, value=row[1])
        when.number_format = "yyyy-mm-dd hh:mm:ss"
        sheet.append([row[0], when, *(ILLEGAL_CHARACTERS_RE.sub(" ", v) for v in row[2:])])
    data = io.BytesIO()
    book.save(data)
    return data.getvalue()


def _rows(uow: UnitOfWork, limit: int, filters: FilterArgs) -> Iterator[tuple]:
    """(seq, naive Beijing time, guarded text …) for each record, newest first; refuses an
    export larger than ``limit`` rather than silently leaving records out."""
    where = AuditFilter.of(**filters)
    with uow:
        total = uow.audit.count(where)
        if total > limit:
            raise ValidationFailed(f"符合条件的审计记录有 {total} 条，超过单次导出上限 {limit} 条，"
                                   "请缩小时间范围", code="export_too_large")
        for r in uow.audit.newest_first(where, limit):
            when = r["occurred_at"].astimezone(BUSINESS_TZ).replace(tzinfo=None)
            text = (r["actor"], r["role"], r["org_code"], r["ip"], r["action"], r["target"],
                    RESULT_NAMES.get(r["result"], r["result"]), r["summary"], r["request_id"])
            yield (r["seq"], when, *(guard_formula(v) for v in text))


def guard_formula(text: str) -> str:
    """A cell that a spreadsheet would evaluate gets a leading apostrophe (shown as text)."""
    return "'" + text if text.startswith(FORMULA_START) else text
