"""缴存证明: issue a deposit certificate, print it, and let anyone verify it by its code.

The printed facts (name and ID number masked) are kept as canonical JSON and signed with
the centre's SM2 key (purpose ``document_signing``; SM3 digest with the default SM2 ID).
The public check needs no login: it shows the stored facts, the signature, the key id
and the public key, so a forged PDF is exposed and a third party can verify offline.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from hpf import crypto
from hpf.crypto import integrity, keys, masking
from hpf.documents.certificate import render_certificate
from hpf.domain import accounts as states
from hpf.domain.calendar import business_date
from hpf.domain.contribution import RuleBroken, monthly_amount
from hpf.domain.errors import Conflict, NotFound, ValidationFailed
from hpf.repositories.certificates import CertificateRepository
from hpf.repositories.models.certificates import DepositCertificate
from hpf.repositories.uow import UnitOfWork
from hpf.services import audit
from hpf.services.access import Principal
from hpf.services.units import contribution_rules, load_in_scope

PURPOSES = ("贷款", "租房", "落户", "签证", "其他")
ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud and typed by hand
CODE_LENGTH = 16  # 80 random bits: guessing a valid code is hopeless
SIGNING_PURPOSE = "document_signing"


@dataclass(frozen=True)
class CertificateView:
    id: int
    code: str  # grouped for display: XXXX-XXXX-XXXX-XXXX
    account_id: int
    purpose: str
    issued_on: date
    issued_at: datetime
    issued_by: str
    key_id: str
    signature: str
    facts: dict[str, Any]
    revoked_at: datetime | None


@dataclass(frozen=True)
class VerifyResult:
    """status: valid (有效), revoked (已作废), invalid (签名或完整性校验不符), not_found."""

    status: str
    code: str
    facts: dict[str, Any] | None = None
    facts_text: str = ""
    signature_ok: bool = False
    key_id: str = ""
    public_key: str = ""  # 04‖x‖y, hex
    signature: str = ""
    revoked_at: datetime | None = None


def display_code(code: str) -> str:
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def normalise_code(text: str) -> str:
    """What a person typed (spaces, dashes, lower case) as the stored code."""
    return "".join(c for c in (text or "").upper() if c.isalnum())


def issue(uow: UnitOfWork, actor: Principal, who: audit.Who, now: datetime, account_id: int,
          purpose: str) -> CertificateView:
    """出具缴存证明: sign the account's facts as of today and keep them under a new code."""
    actor.require("statement:view")
    if purpose not in PURPOSES:
        message = f"证明用途应为 {'、'.join(PURPOSES)} 之一"
        raise ValidationFailed(message, details={"purpose": [message]})
    ring = keys.for_engine(uow.database.engine)
    with uow:
        repo = uow.certificates
        code = _new_code(repo)
        facts = _facts(uow, actor, account_id, business_date(now), code, purpose)
        text = canonical(facts)
        key = ring.active(SIGNING_PURPOSE)
        signature = crypto.SM2PrivateKey.from_bytes(key.secret).sign(text.encode("utf-8")).hex()
        row = repo.add(DepositCertificate(
            code=code, account_id=account_id, purpose=purpose, issued_on=business_date(now),
            issued_at=now, issued_by=actor.username, facts=text, signature=signature, key_id=key.key_id))
        audit.record(uow, actor.who(who), "certificate.issue", target=f"account:{facts['account_no']}",
                     summary=f"缴存证明 {display_code(code)} 用途 {purpose}", now=now)
        view = _view(row)
        uow.commit()
    return view


def pdf(uow: UnitOfWork, actor: Principal, code: str, verify_url: str = "") -> bytes:
    """The certificate as a PDF, drawn from the stored (signed) facts: a reprint is identical."""
    actor.require("statement:view")
    with uow:
        row = _in_scope(uow, actor, code)
        return render_certificate(json.loads(row.facts), row.signature, row.key_id, row.issued_at, verify_url)


def verify(uow: UnitOfWork, code: str) -> VerifyResult:
    """公开核验 (no login): the stored facts, and whether the signature and the row still hold."""
    wanted = normalise_code(code)
    ring = keys.for_engine(uow.database.engine)
    with uow:
        row = uow.certificates.by_code(wanted) if len(wanted) == CODE_LENGTH else None
        if row is None:
            return VerifyResult("not_found", display_code(wanted))
        public = _public_key(ring, row.key_id)
        signed = public is not None and _signature_ok(public, row.signature, row.facts)
        sealed = _mac_problem(ring, row) is None
        status = "invalid" if not (signed and sealed) else "revoked" if row.revoked_at else "valid"
        return VerifyResult(status, display_code(row.code), json.loads(row.facts), row.facts, signed,
                            row.key_id, public.hex() if public else "", row.signature, row.revoked_at)


def revoke(uow: UnitOfWork, actor: Principal, who: audit.Who, now: datetime, code: str) -> CertificateView:
    """作废: the code then verifies as revoked (the row is kept, its facts unchanged)."""
    actor.require("account:change")
    with uow:
        row = _in_scope(uow, actor, code, for_update=True)
        if row.revoked_at is not None:
            raise Conflict("该缴存证明已作废", code="certificate_revoked")
        row.revoked_at = now
        shown = display_code(row.code)
        audit.record(uow, actor.who(who), "certificate.revoke", target=f"certificate:{shown}",
                     summary=f"作废缴存证明 {shown}", now=now)
        view = _view(row)
        uow.commit()
    return view


def canonical(facts: dict[str, Any]) -> str:
    """The signed text: sorted keys, no spaces, UTF-8 characters as they are."""
    return json.dumps(facts, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _facts(uow: UnitOfWork, actor: Principal, account_id: int, on: date, code: str,
           purpose: str) -> dict[str, Any]:
    account, unit = _account_in_scope(uow, actor, account_id)
    person = uow.accounts.person(account.person_id)
    monthly = _monthly(uow, account.deposit_base, unit, on)
    centre = next((o for o in uow.orgs.all() if o.parent_id is None), None)
    return {
        "code": code, "purpose": purpose, "as_of": on.isoformat(),
        "centre": centre.name if centre else "",
        "name": masking.mask_name(person.name), "id_number": masking.mask_id_number(person.id_number),
        "account_no": account.account_no, "status": account.status,
        "status_name": states.PERSON_STATES.get(account.status, account.status),
        "opened_on": account.opened_on.isoformat(), "balance": _money(account.balance),
        "unit_no": unit.unit_no if unit else "", "unit_name": unit.name if unit else "",
        "deposit_base": _money(account.deposit_base), "monthly_amount": _money(monthly),
        "paid_up_to": (unit.paid_up_to or "") if unit else "",
    }


def _monthly(uow: UnitOfWork, base: Decimal | None, unit, on: date) -> Decimal | None:
    if base is None or unit is None:
        return None
    rules = contribution_rules(uow, on)
    try:
        return monthly_amount(base, unit.unit_ratio, unit.person_ratio, rules).total
    except RuleBroken:  # a base or ratio outside today's bounds: still say what is paid
        return rules.round(base * unit.unit_ratio) + rules.round(base * unit.person_ratio)


def _money(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _new_code(repo: CertificateRepository) -> str:
    while True:
        code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
        if not repo.code_taken(code):
            return code


def _in_scope(uow: UnitOfWork, actor: Principal, code: str, *,
              for_update: bool = False) -> DepositCertificate:
    row = uow.certificates.by_code(normalise_code(code), for_update=for_update)
    if row is None:
        raise NotFound("缴存证明不存在")
    _account_in_scope(uow, actor, row.account_id)
    return row


def _account_in_scope(uow: UnitOfWork, actor: Principal, account_id: int):
    """The account and its unit, as services.accounts reads them: 404 missing, 403 out of scope."""
    account = uow.accounts.get(account_id)
    if account is None:
        raise NotFound("个人账户不存在")
    if account.unit_id is None:
        actor.require_scope(None)  # no unit: centre-wide staff only
        return account, None
    return account, load_in_scope(uow, actor, account.unit_id)


def _public_key(ring: keys.Keyring, key_id: str) -> crypto.SM2PublicKey | None:
    try:
        return crypto.SM2PrivateKey.from_bytes(ring.get(key_id).secret).public_key()
    except (crypto.CryptoError, ValueError):
        return None


def _signature_ok(public: crypto.SM2PublicKey, signature: str, text: str) -> bool:
    try:
        return public.verify(bytes.fromhex(signature), text.encode("utf-8"))
    except (crypto.CryptoError, ValueError):
        return False


def _mac_problem(ring: keys.Keyring, row: DepositCertificate) -> str | None:
    fields = DepositCertificate.__integrity__
    return integrity.check(ring, row.__tablename__, fields, {f: getattr(row, f) for f in fields}, row.row_mac)


def _view(row: DepositCertificate) -> CertificateView:
    return CertificateView(row.id, display_code(row.code), row.account_id, row.purpose, row.issued_on,
                           row.issued_at, row.issued_by, row.key_id, row.signature, json.loads(row.facts),
                           row.revoked_at)
