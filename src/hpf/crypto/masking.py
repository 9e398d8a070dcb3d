"""Masking for display and logs (个人信息保护法: 身份证号, 金融账户 are sensitive data).

Each helper accepts any string (or None) and never raises: a malformed value is masked
more, not less.
"""

from __future__ import annotations

import re

_MASK = "*"


def mask_id_number(value: str | None) -> str:
    """身份证 110101199003071234 → 110101********1234 (region kept, birth date hidden)."""
    if not value:
        return ""
    v = value.strip()
    if len(v) >= 15:
        return v[:6] + _MASK * (len(v) - 10) + v[-4:]
    return _MASK * max(len(v) - 2, 1) + v[-2:] if len(v) > 4 else _MASK * len(v)


def mask_name(value: str | None) -> str:
    """姓名 张三 → 张*, 欧阳娜娜 → 欧***; a Latin name keeps its first letter."""
    if not value:
        return ""
    v = value.strip()
    return v[0] + _MASK * max(len(v) - 1, 1)


def mask_phone(value: str | None) -> str:
    """手机 13812345678 → 138****5678; landlines keep the last 4 digits."""
    if not value:
        return ""
    digits = re.sub(r"\D", "", value)
    if len(digits) == 11 and digits[0] == "1":  # mainland mobile numbers start with 1
        return digits[:3] + _MASK * 4 + digits[-4:]
    return _MASK * max(len(digits) - 4, 1) + digits[-4:] if len(digits) > 4 else _MASK * len(digits)


def mask_bank_card(value: str | None) -> str:
    """银行卡 6222021234567891234 → 6222 **** **** 1234."""
    if not value:
        return ""
    digits = re.sub(r"\D", "", value)
    if len(digits) < 12:
        return _MASK * 4 + " " + digits[-4:] if len(digits) > 4 else _MASK * 4
    return f"{digits[:4]} **** **** {digits[-4:]}"


def mask_email(value: str | None) -> str:
    if not value or "@" not in value:
        return mask_name(value)
    local, _, domain = value.partition("@")
    return local[:1] + _MASK * 3 + "@" + domain


MASKERS = {"id_number": mask_id_number, "name": mask_name, "phone": mask_phone,
           "bank_card": mask_bank_card, "email": mask_email}


# Free text (log lines): identity numbers first (18 characters, the last may be X), then
# mainland mobiles, then 16-19 digit card numbers. Masked text holds '*' so is not re-matched.
_ID_RE = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_MOBILE_RE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
_CARD_RE = re.compile(r"(?<!\d)\d{16,19}(?!\d)")


def mask_text(text: str) -> str:
    """Mask every identity, mobile and bank-card number that appears in free text."""
    if not text or not any(ch.isdigit() for ch in text):
        return text
    text = _ID_RE.sub(lambda m: mask_id_number(m.group()), text)
    text = _MOBILE_RE.sub(lambda m: mask_phone(m.group()), text)
    return _CARD_RE.sub(lambda m: mask_bank_card(m.group()), text)
