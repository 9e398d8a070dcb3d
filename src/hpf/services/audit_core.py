"""What the audit services share: who acts, how a record's fields are built, SM2 signing
and checking, and reading a stored record back (no service imports this module's users)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from hpf import crypto
from hpf.crypto import integrity, keys
from hpf.crypto.masking import mask_text
from hpf.domain.audit import AuditFields, Problem, StoredRecord
from hpf.repositories.models.audit import AuditEvent
from hpf_adapters.db import Database


@dataclass(frozen=True)
class Who:
    """Who acts, from where: built by controllers from the request, by the CLI and jobs."""

    actor: str
    org_code: str = ""
    ip: str = ""
    request_id: str = ""
    role: str = ""

    @classmethod
    def system(cls, what: str) -> Who:
        return cls(actor=f"system:{what}")


def fields_of(who: Who, action: str, result: str, target: str, summary: str) -> AuditFields:
    """A record's content, cut to the columns and with the summary masked."""
    return AuditFields(actor=who.actor[:80], action=action, result=result, target=target[:200],
                       org_code=who.org_code[:20], ip=who.ip[:45], summary=mask_text(summary)[:2000],
                       request_id=who.request_id[:64], role=who.role[:60])


def signer(database: Database) -> tuple[keys.Keyring, keys.DataKey, crypto.SM2PrivateKey]:
    """The keyring, the active audit signing key and its SM2 private key."""
    ring = keys.for_engine(database.engine)
    ring.refresh_if_stale()
    key = ring.active("audit_signing")
    return ring, key, crypto.SM2PrivateKey.from_bytes(key.secret)


def signature_ok(ring: keys.Keyring, key_id: str, signature: str, message: bytes) -> bool:
    try:
        public = crypto.SM2PrivateKey.from_bytes(ring.get(key_id).secret).public_key()
        return public.verify(bytes.fromhex(signature), message)
    except (crypto.CryptoError, ValueError):
        return False


def stored_record(row) -> StoredRecord:
    return StoredRecord(row["seq"], row["occurred_at"], AuditFields(
        actor=row["actor"], action=row["action"], result=row["result"], target=row["target"],
        org_code=row["org_code"], ip=row["ip"], summary=row["summary"],
        request_id=row["request_id"], role=row["role"]), row["prev_hash"], row["hash"])


def mac_problem(ring: keys.Keyring, row) -> Problem | None:
    """The record's HMAC-SM3 seal, as a problem when it does not verify."""
    bad = integrity.check(ring, "audit_event", AuditEvent.__integrity__, row, row["row_mac"])
    if bad:
        return Problem(row["seq"], "modified", f"第 {row['seq']} 条审计记录的完整性校验值不符：{bad}")
    return None


def archive_message(a) -> bytes:
    """What an archive row's SM2 signature covers: every field but id, key_id, signature."""
    when = "|".join(_utc(a[k]) for k in ("cutoff", "archived_at"))
    return (f"HPF-AUDIT-ARCHIVE|{a['from_seq']}|{a['to_seq']}|{a['record_count']}|{a['last_hash']}|"
            f"{a['file_sm3']}|{a['file_name']}|{when}|{a['archived_by']}").encode()


def check_archive_row(ring: keys.Keyring, a) -> list[Problem]:
    if signature_ok(ring, a["key_id"], a["signature"], archive_message(a)):
        return []
    return [Problem(a["from_seq"], "archive", f"第 {a['from_seq']} 至 {a['to_seq']} 条的归档登记签名无效"
                                              "（归档登记被伪造或改动）")]


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()
