"""The dependency-free PDF writer: a valid structure, extractable Chinese, same bytes twice."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, datetime

import pytest

from hpf.documents import Document
from hpf.documents.certificate import render_certificate

WHEN = datetime(2026, 12, 5, 2, 30, tzinfo=UTC)
TITLE = "住房公积金缴存证明"


def sample() -> bytes:
    doc = Document(created=WHEN, title=TITLE)
    page = doc.page()
    page.centred(780, TITLE, size=18)
    page.text(72, 700, "Code (A\\B)", font="F2")
    page.rect(60, 100, 475, 500)
    page.line(60, 300, 535, 300)
    doc.page().text(72, 700, "第二页")
    return doc.to_bytes()


def shown_text(data: bytes) -> list[str]:
    """Every UCS-2 hex string drawn with Tj, decoded."""
    return [bytes.fromhex(h.decode()).decode("utf-16-be") for h in re.findall(rb"<([0-9A-F]+)> Tj", data)]


def test_header_trailer_and_every_xref_offset_points_at_its_object():
    data = sample()
    assert data.startswith(b"%PDF-1.4\n") and data.endswith(b"%%EOF\n")
    startxref = int(re.search(rb"startxref\n(\d+)\n%%EOF", data).group(1))
    assert data[startxref:].startswith(b"xref\n0 ")
    count = int(re.match(rb"xref\n0 (\d+)\n", data[startxref:]).group(1))
    entries = re.findall(rb"(\d{10}) (\d{5}) ([nf]) \n", data[startxref:])
    assert len(entries) == count and entries[0] == (b"0000000000", b"65535", b"f")
    for number, (offset, _gen, _kind) in enumerate(entries[1:], start=1):
        assert data[int(offset):].startswith(f"{number} 0 obj\n".encode())
    assert f"/Size {count}".encode() in data


def test_stream_lengths_are_exact():
    data = sample()
    for match in re.finditer(rb"<< /Length (\d+)[^>]*>>\nstream\n", data):
        end = match.end() + int(match.group(1))
        assert data[end:end + 10] == b"\nendstream"


def test_chinese_is_ucs2_hex_in_the_standard_cjk_font():
    data = sample()
    assert b"<4F4F623F516C79EF91D17F345B588BC1660E> Tj" in data  # 住房公积金缴存证明
    assert shown_text(data) == [TITLE, "第二页"]
    for needle in (b"/BaseFont /STSong-Light", b"/Encoding /UniGB-UCS2-H", b"/Subtype /CIDFontType0",
                   b"/Registry (Adobe) /Ordering (GB1)", b"/ToUnicode", b"/Count 2"):
        assert needle in data
    assert b"(Code \\(A\\\\B\\)) Tj" in data and b"/FontFile" not in data  # nothing embedded


def test_the_same_input_gives_the_same_bytes():
    assert sample() == sample()
    assert b"/CreationDate (D:20261205023000Z)" in sample()


FACTS = {"code": "ABCDEFGHJKLMNPQR", "purpose": "贷款", "as_of": "2026-12-05",
         "centre": "示范市住房公积金管理中心",
         "name": "林**", "id_number": "350102********1234", "account_no": "3501020000000001", "status": "01",
         "status_name": "正常", "opened_on": "2025-01-02", "balance": "12345.60", "unit_no": "350102000001",
         "unit_name": "示范科技有限公司", "deposit_base": "6000.00", "monthly_amount": "1440.00",
         "paid_up_to": "202611"}


def test_the_certificate_shows_its_facts_code_and_signature():
    data = render_certificate(FACTS, "30450220" + "ab" * 60, "doc1-abcdef", WHEN, "https://gjj.example/verify")
    text = "".join(shown_text(data))
    for needle in ("住房公积金缴存证明", "验证码：ABCD-EFGH-JKLM-NPQR", "林**", "350102********1234",
                   "示范科技有限公司", "12,345.60 元", "1,440.00 元", "2026 年 11 月", "https://gjj.example/verify",
                   "doc1-abcdef"):
        assert needle in text, needle
    assert b"(30450220abab" in data  # the signature in Helvetica


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) not installed")
def test_pdftotext_extracts_the_chinese(tmp_path):
    path = tmp_path / "c.pdf"
    path.write_bytes(render_certificate(FACTS, "3045", "doc1-abcdef", WHEN))
    out = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True).stdout.decode()
    assert "缴存证明" in out and "示范科技有限公司" in out
