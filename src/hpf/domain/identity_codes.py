"""Identity numbers of units and people: 统一社会信用代码 and 证件号码, checked before 开户.

Pure rules: each check returns the normalised number (stripped, upper case, full-width
characters folded to ASCII, as operators paste them from Word and Excel) or raises
InvalidCode naming the field and the rule broken. The business date is passed in, never
read from the clock (a birth date "in the future" depends on the day of the check).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from hpf.domain.errors import ValidationFailed

DIGITS = "0123456789"
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


class InvalidCode(ValidationFailed):
    """An identity number breaks its standard; ``details`` names the field."""

    code = "invalid_code"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, details={field: [message]})
        self.field = field


def _normalise(text: str | None) -> str:
    # NFKC folds full-width ＡＢ１２ to AB12: a number typed with a Chinese IME is the same number.
    return unicodedata.normalize("NFKC", text or "").strip().upper()


# --- 统一社会信用代码, GB 32100-2015 -----------------------------------------------------------

CREDIT_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters: no I, O, Z, S, V
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)  # 3^i mod 31
# 登记管理部门代码 (position 1). Published editions of the standard's table differ (1 机构编制,
# 2 外交, 3 司法行政, 4 文化, 5 民政, 6 旅游, 7 宗教, 8 工会, 9 工商, A 中央军委改革和编制办公室,
# N 农业 (农村集体经济组织), Y 其他; older lists use B–G for other authorities). The union is
# accepted: refusing a real unit's code blocks its 开户, a worse failure than letting through a
# code the checksum already vouches for. The 机构类别代码 (position 2) is not checked for the
# same reason: its table depends on the authority and the edition.
CREDIT_AUTHORITIES = frozenset("123456789ABCDEFGNY")


def credit_check_char(first17: str) -> str:
    """The 18th character of a credit code: 31 − (Σ value × weight mod 31), 31 → 0."""
    total = sum(CREDIT_CHARSET.index(c) * w for c, w in zip(first17, CREDIT_WEIGHTS, strict=True))
    return CREDIT_CHARSET[(31 - total % 31) % 31]


def check_credit_code(text: str | None, field: str = "credit_code") -> str:
    """A valid 统一社会信用代码, normalised; InvalidCode names the rule it breaks."""
    code = _normalise(text)
    if len(code) != 18:
        raise InvalidCode(field, f"统一社会信用代码长度应为18位（现为{len(code)}位）")
    for position, char in enumerate(code, start=1):
        if char not in CREDIT_CHARSET:
            raise InvalidCode(field, f"统一社会信用代码第{position}位“{char}”不是有效字符"
                                     "（只能是数字和除 I、O、Z、S、V 以外的大写字母）")
    if code[0] not in CREDIT_AUTHORITIES:
        raise InvalidCode(field, f"统一社会信用代码第1位（登记管理部门代码）“{code[0]}”无效")
    if not all(c in DIGITS for c in code[2:8]):
        raise InvalidCode(field, "统一社会信用代码第3–8位（登记管理机关行政区划码）应为6位数字")
    if credit_check_char(code[:17]) != code[17]:
        raise InvalidCode(field, "统一社会信用代码校验位不符，请核对是否有输错的字符")
    return code


# --- 居民身份证号码, GB 11643-1999 -------------------------------------------------------------

RESIDENT_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)  # 2^(17−i) mod 11
RESIDENT_CHECK = "10X98765432"  # indexed by Σ mod 11 (ISO 7064 MOD 11-2)
EARLIEST_BIRTH = date(1900, 1, 1)


class Sex(StrEnum):
    """GB/T 2261.1 codes; the 17th digit of an ID number is odd for men, even for women."""

    MALE = "1"
    FEMALE = "2"

    @property
    def label(self) -> str:
        return "男" if self is Sex.MALE else "女"


@dataclass(frozen=True)
class ResidentId:
    number: str
    birth_date: date
    sex: Sex


def resident_check_char(first17: str) -> str:
    """The 18th character of an ID number: "10X98765432"[Σ digit × weight mod 11]."""
    total = sum(int(c) * w for c, w in zip(first17, RESIDENT_WEIGHTS, strict=True))
    return RESIDENT_CHECK[total % 11]


def check_resident_id(text: str | None, today: date, field: str = "id_number",
                      label: str = "居民身份证号码") -> ResidentId:
    """A valid 18-digit 居民身份证号码 (lower-case x accepted), with birth date and sex."""
    number = _normalise(text)
    if len(number) != 18:
        raise InvalidCode(field, f"{label}长度应为18位（现为{len(number)}位）")
    if not all(c in DIGITS for c in number[:17]):
        raise InvalidCode(field, f"{label}前17位应为数字")
    if number[17] not in RESIDENT_CHECK:
        raise InvalidCode(field, f"{label}第18位（校验位）应为数字或X")
    birth = _birth_date(number[6:14])
    if birth is None or not EARLIEST_BIRTH <= birth <= today:
        raise InvalidCode(field, f"{label}中的出生日期无效（{number[6:14]}）")
    if resident_check_char(number[:17]) != number[17]:
        raise InvalidCode(field, f"{label}校验位不符，请核对是否有输错的数字")
    return ResidentId(number, birth, Sex.MALE if int(number[16]) % 2 else Sex.FEMALE)


def _birth_date(yyyymmdd: str) -> date | None:
    try:
        return date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:]))
    except ValueError:
        return None


# --- 证件类型 (JGJ/T 320 code table ZJLX) ------------------------------------------------------

ID_TYPES = {"01": "居民身份证", "02": "军官证", "03": "护照", "04": "外国人永久居留身份证", "99": "其他"}


@dataclass(frozen=True)
class IdDocument:
    id_type: str
    number: str
    birth_date: date | None = None  # known for 01 and the 18-character 04
    sex: Sex | None = None


def check_id(id_type: str | None, number: str | None, today: date) -> IdDocument:
    """A valid 证件 of the given 证件类型, normalised; InvalidCode names the field and rule."""
    kind = (id_type or "").strip()
    if kind == "01":
        person = check_resident_id(number, today)
        return IdDocument(kind, person.number, person.birth_date, person.sex)
    if kind == "04":
        return _check_permanent_residence(number, today)
    if kind == "02":
        return IdDocument(kind, _check_officer_card(number))
    if kind == "03":
        return IdDocument(kind, _check_passport(number))
    if kind == "99":
        return IdDocument(kind, _check_other(number))
    raise InvalidCode("id_type", f"证件类型“{kind}”无效，应为以下之一: "
                                 + "、".join(f"{k} {v}" for k, v in ID_TYPES.items()))


def _check_permanent_residence(text: str | None, today: date) -> IdDocument:
    # 2017 and 2023 cards: 18 characters laid out as GB 11643 (9 + 受理地 + 国籍 + birth date +
    # 顺序码 + check), so the same rules apply; the 2004 card: ISO nationality letters + 12 digits.
    label = "外国人永久居留身份证号码"
    number = _normalise(text)
    if len(number) == 18:
        if number[0] != "9":
            raise InvalidCode("id_number", f"18位的{label}应以9开头")
        person = check_resident_id(number, today, label=label)
        return IdDocument("04", person.number, person.birth_date, person.sex)
    if len(number) == 15:
        if not (all(c in LETTERS for c in number[:3]) and all(c in DIGITS for c in number[3:])):
            raise InvalidCode("id_number", f"15位的{label}应为3位字母加12位数字")
        return IdDocument("04", number)
    raise InvalidCode("id_number", f"{label}长度应为18位（新版）或15位（旧版）")


def _check_officer_card(text: str | None) -> str:
    # Numbers such as 南字第2001988号: Chinese characters, letters and digits, no fixed layout.
    number = _normalise(text)
    if not 1 <= len(number) <= 20:
        raise InvalidCode("id_number", "军官证号码应为1–20个字符")
    if not all(c in DIGITS or c in LETTERS or _is_han(c) for c in number):
        raise InvalidCode("id_number", "军官证号码只能包含汉字、字母和数字")
    return number


def _check_passport(text: str | None) -> str:
    number = _normalise(text)
    if not 5 <= len(number) <= 20 or not all(c in DIGITS or c in LETTERS for c in number):
        raise InvalidCode("id_number", "护照号码应为5–20位字母或数字")
    return number


def _check_other(text: str | None) -> str:
    number = unicodedata.normalize("NFKC", text or "").strip()
    if not 1 <= len(number) <= 32 or not number.isprintable():
        raise InvalidCode("id_number", "证件号码应为1–32个可打印字符")
    return number


def _is_han(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff"
