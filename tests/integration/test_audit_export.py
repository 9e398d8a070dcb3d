"""Audit search and export for auditors: filters, newest first, pages; CSV that Excel opens
(BOM, Chinese header, Beijing time) and XLSX read back; no cell runs as a formula."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook

from hpf.domain.errors import ValidationFailed
from hpf.repositories.uow import UnitOfWork
from hpf.services import audit

from .test_audit_archive import reset

T0 = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)  # 09:00 Beijing
HEADER = ["序号", "时间", "操作人", "角色", "机构", "IP", "操作", "对象", "结果", "摘要", "请求编号"]


@pytest.fixture
def trail(database):
    reset(database)
    teller = audit.Who(actor="teller01", org_code="001001", ip="10.1.2.3", request_id="req-1")
    other = audit.Who(actor="teller02", org_code="002001", ip="10.9.9.9", request_id="req-2")
    rows = [
        (teller, "auth.login", "success", "user:teller01", "登录成功"),
        (teller, "auth.login", "failure", "user:teller01", "口令错误"),
        (other, "param.value.add", "success", "param:interest.rate.current_year", "利率=0.015"),
        (other, "auth.logout", "success", "user:teller02", "=HYPERLINK(\"http://x\",\"点我\")"),
        (teller, "param.value.add", "denied", "-param:secret", "@SUM(1)\x07响铃"),
    ]
    for i, (who, action, result, target, summary) in enumerate(rows):
        audit.record_now(database, who, action, result=result, target=target, summary=summary,
                         now=T0 + timedelta(hours=i))
    yield database
    reset(database)


def seqs(page) -> list[int]:
    return [item.seq for item in page.items]


def test_search_is_newest_first_with_every_filter(trail):
    uow = UnitOfWork(trail)
    everything = audit.search(uow)
    assert seqs(everything) == [5, 4, 3, 2, 1] and everything.total == 5
    first = everything.items[-1]
    assert (first.actor, first.org_code, first.ip, first.action, first.target, first.result, first.summary,
            first.request_id) == ("teller01", "001001", "10.1.2.3", "auth.login", "user:teller01", "success",
                                  "登录成功", "req-1")
    assert first.occurred_at == T0
    assert seqs(audit.search(uow, actor="teller02")) == [4, 3]
    assert seqs(audit.search(uow, action="auth.")) == [4, 2, 1]  # a prefix
    assert seqs(audit.search(uow, action="auth.login", result="failure")) == [2]
    assert seqs(audit.search(uow, target="interest")) == [3]  # a substring
    assert seqs(audit.search(uow, target="%")) == []  # wildcards are matched literally
    assert seqs(audit.search(uow, org_code="002001")) == [4, 3]
    assert seqs(audit.search(uow, since=T0 + timedelta(hours=1), until=T0 + timedelta(hours=3))) == [3, 2]
    assert audit.search(uow, actor="nobody").total == 0


def test_search_pages(trail):
    uow = UnitOfWork(trail)
    pages = [audit.search(uow, page=n, per_page=2) for n in (1, 2, 3)]
    assert [seqs(p) for p in pages] == [[5, 4], [3, 2], [1]]
    assert all(p.total == 5 and p.pages == 3 for p in pages)
    assert seqs(audit.search(uow, page=4, per_page=2)) == []
    with pytest.raises(ValidationFailed) as bad:
        audit.search(uow, page=0, per_page=1000)
    assert set(bad.value.details) == {"page", "per_page"}
    with pytest.raises(ValidationFailed):
        audit.search(uow, result="ok")


def test_csv_export_opens_in_excel_and_runs_no_formula(trail):
    data = audit.export_csv(UnitOfWork(trail), action="auth.")
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == HEADER
    assert [r[0] for r in rows[1:]] == ["4", "2", "1"]
    assert rows[-1] == ["1", "2026-11-20 09:00:00", "teller01", "", "001001", "10.1.2.3", "auth.login",
                        "user:teller01", "成功", "登录成功", "req-1"]
    assert rows[1][9] == "'=HYPERLINK(\"http://x\",\"点我\")"
    everything = list(csv.reader(io.StringIO(audit.export_csv(UnitOfWork(trail)).decode("utf-8-sig"))))
    denied = everything[1]
    assert (denied[7], denied[8], denied[9]) == ("'-param:secret", "拒绝", "'@SUM(1)\x07响铃")


def test_xlsx_export_reads_back(trail):
    data = audit.export_xlsx(UnitOfWork(trail))
    sheet = load_workbook(io.BytesIO(data)).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert sheet.title == "审计日志" and rows[0] == HEADER and len(rows) == 6
    assert rows[1][0] == 5 and rows[1][7] == "'-param:secret" and rows[1][9] == "'@SUM(1) 响铃"
    assert rows[2][9] == "'=HYPERLINK(\"http://x\",\"点我\")"  # text, not a formula
    assert rows[5][:9] == [1, datetime(2026, 11, 20, 9, 0), "teller01", None, "001001", "10.1.2.3",
                           "auth.login", "user:teller01", "成功"]


def test_an_export_larger_than_the_limit_is_refused_not_cut(trail):
    with pytest.raises(ValidationFailed, match="超过单次导出上限 3 条") as bad:
        audit.export_csv(UnitOfWork(trail), limit=3)
    assert bad.value.code == "export_too_large"
    assert len(audit.export_xlsx(UnitOfWork(trail), limit=5)) > 0
