"""The little DER the national algorithms need: SEQUENCE, INTEGER, OCTET STRING.

Strict on input (definite minimal lengths, no trailing bytes, no negative integers, no
superfluous leading zeros) because signatures and SM2 ciphertexts arrive from partners and
a lenient parser is how signature-malleability bugs start.
"""

from __future__ import annotations

from hpf.crypto.errors import CryptoError

SEQUENCE = 0x30
INTEGER = 0x02
OCTET_STRING = 0x04
MAX_LENGTH = 1 << 24  # no object the product parses is anywhere near 16 MiB


class DerError(CryptoError):
    code = "crypto_bad_der"
    message = "DER 编码格式错误"


def encode_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def encode_integer(value: int) -> bytes:
    if value < 0:
        raise ValueError("negative INTEGER")
    body = value.to_bytes(value.bit_length() // 8 + 1, "big")  # leading 0x00 when the top bit is set
    return bytes([INTEGER]) + encode_length(len(body)) + body


def encode_octet_string(value: bytes) -> bytes:
    return bytes([OCTET_STRING]) + encode_length(len(value)) + value


def encode_sequence(*items: bytes) -> bytes:
    body = b"".join(items)
    return bytes([SEQUENCE]) + encode_length(len(body)) + body


def read_tlv(data: bytes, pos: int, tag: int) -> tuple[bytes, int]:
    """Read one element with ``tag`` at ``pos``; return (contents, position after it)."""
    if pos + 2 > len(data):
        raise DerError(internal="truncated header")
    if data[pos] != tag:
        raise DerError(internal=f"expected tag {tag:#x}, found {data[pos]:#x}")
    first = data[pos + 1]
    pos += 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 3 or pos + count > len(data):
            raise DerError(internal="bad length octets")
        length = int.from_bytes(data[pos:pos + count], "big")
        if length < 0x80 or data[pos] == 0:
            raise DerError(internal="non-minimal length")
        pos += count
    if length > MAX_LENGTH or pos + length > len(data):
        raise DerError(internal="truncated contents")
    return data[pos:pos + length], pos + length


def decode_integer(body: bytes) -> int:
    if not body:
        raise DerError(internal="empty INTEGER")
    if body[0] & 0x80:
        raise DerError(internal="negative INTEGER")
    if len(body) > 1 and body[0] == 0 and not body[1] & 0x80:
        raise DerError(internal="non-minimal INTEGER")
    return int.from_bytes(body, "big")


def decode_sequence(data: bytes, *tags: int) -> list[bytes | int]:
    """Parse ``data`` as exactly one SEQUENCE of the given element tags (no trailing bytes)."""
    body, end = read_tlv(data, 0, SEQUENCE)
    if end != len(data):
        raise DerError(internal="trailing bytes after SEQUENCE")
    out: list[bytes | int] = []
    pos = 0
    for tag in tags:
        contents, pos = read_tlv(body, pos, tag)
        out.append(decode_integer(contents) if tag == INTEGER else contents)
    if pos != len(body):
        raise DerError(internal="extra elements in SEQUENCE")
    return out


BIT_STRING = 0x03
NULL = 0x05
OID = 0x06


def read_any(data: bytes, pos: int) -> tuple[int, bytes, int]:
    """Read the element at ``pos`` whatever its tag: (tag, contents, position after it)."""
    if pos >= len(data):
        raise DerError(internal="truncated header")
    tag = data[pos]
    contents, end = read_tlv(data, pos, tag)
    return tag, contents, end


def read_all(body: bytes) -> list[tuple[int, bytes]]:
    """Every element of a SEQUENCE body, in order."""
    out, pos = [], 0
    while pos < len(body):
        tag, contents, pos = read_any(body, pos)
        out.append((tag, contents))
    return out


def encode_oid(dotted: str) -> bytes:
    parts = [int(p) for p in dotted.split(".")]
    body = bytearray([40 * parts[0] + parts[1]])
    for value in parts[2:]:
        chunk = [value & 0x7F]
        value >>= 7
        while value:
            chunk.append(0x80 | (value & 0x7F))
            value >>= 7
        body.extend(reversed(chunk))
    return bytes([OID]) + encode_length(len(body)) + bytes(body)


def encode_bit_string(value: bytes) -> bytes:
    return bytes([BIT_STRING]) + encode_length(len(value) + 1) + b"\0" + value


def encode_tagged(number: int, inner: bytes) -> bytes:
    """[number] EXPLICIT, constructed context-specific."""
    return bytes([0xA0 | number]) + encode_length(len(inner)) + inner


BOOLEAN = 0x01
SET = 0x31


def decode_oid(body: bytes) -> str:
    """Dotted form of OBJECT IDENTIFIER contents; strict (no padding, complete arcs)."""
    if not body or body[-1] & 0x80:
        raise DerError(internal="empty or truncated OBJECT IDENTIFIER")
    arcs, value, start = [], 0, True
    for byte in body:
        if start and byte == 0x80:
            raise DerError(internal="non-minimal OBJECT IDENTIFIER arc")
        value = (value << 7) | (byte & 0x7F)
        start = not byte & 0x80
        if start:
            arcs.append(value)
            value = 0
    first = arcs[0]
    head = [0, first] if first < 40 else [1, first - 40] if first < 80 else [2, first - 80]
    return ".".join(str(a) for a in head + arcs[1:])


def encode_boolean(value: bool) -> bytes:
    return bytes([BOOLEAN, 1, 0xFF if value else 0])


def encode_set(*items: bytes) -> bytes:
    """SET OF in DER order (elements sorted by their encodings)."""
    body = b"".join(sorted(items))
    return bytes([SET]) + encode_length(len(body)) + body


def encode_implicit(number: int, contents: bytes, *, constructed: bool = False) -> bytes:
    """[number] IMPLICIT context-specific element around raw ``contents``."""
    return bytes([(0xA0 if constructed else 0x80) | number]) + encode_length(len(contents)) + contents


def encode_primitive(tag: int, contents: bytes) -> bytes:
    return bytes([tag]) + encode_length(len(contents)) + contents
