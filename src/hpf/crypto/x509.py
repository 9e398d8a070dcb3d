"""X.509 v3 certificates with SM2 keys and SM2-with-SM3 signatures (GM/T 0015, RFC 5280).

pyca/cryptography parses SM2 certificates but cannot verify them, so this module reads the
DER itself (strictly: any malformed input is ``CertificateError("malformed")``, never another
exception), verifies chains to pinned anchors the way a TLCP peer needs it (KeyUsage per
role: signature certificate vs. encryption certificate), and issues the test PKI the
``hpf certs`` commands write. It is not a general-purpose PKI: no CRL/OCSP, no policies, no
name constraints (a critical one makes verification fail rather than be ignored).
"""

from __future__ import annotations

import ipaddress
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hpf.crypto import asn1, keyfmt
from hpf.crypto.core import sm3
from hpf.crypto.errors import CryptoError, InvalidKey, InvalidSignature
from hpf.crypto.sm2 import SM2PrivateKey, SM2PublicKey

OID_SM2_WITH_SM3 = "1.2.156.10197.1.501"
OID_SM2 = "1.2.156.10197.1.301"
OID_EC_PUBLIC_KEY = "1.2.840.10045.2.1"
MAX_CERT_SIZE = 64 * 1024
MAX_DEPTH = 8

REASONS = {
    "malformed": "证书格式错误",
    "expired": "证书已过期",
    "not_yet_valid": "证书尚未生效",
    "unknown_ca": "证书不是由受信任的 CA 签发",
    "bad_signature": "证书签名校验失败",
    "bad_key_usage": "证书的密钥用法不允许此用途",
    "not_ca": "签发者证书不是 CA 证书",
    "path_too_long": "证书链长度超过限制",
    "unsupported_algorithm": "证书使用了不支持的算法",
    "name_mismatch": "证书中的主机名与访问的地址不符",
}


class CertificateError(CryptoError):
    code = "certificate_invalid"
    message = "证书无效"

    def __init__(self, reason: str, message: str | None = None, internal: str | None = None) -> None:
        if reason not in REASONS:
            raise ValueError(f"unknown certificate error reason {reason!r}")
        self.reason = reason
        super().__init__(message or REASONS[reason], internal=internal)


def _malformed(internal: str) -> CertificateError:
    return CertificateError("malformed", internal=internal)


# ---------------------------------------------------------------- names

_NAME_OIDS = {
    "CN": "2.5.4.3",
    "SN": "2.5.4.4",
    "serialNumber": "2.5.4.5",
    "C": "2.5.4.6",
    "L": "2.5.4.7",
    "ST": "2.5.4.8",
    "street": "2.5.4.9",
    "O": "2.5.4.10",
    "OU": "2.5.4.11",
    "title": "2.5.4.12",
    "GN": "2.5.4.42",
    "emailAddress": "1.2.840.113549.1.9.1",
    "DC": "0.9.2342.19200300.100.1.25",
    "UID": "0.9.2342.19200300.100.1.1",
}
_NAME_SHORT = {v: k for k, v in _NAME_OIDS.items()}
_PRINTABLE_ATTRS = {"2.5.4.6", "2.5.4.5"}  # X.520: countryName and serialNumber are PrintableString
_IA5_ATTRS = {"1.2.840.113549.1.9.1", "0.9.2342.19200300.100.1.25"}
_STRING_TAGS = {
    0x0C: "utf-8",
    0x13: "ascii",
    0x16: "ascii",
    0x12: "ascii",
    0x14: "latin-1",
    0x1A: "ascii",
    0x1E: "utf-16-be",
    0x1C: "utf-32-be",
}
_PRINTABLE = re.compile(r"[A-Za-z0-9 '()+,\-./:=?]*")


@dataclass(frozen=True)
class Name:
    """A distinguished name: its exact DER (what chains are matched on) and its attributes in
    encoding order, as (short name or dotted OID, value)."""

    der: bytes
    attributes: tuple[tuple[str, str], ...]

    def __str__(self) -> str:
        return ", ".join(f"{k}={_escape_dn(v)}" for k, v in self.attributes)

    def get(self, key: str) -> str | None:
        """The first value of an attribute ("CN", "O", ... or a dotted OID)."""
        return next((v for k, v in self.attributes if k == key), None)

    @classmethod
    def build(cls, pairs: Iterable[tuple[str, str]] | None = None, /, **attrs: str) -> Name:
        """``Name.build(CN="x", O="y")`` or ``Name.build([("C", "CN"), ("CN", "x")])``, one
        attribute per RDN in the given order."""
        items = [*(pairs or ()), *attrs.items()]
        rdns = []
        for key, value in items:
            oid = _NAME_OIDS.get(key, key)
            if not re.fullmatch(r"[0-2](\.\d+)+", oid):
                raise ValueError(f"unknown name attribute {key!r}")
            if oid in _PRINTABLE_ATTRS:
                if not _PRINTABLE.fullmatch(value):
                    raise ValueError(f"{key} must be a PrintableString")
                encoded = asn1.encode_primitive(0x13, value.encode("ascii"))
            elif oid in _IA5_ATTRS:
                encoded = asn1.encode_primitive(0x16, value.encode("ascii"))
            else:
                encoded = asn1.encode_primitive(0x0C, value.encode("utf-8"))
            rdns.append(asn1.encode_set(asn1.encode_sequence(asn1.encode_oid(oid), encoded)))
        der = asn1.encode_sequence(*rdns)
        return _parse_name(der)


def _escape_dn(value: str) -> str:
    out = re.sub(r'([,+"\\<>;=])', r"\\\1", value)
    if out.startswith((" ", "#")):
        out = "\\" + out
    if out.endswith(" ") and len(out) > 1:
        out = out[:-1] + "\\ "
    return out


def _parse_name(der: bytes) -> Name:
    body = _single(der, asn1.SEQUENCE, "Name")
    attributes = []
    for tag, rdn in _elements(body):
        if tag != asn1.SET or not rdn:
            raise _malformed("RDN is not a non-empty SET")
        for atag, atv in _elements(rdn):
            if atag != asn1.SEQUENCE:
                raise _malformed("AttributeTypeAndValue is not a SEQUENCE")
            items = _elements(atv)
            if len(items) != 2 or items[0][0] != asn1.OID:
                raise _malformed("bad AttributeTypeAndValue")
            oid = asn1.decode_oid(items[0][1])
            vtag, value = items[1]
            codec = _STRING_TAGS.get(vtag)
            text = value.decode(codec) if codec else "#" + _tlv(vtag, value).hex()
            attributes.append((_NAME_SHORT.get(oid, oid), text))
    return Name(der=der, attributes=tuple(attributes))


# ---------------------------------------------------------------- low-level DER


def _tlv(tag: int, contents: bytes) -> bytes:
    return asn1.encode_primitive(tag, contents)


def _elements(body: bytes) -> list[tuple[int, bytes]]:
    """All elements of a constructed body, refusing high-tag-number forms we cannot read."""
    items = asn1.read_all(body)
    for tag, _ in items:
        if tag & 0x1F == 0x1F:
            raise _malformed("multi-byte tag")
    return items


def _single(data: bytes, tag: int, what: str) -> bytes:
    contents, end = asn1.read_tlv(data, 0, tag)
    if end != len(data):
        raise _malformed(f"trailing bytes after {what}")
    return contents


def _signed_integer(body: bytes) -> int:
    if not body:
        raise _malformed("empty INTEGER")
    if len(body) > 1 and ((body[0] == 0 and not body[1] & 0x80) or (body[0] == 0xFF and body[1] & 0x80)):
        raise _malformed("non-minimal INTEGER")
    return int.from_bytes(body, "big", signed=True)


def _boolean(body: bytes) -> bool:
    if body not in (b"\x00", b"\xff"):
        raise _malformed("BOOLEAN not DER")
    return body == b"\xff"


def _bit_string(body: bytes) -> tuple[bytes, int]:
    """(bytes, unused bit count), checking the unused bits are zero as DER requires."""
    if (
        not body
        or body[0] > 7
        or (len(body) == 1 and body[0])
        or (body[0] and body[-1] & ((1 << body[0]) - 1))
    ):
        raise _malformed("bad BIT STRING")
    return body[1:], body[0]


_UTC_TIME = re.compile(rb"(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z")
_GENERALIZED_TIME = re.compile(rb"(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z")


def _parse_time(tag: int, body: bytes) -> datetime:
    # RFC 5280 4.1.2.5: seconds present, always "Z", no fractions.
    match = _UTC_TIME if tag == 0x17 else _GENERALIZED_TIME if tag == 0x18 else None
    found = match.fullmatch(body) if match else None
    if not found:
        raise _malformed("bad UTCTime/GeneralizedTime")
    parts = [int(p) for p in found.groups()]
    if tag == 0x17:
        parts[0] += 1900 if parts[0] >= 50 else 2000
    return datetime(*parts, tzinfo=UTC)


def _encode_time(at: datetime) -> bytes:
    at = at.astimezone(UTC)
    if 1950 <= at.year < 2050:
        return _tlv(0x17, at.strftime("%y%m%d%H%M%SZ").encode())
    return _tlv(0x18, f"{at.year:04d}{at.strftime('%m%d%H%M%S')}Z".encode())


def _algorithm(body: bytes) -> str:
    items = _elements(body)
    if not items or items[0][0] != asn1.OID or len(items) > 2:
        raise _malformed("bad AlgorithmIdentifier")
    return asn1.decode_oid(items[0][1])


# ---------------------------------------------------------------- extensions

OID_BASIC_CONSTRAINTS = "2.5.29.19"
OID_KEY_USAGE = "2.5.29.15"
OID_EXT_KEY_USAGE = "2.5.29.37"
OID_SUBJECT_ALT_NAME = "2.5.29.17"
OID_SUBJECT_KEY_ID = "2.5.29.14"
OID_AUTHORITY_KEY_ID = "2.5.29.35"
# Critical extensions that change nothing for us: a policy-less path builder may ignore them.
_HARMLESS = {"2.5.29.32"}  # certificatePolicies

KEY_USAGES = (
    "digitalSignature",
    "nonRepudiation",
    "keyEncipherment",
    "dataEncipherment",
    "keyAgreement",
    "keyCertSign",
    "cRLSign",
    "encipherOnly",
    "decipherOnly",
)
EKU_NAMES = {"1.3.6.1.5.5.7.3.1": "serverAuth", "1.3.6.1.5.5.7.3.2": "clientAuth"}
EKU_OIDS = {v: k for k, v in EKU_NAMES.items()}


class Certificate:
    """A parsed certificate; ``der`` is kept verbatim (signatures cover its bytes)."""

    der: bytes
    tbs: bytes
    version: int  # 1, 2 or 3 (as people say it, not the encoded 0..2)
    serial: int
    issuer: Name
    subject: Name
    not_before: datetime
    not_after: datetime
    public_key: SM2PublicKey
    key_usage: frozenset[str] | None
    extended_key_usage: tuple[str, ...]
    is_ca: bool
    path_len: int | None
    dns_names: tuple[str, ...]
    ip_addresses: tuple[str, ...]
    signature_algorithm: str
    signature: bytes
    subject_key_id: bytes | None
    authority_key_id: bytes | None
    unhandled_critical: tuple[str, ...]  # OIDs of critical extensions this module does not process

    @classmethod
    def from_der(cls, der: bytes) -> Certificate:
        try:
            der = bytes(der)
            if len(der) > MAX_CERT_SIZE:
                raise _malformed(f"certificate larger than {MAX_CERT_SIZE} bytes")
            cert = cls.__new__(cls)
            cert._parse(der)
            return cert
        except CertificateError:
            raise
        except (CryptoError, ValueError, TypeError, IndexError, OverflowError) as exc:
            internal = getattr(exc, "internal", None) or str(exc) or type(exc).__name__
            raise _malformed(internal) from None

    @classmethod
    def from_pem(cls, text: str | bytes) -> Certificate:
        certs = _pem_blocks(text)
        if not certs:
            raise CertificateError("malformed", "没有找到 PEM 证书（CERTIFICATE）")
        return cls.from_der(certs[0])

    def to_pem(self) -> str:
        return keyfmt.to_pem(self.der, "CERTIFICATE")

    def fingerprint(self) -> str:
        return sm3(self.der).hex()

    def verify_signature(self, issuer_public_key: SM2PublicKey) -> bool:
        """True when ``issuer_public_key`` signed this certificate (SM2, default user ID)."""
        if self.signature_algorithm != OID_SM2_WITH_SM3:
            raise CertificateError(
                "unsupported_algorithm", internal=f"signature algorithm {self.signature_algorithm}"
            )
        try:
            return issuer_public_key.verify(self.signature, self.tbs)
        except InvalidSignature:
            return False

    def is_self_issued(self) -> bool:
        return self.issuer.der == self.subject.der

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Certificate) and other.der == self.der

    def __hash__(self) -> int:
        return hash(self.der)

    def __repr__(self) -> str:
        return f"Certificate(subject={str(self.subject)!r}, serial={self.serial:#x})"

    # -------------------------------------------------------------- parsing

    def _parse(self, der: bytes) -> None:
        body = _single(der, asn1.SEQUENCE, "Certificate")
        items = _elements(body)
        if [t for t, _ in items] != [asn1.SEQUENCE, asn1.SEQUENCE, asn1.BIT_STRING]:
            raise _malformed("Certificate is not {tbs, algorithm, signature}")
        _, tbs_end = asn1.read_tlv(body, 0, asn1.SEQUENCE)
        self.der = der
        self.tbs = body[:tbs_end]
        self.signature_algorithm = _algorithm(items[1][1])
        outer_algorithm = items[1][1]
        sig, unused = _bit_string(items[2][1])
        if unused:
            raise _malformed("signature BIT STRING with unused bits")
        self.signature = sig

        fields = _elements(items[0][1])
        pos = 0
        self.version = 1
        if fields and fields[0][0] == 0xA0:
            version = _elements(fields[0][1])
            if len(version) != 1 or version[0][0] != asn1.INTEGER:
                raise _malformed("bad version")
            self.version = _signed_integer(version[0][1]) + 1
            if self.version not in (1, 2, 3):
                raise _malformed(f"unknown version {self.version}")
            pos = 1
        expected = [asn1.INTEGER, asn1.SEQUENCE, asn1.SEQUENCE, asn1.SEQUENCE, asn1.SEQUENCE, asn1.SEQUENCE]
        head = fields[pos : pos + 6]
        if [t for t, _ in head] != expected:
            raise _malformed("TBSCertificate fields missing or out of order")
        serial, algorithm, issuer, validity, subject, spki = (c for _, c in head)
        self.serial = _signed_integer(serial)
        if algorithm != outer_algorithm:
            raise _malformed("TBS signature algorithm differs from the outer one")
        self.issuer = _parse_name(_tlv(asn1.SEQUENCE, issuer))
        self.subject = _parse_name(_tlv(asn1.SEQUENCE, subject))
        times = _elements(validity)
        if len(times) != 2:
            raise _malformed("bad Validity")
        self.not_before = _parse_time(*times[0])
        self.not_after = _parse_time(*times[1])
        self.public_key = _parse_spki(_tlv(asn1.SEQUENCE, spki))

        self.key_usage = None
        self.extended_key_usage = ()
        self.is_ca = False
        self.path_len = None
        self.dns_names = ()
        self.ip_addresses = ()
        self.subject_key_id = None
        self.authority_key_id = None
        self.unhandled_critical = ()
        rest = fields[pos + 6 :]
        for tag, _ in rest[:2]:
            if tag in (0x81, 0x82) and self.version == 1:
                raise _malformed("unique identifiers in a v1 certificate")
        rest = [(t, c) for t, c in rest if t not in (0x81, 0x82)]
        if rest:
            if len(rest) != 1 or rest[0][0] != 0xA3 or self.version != 3:
                raise _malformed("unexpected fields after SubjectPublicKeyInfo")
            self._parse_extensions(_single(rest[0][1], asn1.SEQUENCE, "Extensions"))

    def _parse_extensions(self, body: bytes) -> None:
        seen: set[str] = set()
        unhandled = []
        if not body:
            raise _malformed("empty Extensions")
        for tag, ext in _elements(body):
            items = _elements(ext) if tag == asn1.SEQUENCE else []
            if len(items) == 3 and items[1][0] == asn1.BOOLEAN:
                critical = _boolean(items[1][1])
                items = [items[0], items[2]]
            else:
                critical = False
            if len(items) != 2 or items[0][0] != asn1.OID or items[1][0] != asn1.OCTET_STRING:
                raise _malformed("bad Extension")
            oid = asn1.decode_oid(items[0][1])
            if oid in seen:
                raise _malformed(f"duplicate extension {oid}")
            seen.add(oid)
            value = items[1][1]
            handler = _EXTENSIONS.get(oid)
            if handler:
                handler(self, value)
            elif critical and oid not in _HARMLESS:
                unhandled.append(oid)
        self.unhandled_critical = tuple(unhandled)

    def _basic_constraints(self, value: bytes) -> None:
        items = _elements(_single(value, asn1.SEQUENCE, "BasicConstraints"))
        if items and items[0][0] == asn1.BOOLEAN:
            self.is_ca = _boolean(items.pop(0)[1])
        if items:
            if len(items) != 1 or items[0][0] != asn1.INTEGER:
                raise _malformed("bad BasicConstraints")
            self.path_len = asn1.decode_integer(items[0][1])

    def _key_usage(self, value: bytes) -> None:
        bits, _ = _bit_string(_single(value, asn1.BIT_STRING, "KeyUsage"))
        number = int.from_bytes(bits, "big") if bits else 0
        width = len(bits) * 8
        self.key_usage = frozenset(
            name for i, name in enumerate(KEY_USAGES) if i < width and number >> (width - 1 - i) & 1
        )

    def _ext_key_usage(self, value: bytes) -> None:
        items = _elements(_single(value, asn1.SEQUENCE, "ExtKeyUsage"))
        if not items or any(t != asn1.OID for t, _ in items):
            raise _malformed("bad ExtKeyUsage")
        oids = (asn1.decode_oid(c) for _, c in items)
        self.extended_key_usage = tuple(EKU_NAMES.get(o, o) for o in oids)

    def _subject_alt_name(self, value: bytes) -> None:
        dns, ips = [], []
        for tag, contents in _elements(_single(value, asn1.SEQUENCE, "SubjectAltName")):
            if tag == 0x82:
                dns.append(contents.decode("ascii"))
            elif tag == 0x87:
                if len(contents) not in (4, 16):
                    raise _malformed("bad iPAddress")
                ips.append(str(ipaddress.ip_address(contents)))
        self.dns_names, self.ip_addresses = tuple(dns), tuple(ips)

    def _subject_key_id(self, value: bytes) -> None:
        self.subject_key_id = _single(value, asn1.OCTET_STRING, "SubjectKeyIdentifier")

    def _authority_key_id(self, value: bytes) -> None:
        for tag, contents in _elements(_single(value, asn1.SEQUENCE, "AuthorityKeyIdentifier")):
            if tag == 0x80:
                self.authority_key_id = contents
            elif tag not in (0xA1, 0x82):
                raise _malformed("bad AuthorityKeyIdentifier")


_EXTENSIONS = {
    OID_BASIC_CONSTRAINTS: Certificate._basic_constraints,
    OID_KEY_USAGE: Certificate._key_usage,
    OID_EXT_KEY_USAGE: Certificate._ext_key_usage,
    OID_SUBJECT_ALT_NAME: Certificate._subject_alt_name,
    OID_SUBJECT_KEY_ID: Certificate._subject_key_id,
    OID_AUTHORITY_KEY_ID: Certificate._authority_key_id,
}


def _parse_spki(spki: bytes) -> SM2PublicKey:
    body, _ = asn1.read_tlv(spki, 0, asn1.SEQUENCE)
    algorithm, _ = asn1.read_tlv(body, 0, asn1.SEQUENCE)
    oids = [asn1.decode_oid(c) for t, c in _elements(algorithm) if t == asn1.OID]
    # Both forms of GM/T 0015-2023: {id-ecPublicKey, sm2p256v1} and the bare SM2 OID.
    if oids[:2] != [OID_EC_PUBLIC_KEY, OID_SM2] and oids[:1] != [OID_SM2]:
        raise CertificateError(
            "unsupported_algorithm",
            "证书公钥不是 SM2 公钥",
            internal=f"SubjectPublicKeyInfo algorithm {oids}",
        )
    return SM2PublicKey.from_bytes(keyfmt.public_key_from_der(spki))


_PEM_CERT = re.compile(r"-----BEGIN CERTIFICATE-----\s*([A-Za-z0-9+/=\s]+?)\s*-----END CERTIFICATE-----")


def _pem_blocks(text: str | bytes) -> list[bytes]:
    import base64
    import binascii

    if isinstance(text, bytes):
        text = text.decode("ascii", errors="replace")
    out = []
    for match in _PEM_CERT.finditer(text):
        try:
            out.append(base64.b64decode("".join(match.group(1).split()), validate=True))
        except (ValueError, binascii.Error):
            raise CertificateError("malformed", "PEM 证书内容不是合法的 Base64") from None
    return out


def load_pem_chain(text: str | bytes) -> list[Certificate]:
    """Every CERTIFICATE block in ``text``, in order; none at all is an error."""
    blocks = _pem_blocks(text)
    if not blocks:
        raise CertificateError("malformed", "没有找到 PEM 证书（CERTIFICATE）")
    return [Certificate.from_der(b) for b in blocks]


# ---------------------------------------------------------------- verification


def check_key_usage(cert: Certificate, role: str) -> None:
    """TLCP's split: the signature certificate signs, the encryption certificate carries the
    key exchange. A missing KeyUsage extension allows any use (RFC 5280)."""
    ku = cert.key_usage
    if role == "sign":
        ok = ku is None or bool(ku & {"digitalSignature", "nonRepudiation"})
    elif role == "enc":
        ok = ku is None or bool(ku & {"keyEncipherment", "dataEncipherment", "keyAgreement"})
    elif role == "ca":
        ok = cert.is_ca and (ku is None or "keyCertSign" in ku)
    else:
        raise ValueError(f"unknown certificate role {role!r}")
    if not ok:
        raise CertificateError(
            "bad_key_usage",
            internal=f"{cert.subject}: key usage {sorted(ku or ())} does not allow role {role!r}",
        )


def _check_basics(cert: Certificate, now: datetime) -> None:
    if now < cert.not_before:
        raise CertificateError("not_yet_valid", internal=f"{cert.subject}: valid from {cert.not_before}")
    if now > cert.not_after:
        raise CertificateError("expired", internal=f"{cert.subject}: expired {cert.not_after}")
    if cert.unhandled_critical:
        raise CertificateError(
            "malformed",
            "证书包含无法处理的关键扩展",
            internal=f"{cert.subject}: unhandled critical extensions {', '.join(cert.unhandled_critical)}",
        )


def _check_issuer(issuer: Certificate, anchor: bool) -> None:
    # A v1 root has no BasicConstraints; as a configured anchor it is trusted as a CA anyway.
    if not issuer.is_ca and not (anchor and issuer.version < 3):
        raise CertificateError("not_ca", internal=f"{issuer.subject} is not a CA certificate")
    if issuer.key_usage is not None and "keyCertSign" not in issuer.key_usage:
        raise CertificateError("bad_key_usage", internal=f"{issuer.subject} lacks keyCertSign")


def _matches_host(cert: Certificate, hostname: str) -> bool:
    host = hostname.strip().rstrip(".").lower()
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        address = None
    if address is not None:
        return any(ipaddress.ip_address(ip) == address for ip in cert.ip_addresses)
    for pattern in (d.rstrip(".").lower() for d in cert.dns_names):
        if pattern == host:
            return True
        if pattern.startswith("*.") and pattern.count(".") >= 2 and "*" not in pattern[1:]:
            label, _, rest = host.partition(".")
            if label and rest == pattern[2:]:
                return True
    return False


def verify_chain(
    leaf: Certificate,
    intermediates: list[Certificate],
    anchors: list[Certificate],
    *,
    role: str | None = None,
    now: datetime | None = None,
    hostname: str | None = None,
) -> list[Certificate]:
    """The verified path leaf → … → anchor, or ``CertificateError`` saying why not."""
    now = datetime.now(UTC) if now is None else now if now.tzinfo else now.replace(tzinfo=UTC)
    anchor_ders = {a.der for a in anchors}
    _check_basics(leaf, now)
    if role is not None:
        check_key_usage(leaf, role)
    if hostname is not None and not _matches_host(leaf, hostname):
        raise CertificateError(
            "name_mismatch", internal=f"{hostname!r} not in {leaf.dns_names + leaf.ip_addresses}"
        )
    if leaf.der in anchor_ders:
        return [leaf]  # pinned certificate
    candidates = [(a, True) for a in anchors] + [
        (c, c.der in anchor_ders) for c in intermediates if c.der not in anchor_ders
    ]
    failures: list[CertificateError] = []
    path = _extend([leaf], candidates, now, failures)
    if path is not None:
        return path
    # The most telling failure: a concrete problem on a candidate beats "no issuer found".
    if failures:
        raise failures[0]
    raise CertificateError(
        "unknown_ca", internal=f"no trusted issuer found for {leaf.subject} (issuer {leaf.issuer})"
    )


def _extend(
    path: list[Certificate],
    candidates: list[tuple[Certificate, bool]],
    now: datetime,
    failures: list[CertificateError],
) -> list[Certificate] | None:
    current = path[-1]
    for issuer, is_anchor in candidates:
        if issuer.subject.der != current.issuer.der or issuer in path:
            continue
        if (
            current.authority_key_id
            and issuer.subject_key_id
            and current.authority_key_id != issuer.subject_key_id
        ):
            continue
        try:
            if len(path) >= MAX_DEPTH:
                raise CertificateError("path_too_long", internal=f"more than {MAX_DEPTH} certificates")
            _check_issuer(issuer, is_anchor)
            # pathLenConstraint counts the non-self-issued intermediates below this issuer.
            below = sum(1 for c in path[1:] if not c.is_self_issued())
            if issuer.path_len is not None and below > issuer.path_len:
                raise CertificateError(
                    "path_too_long",
                    internal=f"{issuer.subject} allows pathLen {issuer.path_len}, found {below}",
                )
            if not current.verify_signature(issuer.public_key):
                raise CertificateError(
                    "bad_signature", internal=f"{current.subject} not signed by {issuer.subject}"
                )
            _check_basics(issuer, now)
        except CertificateError as exc:
            failures.append(exc)
            continue
        if is_anchor:
            return [*path, issuer]
        found = _extend([*path, issuer], candidates, now, failures)
        if found is not None:
            return found
    return None


# ---------------------------------------------------------------- issuing


def _key_id(public_key: SM2PublicKey) -> bytes:
    return sm3(public_key.to_bytes())[:20]


def _extension(oid: str, value: bytes, critical: bool = False) -> bytes:
    parts = [asn1.encode_oid(oid)]
    if critical:
        parts.append(asn1.encode_boolean(True))
    return asn1.encode_sequence(*parts, asn1.encode_octet_string(value))


def _encode_key_usage(names: Iterable[str]) -> bytes:
    bits = 0
    top = -1
    for name in names:
        if name not in KEY_USAGES:
            raise ValueError(f"unknown key usage {name!r}")
        index = KEY_USAGES.index(name)
        bits |= 1 << index
        top = max(top, index)
    size = top // 8 + 1
    value = sum(1 << (size * 8 - 1 - i) for i in range(top + 1) if bits >> i & 1)
    unused = size * 8 - 1 - top
    return asn1.encode_primitive(asn1.BIT_STRING, bytes([unused]) + value.to_bytes(size, "big"))


def issue(
    subject: Name,
    public_key: SM2PublicKey,
    *,
    issuer: Certificate | None,
    issuer_key: SM2PrivateKey,
    serial: int | None = None,
    not_before: datetime | None = None,
    days: int = 365,
    key_usage: Iterable[str] = (),
    extended_key_usage: Iterable[str] = (),
    is_ca: bool = False,
    path_len: int | None = None,
    dns_names: Iterable[str] = (),
    ip_addresses: Iterable[str] = (),
) -> Certificate:
    """Sign an X.509 v3 certificate with SM2-with-SM3; self-signed when ``issuer`` is None."""
    signer = issuer.public_key if issuer is not None else public_key
    if issuer_key.public_key() != signer:
        raise InvalidKey("签发者私钥与签发者证书（或自签名证书的公钥）不匹配")
    if serial is None:
        serial = secrets.randbits(127) | 1 << 126  # 16 bytes, positive, never 0
    if serial <= 0 or serial.bit_length() > 159:
        raise ValueError("serial must be a positive integer of at most 20 octets")
    start = (not_before or datetime.now(UTC) - timedelta(minutes=5)).astimezone(UTC).replace(microsecond=0)
    end = start + timedelta(days=days)
    algorithm = asn1.encode_sequence(asn1.encode_oid(OID_SM2_WITH_SM3))  # GmSSL/Tongsuo: no NULL

    ski = _key_id(public_key)
    aki = (issuer.subject_key_id or _key_id(issuer.public_key)) if issuer is not None else ski
    extensions = []
    if is_ca:
        bc = [asn1.encode_boolean(True)]
        if path_len is not None:
            bc.append(asn1.encode_integer(path_len))
        extensions.append(_extension(OID_BASIC_CONSTRAINTS, asn1.encode_sequence(*bc), True))
    # Leaves carry no BasicConstraints: GmSSL rejects the empty SEQUENCE that DER makes of CA:FALSE.
    usages = list(key_usage)
    if usages:
        extensions.append(_extension(OID_KEY_USAGE, _encode_key_usage(usages), True))
    ekus = [EKU_OIDS.get(e, e) for e in extended_key_usage]
    if ekus:
        extensions.append(
            _extension(OID_EXT_KEY_USAGE, asn1.encode_sequence(*(asn1.encode_oid(e) for e in ekus)))
        )
    names = [asn1.encode_primitive(0x82, d.encode("ascii")) for d in dns_names]
    names += [asn1.encode_primitive(0x87, ipaddress.ip_address(ip).packed) for ip in ip_addresses]
    if names:
        extensions.append(_extension(OID_SUBJECT_ALT_NAME, asn1.encode_sequence(*names)))
    extensions.append(_extension(OID_SUBJECT_KEY_ID, asn1.encode_octet_string(ski)))
    extensions.append(_extension(OID_AUTHORITY_KEY_ID, asn1.encode_sequence(asn1.encode_implicit(0, aki))))

    tbs = asn1.encode_sequence(
        asn1.encode_tagged(0, asn1.encode_integer(2)),
        asn1.encode_integer(serial),
        algorithm,
        issuer.subject.der if issuer is not None else subject.der,
        asn1.encode_sequence(_encode_time(start), _encode_time(end)),
        subject.der,
        public_key.to_der(),
        asn1.encode_tagged(3, asn1.encode_sequence(*extensions)),
    )
    signature = issuer_key.sign(tbs)
    return Certificate.from_der(asn1.encode_sequence(tbs, algorithm, asn1.encode_bit_string(signature)))
