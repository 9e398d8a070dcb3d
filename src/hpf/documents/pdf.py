"""A small PDF 1.4 writer for A4 text documents: pages, text, lines, rectangles.

Chinese text uses the standard CJK font STSong-Light (Adobe-GB1, encoding UniGB-UCS2-H),
which every PDF reader provides, so nothing is embedded; strings are written as UCS-2
big-endian hex. A ToUnicode CMap (identity over the code pages used) lets any reader
extract the text. ASCII may use Helvetica. The same input gives the same bytes: the
creation date is a parameter and the document ID is an SM3 digest of the content.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from hpf.crypto import sm3

A4 = (595.28, 841.89)  # points (1/72 inch): 210 × 297 mm
MM = 72 / 25.4
CJK, LATIN = "F1", "F2"  # resource names of STSong-Light and Helvetica


def _num(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _ucs2_hex(text: str) -> str:
    # UniGB-UCS2-H has no surrogates: a character outside the BMP prints as '?'.
    return "".join(f"{ord(c) if ord(c) <= 0xFFFF else 0x3F:04X}" for c in text)


def _literal(text: str) -> str:
    safe = text.encode("latin-1", "replace").decode("latin-1")
    return "(" + safe.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"


def _pdf_date(when: datetime) -> str:
    return when.astimezone(UTC).strftime("D:%Y%m%d%H%M%SZ")


def _info_string(text: str) -> str:
    """A text string for /Info: UTF-16BE with a byte-order mark, as hex."""
    return "<FEFF" + text.encode("utf-16-be").hex().upper() + ">"


def text_width(text: str, size: float) -> float:
    """Approximate advance of ``text`` in STSong-Light: full width for CJK, half for ASCII."""
    return sum(size * (0.5 if ord(c) < 0x80 else 1.0) for c in text)


@dataclass
class Page:
    width: float = A4[0]
    height: float = A4[1]
    ops: list[str] = field(default_factory=list)

    def text(self, x: float, y: float, text: str, *, size: float = 10.5, font: str = CJK) -> None:
        """Text with its baseline starting at (x, y), origin at the bottom-left corner."""
        shown = f"<{_ucs2_hex(text)}>" if font == CJK else _literal(text)
        self.ops.append(f"BT /{font} {_num(size)} Tf {_num(x)} {_num(y)} Td {shown} Tj ET")

    def centred(self, y: float, text: str, *, size: float = 10.5) -> None:
        self.text((self.width - text_width(text, size)) / 2, y, text, size=size)

    def line(self, x1: float, y1: float, x2: float, y2: float, *, width: float = 0.5) -> None:
        self.ops.append(f"{_num(width)} w {_num(x1)} {_num(y1)} m {_num(x2)} {_num(y2)} l S")

    def rect(self, x: float, y: float, w: float, h: float, *, width: float = 0.5) -> None:
        self.ops.append(f"{_num(width)} w {_num(x)} {_num(y)} {_num(w)} {_num(h)} re S")

    def content(self) -> bytes:
        return ("\n".join(self.ops) + "\n").encode("ascii")


@dataclass
class Document:
    created: datetime
    title: str = ""
    producer: str = "HPF Core"
    pages: list[Page] = field(default_factory=list)

    def page(self) -> Page:
        self.pages.append(Page())
        return self.pages[-1]

    def to_bytes(self) -> bytes:
        return _Writer(self).render()


class _Writer:
    """Objects numbered in a fixed order; the xref table gives each one's byte offset."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.objects: list[bytes] = []

    def add(self, body: str | bytes) -> int:
        self.objects.append(body.encode("ascii") if isinstance(body, str) else body)
        return len(self.objects)

    def stream(self, data: bytes, extra: str = "") -> int:
        return self.add(f"<< /Length {len(data)}{extra} >>\nstream\n".encode("ascii") + data + b"\nendstream")

    def fonts(self) -> tuple[int, int]:
        pages = set()
        for page in self.doc.pages:
            for op in page.ops:
                if op.startswith(f"BT /{CJK} "):
                    hexes = op[op.index("<") + 1:op.index(">")]
                    pages.update(hexes[i:i + 2] for i in range(0, len(hexes), 4))
        cmap = self.stream(_to_unicode_cmap(sorted(pages) or ["00"]))
        descendant = self.add(
            "<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light "
            "/CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >> "
            f"/FontDescriptor {self.add(_DESCRIPTOR)} 0 R /DW 1000 /W [1 95 500] >>")
        cjk = self.add("<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light-UniGB-UCS2-H "
                       f"/Encoding /UniGB-UCS2-H /DescendantFonts [{descendant} 0 R] "
                       f"/ToUnicode {cmap} 0 R >>")
        latin = self.add("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
        return cjk, latin

    def render(self) -> bytes:
        doc = self.doc
        catalog = self.add("")  # placeholders, filled once the page tree is numbered
        tree = self.add("")
        cjk, latin = self.fonts()
        kids, fonts = [], f"<< /Font << /{CJK} {cjk} 0 R /{LATIN} {latin} 0 R >> >>"
        for page in doc.pages:
            content = self.stream(page.content())
            kids.append(self.add(
                f"<< /Type /Page /Parent {tree} 0 R /MediaBox [0 0 {_num(page.width)} {_num(page.height)}] "
                f"/Resources {fonts} /Contents {content} 0 R >>"))
        self.objects[catalog - 1] = f"<< /Type /Catalog /Pages {tree} 0 R >>".encode("ascii")
        self.objects[tree - 1] = (f"<< /Type /Pages /Kids [{' '.join(f'{k} 0 R' for k in kids)}] "
                                  f"/Count {len(kids)} >>").encode("ascii")
        date = _pdf_date(doc.created)
        info = self.add(f"<< /Title {_info_string(doc.title)} /Producer {_info_string(doc.producer)} "
                        f"/CreationDate ({date}) /ModDate ({date}) >>")
        out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        offsets = []
        for number, body in enumerate(self.objects, start=1):
            offsets.append(len(out))
            out += f"{number} 0 obj\n".encode("ascii") + body + b"\nendobj\n"
        xref = len(out)
        out += f"xref\n0 {len(self.objects) + 1}\n0000000000 65535 f \n".encode("ascii")
        out += b"".join(f"{o:010d} 00000 n \n".encode("ascii") for o in offsets)
        doc_id = sm3(bytes(out)).hex()[:32].upper()
        out += (f"trailer\n<< /Size {len(self.objects) + 1} /Root {catalog} 0 R /Info {info} 0 R "
                f"/ID [<{doc_id}> <{doc_id}>] >>\nstartxref\n{xref}\n%%EOF\n").encode("ascii")
        return bytes(out)


_DESCRIPTOR = ("<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [-25 -254 1000 880] "
               "/ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>")


def _to_unicode_cmap(high_bytes: list[str]) -> bytes:
    """UCS-2 codes map to themselves; one bfrange per 256-code page actually used."""
    ranges = [f"<{h}00> <{h}FF> <{h}00>" for h in high_bytes]
    blocks = "".join(f"{len(chunk)} beginbfrange\n" + "\n".join(chunk) + "\nendbfrange\n"
                     for chunk in (ranges[i:i + 100] for i in range(0, len(ranges), 100)))
    return ("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
            "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
            "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
            "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n" + blocks +
            "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n").encode("ascii")
