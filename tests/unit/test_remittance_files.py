import io

import pytest
from openpyxl import Workbook, load_workbook

from hpf.domain.errors import ValidationFailed
from hpf.domain.remittance_list import (
    ACCOUNT,
    BASE,
    COLUMNS,
    ID_NO,
    NAME,
    PERSON_AMOUNT,
    TOTAL,
    UNIT_AMOUNT,
    WHOLE_FILE,
    ListRejected,
    RawRow,
    RowError,
)
from hpf.services import remittance_files
from hpf.services.remittance_files import error_report_xlsx, read_rows, template_xlsx

HEADER = ["序号", "个人账号", "姓名", "证件号码", "缴存基数", "单位月缴存额", "个人月缴存额", "月缴存额合计"]


def xlsx(*rows) -> bytes:
    book = Workbook()
    sheet = book.active
    for r in rows:
        sheet.append(list(r))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(rows, encoding: str) -> bytes:
    return "\r\n".join(",".join(r) for r in rows).encode(encoding)


# --- xlsx ----------------------------------------------------------------------------------------

def test_xlsx_rows_keep_spreadsheet_row_numbers_and_skip_empty_rows():
    data = xlsx([None], [None, None], HEADER,
                [1, "100000000001", "张三", "110101199003071234", 5000, 600, 600.0, 1200],
                [None, None, None],
                [2, "100000000002", "李四", "x", 3337.5, 166.88, 0.1 + 0.2, None])
    rows = read_rows("清册.xlsx", data)
    assert rows == [
        RawRow(4, {ACCOUNT: "100000000001", NAME: "张三", ID_NO: "110101199003071234", BASE: "5000",
                   UNIT_AMOUNT: "600", PERSON_AMOUNT: "600", TOTAL: "1200"}),
        RawRow(6, {ACCOUNT: "100000000002", NAME: "李四", ID_NO: "x", BASE: "3337.5",
                   UNIT_AMOUNT: "166.88", PERSON_AMOUNT: "0.3", TOTAL: ""}),  # stored to 15 digits
    ]


def test_xlsx_header_is_first_non_empty_row_even_below_a_title():
    data = xlsx(["某单位2026年11月缴存清册"], HEADER, [1, "100000000001", "张三", "x", 5000, 600, 600, 1200])
    with pytest.raises(ListRejected) as caught:
        read_rows("a.xlsx", data)  # the title row is taken as the header: the columns are missing
    assert [(e.row, e.column) for e in caught.value.errors][:2] == [(1, ACCOUNT), (1, NAME)]


def test_number_cells_become_text_without_float_artefacts():
    data = xlsx(HEADER[1:], [100000000001, "张三", "x", 5000.5, 600.06, 1e-05, 123456789012.0])
    values = read_rows("a.XLSX", data)[0].values
    assert values == {ACCOUNT: "100000000001", NAME: "张三", ID_NO: "x", BASE: "5000.5",
                      UNIT_AMOUNT: "600.06", PERSON_AMOUNT: "0.00001", TOTAL: "123456789012"}


def test_header_aliases_full_width_and_spaces():
    header = ["个人公积金账号", "姓 名", "身份证号", "月缴存基数（元）", "单位缴存额", "个人缴存额", "*合计"]
    data = xlsx(header, ["1", "张三", "x", "5000", "600", "600", "1200"])
    assert read_rows("a.xlsx", data)[0].values == {
        ACCOUNT: "1", NAME: "张三", ID_NO: "x", BASE: "5000", UNIT_AMOUNT: "600", PERSON_AMOUNT: "600",
        TOTAL: "1200"}
    full_width = ["账号", "姓名　", "证件号码", "基数", "单位月缴存额", "个人月缴存额"]
    rows = read_rows("a.csv", csv_bytes([full_width, ["1", "张三", "x", "5000", "600", "600"]], "utf-8"))
    assert TOTAL not in rows[0].values and rows[0].values[NAME] == "张三"


def test_missing_and_repeated_headers_are_reported_on_the_header_row():
    header = ["账号", "个人账号", "姓名", "缴存基数", "个人月缴存额"]
    data = xlsx([], header, ["1", "1", "张三", "5000", "600"])
    with pytest.raises(ListRejected) as caught:
        read_rows("a.xlsx", data)
    assert caught.value.status == 422
    assert [(e.row, e.column, e.reason) for e in caught.value.errors] == [
        (2, ACCOUNT, "表头“个人账号”出现了不止一列"),
        (2, UNIT_AMOUNT, "缺少必填列“单位月缴存额”"),
    ]


def test_header_only_gives_no_rows_and_empty_file_is_refused():
    assert read_rows("a.xlsx", xlsx(HEADER)) == []
    with pytest.raises(ValidationFailed, match="没有内容"):
        read_rows("a.xlsx", xlsx([None, None]))
    with pytest.raises(ValidationFailed, match="没有内容"):
        read_rows("a.csv", b"")


# --- csv -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gb18030", "gbk"])
def test_csv_in_utf8_bom_and_gb18030(encoding):
    data = csv_bytes([HEADER, ["1", "100000000001", "张三", "x", "5000.00", "600", "600", ""]], encoding)
    [only] = read_rows("清册.csv", data)
    assert only.row == 2 and only.values[NAME] == "张三" and only.values[BASE] == "5000.00"
    assert only.values[ACCOUNT] == "100000000001"  # no BOM left glued to the first header


def test_csv_quoted_cells_and_row_numbers():
    text = '个人账号,姓名,证件号码,缴存基数,单位月缴存额,个人月缴存额\r\n\r\n' \
           '1,"张三",x,"5,000.00",600,600\r\n"2","李\n四",y,3000,360,360\r\n'
    rows = read_rows("a.csv", text.encode("utf-8-sig"))
    assert [(r.row, r.values[BASE], r.values[NAME]) for r in rows] == [(3, "5,000.00", "张三"),
                                                                      (4, "3000", "李\n四")]


def test_csv_short_rows_and_tab_separated():
    text = "\t".join(HEADER[1:7]) + "\n1\t张三\n"
    rows = read_rows("a.csv", text.encode())
    assert rows[0].values == {ACCOUNT: "1", NAME: "张三", ID_NO: "", BASE: "", UNIT_AMOUNT: "",
                              PERSON_AMOUNT: ""}


def test_csv_bad_utf8_after_bom_is_refused():
    with pytest.raises(ValidationFailed, match="编码无法识别"):
        read_rows("a.csv", b"\xef\xbb\xbf" + "个人账号".encode("gbk"))


# --- limits and bad files ------------------------------------------------------------------------

def test_oversized_file_is_refused():
    with pytest.raises(ValidationFailed, match="超过 10 MB") as caught:
        read_rows("a.csv", b"x" * (10 * 1024 * 1024 + 1))
    assert caught.value.code == "file_too_large"


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_too_many_rows_is_refused(monkeypatch, suffix):
    monkeypatch.setattr(remittance_files, "MAX_ROWS", 3)
    rows = [HEADER] + [[str(i), "1", "张三", "x", "5000", "600", "600", ""] for i in range(4)]
    data = xlsx(*rows) if suffix == "xlsx" else csv_bytes(rows, "utf-8")
    with pytest.raises(ValidationFailed, match="超过 3 行") as caught:
        read_rows(f"a.{suffix}", data)
    assert caught.value.code == "too_many_rows"
    at_limit = xlsx(*rows[:4]) if suffix == "xlsx" else csv_bytes(rows[:4], "utf-8")
    assert len(read_rows(f"a.{suffix}", at_limit)) == 3


@pytest.mark.parametrize(("name", "match"), [("a.xls", "另存为 .xlsx"), ("a.txt", "只支持"), ("a", "只支持"),
                                             ("", "只支持")])
def test_unknown_extension_is_refused(name, match):
    with pytest.raises(ValidationFailed, match=match) as caught:
        read_rows(name, b"whatever")
    assert caught.value.code == "file_type"


@pytest.mark.parametrize("data", [b"", b"not a zip at all", b"PK\x03\x04garbage", xlsx(HEADER)[:500]])
def test_corrupt_xlsx_is_refused_not_crashed(data):
    with pytest.raises(ValidationFailed, match="文件无法读取") as caught:
        read_rows("a.xlsx", data)
    assert caught.value.code == "file_unreadable"


def test_xlsx_that_unpacks_too_large_is_refused(monkeypatch):
    monkeypatch.setattr(remittance_files, "MAX_UNPACKED", 1000)
    with pytest.raises(ValidationFailed, match="解压后过大"):
        read_rows("a.xlsx", xlsx(HEADER))


# --- writing -------------------------------------------------------------------------------------

def test_error_report_round_trips():
    errors = [RowError(WHOLE_FILE, "", "清册中没有缴存明细"),
              RowError(3, ACCOUNT, "个人账号不是本单位在册职工的账户", "404"),
              RowError(5, BASE, "缴存基数不是有效的金额", "=HYPERLINK(\"http://x\")"),
              RowError(6, UNIT_AMOUNT, "单位月缴存额不能为负数", "-600"),
              RowError(7, NAME, "姓名不能为空", "a\x00b")]
    book = load_workbook(io.BytesIO(error_report_xlsx(errors, title="2026年11月缴存清册错误报告")))
    sheet = book.active
    assert sheet.title == "错误报告" and sheet.freeze_panes == "A3"
    cells = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert cells[0][0] == "2026年11月缴存清册错误报告（共 5 处错误）"
    assert cells[1] == ["行号", "列", "错误原因", "单元格内容"]
    assert cells[2:] == [
        ["全表", None, "清册中没有缴存明细", None],
        [3, ACCOUNT, "个人账号不是本单位在册职工的账户", "404"],
        [5, BASE, "缴存基数不是有效的金额", "'=HYPERLINK(\"http://x\")"],  # shown, never evaluated
        [6, UNIT_AMOUNT, "单位月缴存额不能为负数", "-600"],
        [7, NAME, "姓名不能为空", "a b"],
    ]
    assert all(sheet.cell(2, c).font.b for c in range(1, 5))
    assert sheet.column_dimensions["C"].width >= 60


def test_empty_error_report_still_has_header():
    sheet = load_workbook(io.BytesIO(error_report_xlsx([], title="报告"))).active
    assert [c.value for c in sheet[2]] == ["行号", "列", "错误原因", "单元格内容"]


def test_template_has_the_headers_and_an_example_that_reads_back():
    data = template_xlsx()
    sheet = load_workbook(io.BytesIO(data)).active
    assert [c.value for c in sheet[1]] == list(COLUMNS) and sheet.freeze_panes == "A2"
    assert all(c.font.b for c in sheet[1])
    [example] = read_rows("模板.xlsx", data)
    assert example.row == 2 and example.values[ACCOUNT] == "100000000001"
    assert example.values[BASE] == "5000" and example.values[TOTAL] == "1200"
