"""缴存清册文件: read an uploaded list (.xlsx or .csv), write the error report and the template.

Bytes in, bytes out: no database and no Flask, so the console and the batch import share it.
Cells are returned as text; the domain (domain/remittance_list.py) parses and checks them.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import PurePath

from hpf.domain.errors import ValidationFailed
from hpf.domain.remittance_list import (
    ACCOUNT,
    BASE,
    COLUMNS,
    ID_NO,
    NAME,
    PERSON_AMOUNT,
    REQUIRED,
    TOTAL,
    UNIT_AMOUNT,
    WHOLE_FILE,
    ListRejected,
    RawRow,
    RowError,
)

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 200_000
MAX_UNPACKED = 20 * MAX_BYTES  # a full 200,000-row list unpacks to well under this
MAX_COLUMNS = 100  # a list has seven; bounds the work a sheet claiming 16,384 columns can cause
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # OWASP "CSV injection"
_PLAIN_NUMBER = re.compile(r"[+-]?\d[\d,]*(\.\d+)?")  # "-5" is shown as typed, not as a formula

# Normalised header text → canonical column. Keys are NFKC'd and stripped of spaces.
HEADER_ALIASES: dict[str, str] = {
    **{c: c for c in COLUMNS},
    "个人公积金账号": ACCOUNT, "公积金账号": ACCOUNT, "账号": ACCOUNT,
    "身份证号": ID_NO, "身份证号码": ID_NO, "证件号": ID_NO,
    "职工姓名": NAME,
    "基数": BASE, "月缴存基数": BASE, "新缴存基数": BASE, "调整后缴存基数": BASE,
    "单位缴存额": UNIT_AMOUNT, "个人缴存额": PERSON_AMOUNT,
    "合计": TOTAL, "缴存额合计": TOTAL, "月缴存额": TOTAL,
}
EXAMPLE = ("100000000001", "张三", "110101199003071234", Decimal("5000.00"), Decimal("600.00"),
           Decimal("600.00"), Decimal("1200.00"))


def read_rows(filename: str, data: bytes, required: Sequence[str] = REQUIRED) -> list[RawRow]:
    """读取缴存清册: the data rows of an .xlsx or .csv list, cell text keyed by column name.

    ValidationFailed for a file that is too big, of an unknown kind or unreadable;
    ListRejected (a ValidationFailed with ``errors``) when required columns are missing.
    """
    if len(data) > MAX_BYTES:
        raise ValidationFailed(f"文件超过 {MAX_BYTES // (1024 * 1024)} MB，请拆分后分批上传",
                               code="file_too_large")
    suffix = PurePath(filename or "").suffix.lower()
    if suffix == ".xlsx":
        rows = _xlsx_rows(data)
    elif suffix == ".csv":
        rows = _csv_rows(data)
    elif suffix in (".xls", ".et", ".wps"):
        raise ValidationFailed("不支持旧版 Excel 格式，请在 Excel 中另存为 .xlsx 后上传", code="file_type")
    else:
        raise ValidationFailed("只支持 .xlsx 或 .csv 格式的缴存清册", code="file_type")
    return _to_raw_rows(rows, required)


def _to_raw_rows(rows: Iterable[tuple[int, list[str]]], required: Sequence[str] = REQUIRED) -> list[RawRow]:
    header_row, columns = 0, {}
    out: list[RawRow] = []
    for number, cells in rows:
        if not any(c.strip() for c in cells):
            continue
        if not header_row:
            header_row, columns = number, _header_columns(number, cells, required)
            continue
        if len(out) >= MAX_ROWS:
            raise ValidationFailed(f"清册超过 {MAX_ROWS:,} 行，请拆分后分批上传", code="too_many_rows")
        out.append(RawRow(number, {name: cells[i] if i < len(cells) else "" for i, name in columns.items()}))
    if not header_row:
        raise ValidationFailed("文件中没有内容，请使用缴存清册模板填写后上传", code="file_empty")
    return out


def _header_columns(row: int, cells: list[str], required: Sequence[str] = REQUIRED) -> dict[int, str]:
    """Column index → canonical name; ListRejected naming every missing or repeated column."""
    columns: dict[int, str] = {}
    errors: list[RowError] = []
    for index, cell in enumerate(cells):
        name = HEADER_ALIASES.get(_header_key(cell))
        if name is None:
            continue  # 序号, 备注 … are the employer's own and ignored
        if name in columns.values():
            errors.append(RowError(row, name, f"表头“{name}”出现了不止一列", cell))
            continue
        columns[index] = name
    missing = [name for name in required if name not in columns.values()]
    errors += [RowError(row, name, f"缺少必填列“{name}”") for name in missing]
    if errors:
        raise ListRejected(errors, "缴存清册表头不符合模板，请下载模板核对列名")
    return columns


def _header_key(text: str) -> str:
    key = "".join(unicodedata.normalize("NFKC", text).split()).lstrip("*")
    return key.removesuffix("(元)")


# --- reading ------------------------------------------------------------------------------------

def _xlsx_rows(data: bytes) -> list[tuple[int, list[str]]]:
    from openpyxl import load_workbook  # imported on use: not needed to start the server

    _refuse_zip_bomb(data)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # zip, XML and openpyxl's own errors alike: all mean "not readable"
        raise ValidationFailed("文件无法读取，请确认是 Excel（.xlsx）文件且未损坏、未加密",
                               code="file_unreadable", internal=repr(error)) from error
    try:
        sheet = book.worksheets[0]
        rows: list[tuple[int, list[str]]] = []
        # No max_col: read-only mode would pad every row to it. Width is bounded by MAX_UNPACKED.
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = [_cell_text(v) for v in values[:MAX_COLUMNS]]
            if any(cells):
                rows.append((number, cells))
                if len(rows) > MAX_ROWS + 1:  # the header plus the limit: stop reading early
                    break
        return rows
    except Exception as error:  # a sheet that opens but breaks while streaming
        raise ValidationFailed("文件无法读取，请确认是 Excel（.xlsx）文件且未损坏",
                               code="file_unreadable", internal=repr(error)) from error
    finally:
        book.close()


def _refuse_zip_bomb(data: bytes) -> None:
    """10 MB of .xlsx may unpack to gigabytes (openpyxl holds the shared strings in memory)."""
    try:
        unpacked = sum(info.file_size for info in zipfile.ZipFile(io.BytesIO(data)).infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        return  # load_workbook reports it as unreadable
    if unpacked > MAX_UNPACKED:
        raise ValidationFailed("文件解压后过大，无法读取，请确认是正常的缴存清册", code="file_too_large")


def _cell_text(value: object) -> str:
    """A cell as text; numbers without binary-float artefacts (0.1 stays "0.1")."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # Whole numbers lose ".0" so an account number typed as a number still matches.
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return format(Decimal(repr(value)), "f")
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value).strip()


def _csv_rows(data: bytes) -> Iterator[tuple[int, list[str]]]:
    text = _decode(data)
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        # Records, not physical lines: a quoted cell with a line break is one spreadsheet row.
        for number, cells in enumerate(reader, start=1):
            yield number, [c.strip() for c in cells[:MAX_COLUMNS]]
    except csv.Error as error:
        raise ValidationFailed(f"CSV 文件第 {reader.line_num} 行格式错误，无法读取",
                               code="file_unreadable", internal=str(error)) from error


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030: Chinese Excel saves "CSV" in the ANSI code page."""
    encodings = ("utf-8",) if data.startswith(b"\xef\xbb\xbf") else ("utf-8", "gb18030")
    for encoding in encodings:
        try:
            return data.decode(encoding).removeprefix("\ufeff")
        except UnicodeDecodeError:
            continue
    raise ValidationFailed("CSV 文件编码无法识别，请另存为“CSV UTF-8”或使用 .xlsx 格式",
                           code="file_unreadable")


# --- writing ------------------------------------------------------------------------------------

def error_report_xlsx(errors: Sequence[RowError], *, title: str) -> bytes:
    """缴存清册错误报告 (.xlsx): a title line, then 行号 / 列 / 错误原因 / 单元格内容."""
    book, sheet, bold = _new_sheet("错误报告", (10, 16, 70, 30))
    sheet.append([_styled(sheet, _safe(f"{title}（共 {len(errors)} 处错误）"), bold)])
    sheet.append([_styled(sheet, h, bold) for h in ("行号", "列", "错误原因", "单元格内容")])
    for e in errors:
        sheet.append(["全表" if e.row == WHOLE_FILE else e.row, e.column, _safe(e.reason), _safe(e.value)])
    return _save(book)


def template_xlsx() -> bytes:
    """缴存清册模板 (.xlsx): the header row and one example row."""
    book, sheet, bold = _new_sheet("缴存清册", (18, 10, 22, 12, 14, 14, 14), freeze="A2")
    sheet.append([_styled(sheet, name, bold) for name in COLUMNS])
    # Account and ID numbers as text: as numbers Excel drops leading zeros and digits past 15.
    sheet.append([*EXAMPLE[:3], *(_styled(sheet, amount, None, "#,##0.00") for amount in EXAMPLE[3:])])
    return _save(book)


def _new_sheet(name: str, widths: Sequence[int], freeze: str = "A3"):
    from openpyxl import Workbook  # imported on use: not needed to start the server
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    sheet = book.create_sheet(name)
    for index, width in enumerate(widths):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    sheet.freeze_panes = freeze
    return book, sheet, Font(bold=True)


def _styled(sheet, value, font, number_format: str | None = None):
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value=value)
    if font is not None:
        cell.font = font
    if number_format:
        cell.number_format = number_format
    return cell


def _safe(text: str) -> str:
    """Text from the upload, made harmless: no control characters openpyxl refuses, and a
    leading apostrophe on anything a spreadsheet would run as a formula."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    text = ILLEGAL_CHARACTERS_RE.sub(" ", text or "")
    if text.startswith(FORMULA_START) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def _save(book) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
