from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hpf.domain.errors import ValidationFailed
from hpf.domain.identity_codes import (
    CREDIT_AUTHORITIES,
    CREDIT_CHARSET,
    IdDocument,
    InvalidCode,
    ResidentId,
    Sex,
    check_credit_code,
    check_id,
    check_resident_id,
    credit_check_char,
    resident_check_char,
)

TODAY = date(2026, 11, 22)


def reason(excinfo, field="id_number") -> str:
    assert isinstance(excinfo.value, ValidationFailed) and excinfo.value.status == 422
    assert list(excinfo.value.details) == [field] and excinfo.value.field == field
    (message,) = excinfo.value.details[field]
    assert message == excinfo.value.message
    return message


# --- 统一社会信用代码 ---------------------------------------------------------------------------

def test_credit_code_check_char_worked_by_hand():
    # GB 32100-2015's own example 91350100M000100Y43. Values × weights, non-zero terms:
    # 9·1 + 1·3 + 3·9 + 5·27 + 1·26 + M(21)·20 + 1·8 + Y(30)·30 + 4·28 = 1640;
    # 1640 mod 31 = 28; 31 − 28 = 3 → "3".
    assert credit_check_char("91350100M000100Y4") == "3"
    assert check_credit_code("91350100M000100Y43") == "91350100M000100Y43"


@pytest.mark.parametrize("code", [
    "91350100M000100Y43",
    "91110000600037341L",
    "911100001000128855",
    "91110108551385082Q",
    "914403001922038216",
    "12100000400012345P",   # 机构编制 / 事业单位 (constructed)
    "51110000MJ00000006",   # 民政 / 社会团体 (constructed; check char 6)
    "N2330100MA0000000U",   # 农村集体经济组织 (constructed)
    "Y1110000MA0000000U",   # 其他 (constructed)
])
def test_valid_credit_codes(code):
    assert check_credit_code(code) == code


def test_credit_code_is_normalised():
    assert check_credit_code("  91110108551385082q ") == "91110108551385082Q"
    assert check_credit_code("９１１１０１０８５５１３８５０８２Ｑ") == "91110108551385082Q"  # full-width


@pytest.mark.parametrize(("code", "rule"), [
    ("", "长度应为18位（现为0位）"),
    (None, "长度应为18位（现为0位）"),
    ("9135010M000100Y43", "长度应为18位（现为17位）"),
    ("91350100M000100Y433", "长度应为18位（现为19位）"),
    ("91350100M0001O0Y43", "第14位“O”不是有效字符"),
    ("91350100I000100Y43", "第9位“I”不是有效字符"),
    ("91350100M000100Y4S", "第18位“S”不是有效字符"),
    ("01350100M000100Y43", "第1位（登记管理部门代码）“0”无效"),
    ("H1350100M000100Y43", "第1位（登记管理部门代码）“H”无效"),
    ("9135A100M000100Y43", "第3–8位（登记管理机关行政区划码）应为6位数字"),
    ("91350100M000100Y44", "校验位不符"),   # last character changed
    ("91350100M000100Y53", "校验位不符"),   # one body character changed
    ("91350100M000010Y43", "校验位不符"),   # two adjacent characters swapped
])
def test_bad_credit_codes_name_the_rule(code, rule):
    with pytest.raises(InvalidCode) as excinfo:
        check_credit_code(code)
    message = reason(excinfo, "credit_code")
    assert message.startswith("统一社会信用代码") and rule in message


def test_credit_code_error_uses_the_callers_field():
    with pytest.raises(InvalidCode) as excinfo:
        check_credit_code("x", field="unit_credit_code")
    reason(excinfo, "unit_credit_code")


_credit_body = st.tuples(
    st.sampled_from(sorted(CREDIT_AUTHORITIES)),
    st.sampled_from(CREDIT_CHARSET),
    st.text("0123456789", min_size=6, max_size=6),
    st.text(CREDIT_CHARSET, min_size=9, max_size=9),
).map("".join)


@given(_credit_body)
def test_any_credit_code_with_computed_check_char_passes(body):
    assert check_credit_code(body + credit_check_char(body)) == body + credit_check_char(body)


@given(_credit_body, st.integers(0, 17), st.sampled_from(CREDIT_CHARSET))
def test_changing_one_credit_code_character_fails(body, position, char):
    # 31 is prime and no weight is 0 mod 31, so every single substitution changes the sum.
    code = body + credit_check_char(body)
    changed = code[:position] + char + code[position + 1:]
    if changed != code:
        with pytest.raises(InvalidCode):
            check_credit_code(changed)


# --- 居民身份证号码 ----------------------------------------------------------------------------

def test_standards_own_example_by_hand():
    # GB 11643-1999: 11010519491231002X. Σ digit × weight = 7+9+0+5+0+20+2+9+24+27+7+18+30+5+0+0+4
    # = 167; 167 mod 11 = 2; "10X98765432"[2] = "X". Born 1949-12-31; 17th digit 2 → female.
    assert resident_check_char("11010519491231002") == "X"
    assert check_resident_id("11010519491231002X", TODAY) == ResidentId(
        "11010519491231002X", date(1949, 12, 31), Sex.FEMALE)


@pytest.mark.parametrize(("number", "birth", "sex"), [
    ("110101199003071233", date(1990, 3, 7), Sex.MALE),
    ("110101199003074477", date(1990, 3, 7), Sex.MALE),
    ("11010119900307803X", date(1990, 3, 7), Sex.MALE),
    ("440306198808088889", date(1988, 8, 8), Sex.FEMALE),
    ("110101200002290026", date(2000, 2, 29), Sex.FEMALE),  # leap day
    ("110101190001010014", date(1900, 1, 1), Sex.MALE),     # earliest date accepted
])
def test_valid_resident_ids(number, birth, sex):
    assert check_resident_id(number, TODAY) == ResidentId(number, birth, sex)
    assert sex.label == ("男" if sex is Sex.MALE else "女")


def test_lower_case_x_and_spaces_are_normalised():
    assert check_resident_id(" 11010519491231002x ", TODAY).number == "11010519491231002X"


def _with_check(first17: str) -> str:
    return first17 + resident_check_char(first17)


@pytest.mark.parametrize(("number", "rule"), [
    ("", "长度应为18位（现为0位）"),
    ("110105194912310", "长度应为18位（现为15位）"),   # first-generation 15-digit cards are void
    ("11010519491231002X1", "长度应为18位（现为19位）"),
    ("1101051949123100AX", "前17位应为数字"),
    ("11010519491231002Y", "第18位（校验位）应为数字或X"),
    (_with_check("11010519491331002"), "出生日期无效（19491331）"),   # month 13
    (_with_check("11010119490229002"), "出生日期无效（19490229）"),   # 1949 is no leap year
    (_with_check("11010118991231002"), "出生日期无效（18991231）"),   # before 1900
    (_with_check("11010120261123002"), "出生日期无效（20261123）"),   # tomorrow
    ("110105194912310021", "校验位不符"),
    ("11010519491231003X", "校验位不符"),
])
def test_bad_resident_ids_name_the_rule(number, rule):
    with pytest.raises(InvalidCode) as excinfo:
        check_resident_id(number, TODAY)
    message = reason(excinfo)
    assert message.startswith("居民身份证号码") and rule in message


def test_born_today_is_accepted():
    assert check_resident_id(_with_check("11010120261122001"), TODAY).birth_date == TODAY


_resident_body = st.tuples(
    st.text("0123456789", min_size=6, max_size=6),
    st.dates(date(1900, 1, 1), TODAY).map(lambda d: d.strftime("%Y%m%d")),
    st.text("0123456789", min_size=3, max_size=3),
).map("".join)


@given(_resident_body)
def test_any_17_digits_with_real_date_and_computed_check_pass(body):
    person = check_resident_id(_with_check(body), TODAY)
    assert person.birth_date.strftime("%Y%m%d") == body[6:14]
    assert person.sex is (Sex.MALE if int(body[16]) % 2 else Sex.FEMALE)


@given(_resident_body, st.integers(0, 17), st.sampled_from("0123456789X"))
def test_changing_one_id_character_fails(body, position, char):
    # MOD 11-2 catches every single-digit substitution (11 is prime, no weight is 0 mod 11).
    number = _with_check(body)
    changed = number[:position] + char + number[position + 1:]
    if changed != number:
        with pytest.raises(InvalidCode):
            check_resident_id(changed, TODAY)


# --- 证件类型 ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("id_type", "number", "expected"), [
    ("01", "11010519491231002x", IdDocument("01", "11010519491231002X", date(1949, 12, 31), Sex.FEMALE)),
    ("02", "南字第2001988号", IdDocument("02", "南字第2001988号")),
    ("03", " e12345678 ", IdDocument("03", "E12345678")),
    ("03", "G1234", IdDocument("03", "G1234")),
    ("04", "911840198506150011", IdDocument("04", "911840198506150011", date(1985, 6, 15), Sex.MALE)),
    ("04", "91184019850615002X", IdDocument("04", "91184019850615002X", date(1985, 6, 15), Sex.FEMALE)),
    ("04", "usa110085061500", IdDocument("04", "USA110085061500")),
    ("99", " 港澳居民来往内地通行证 H01234567 ", IdDocument("99", "港澳居民来往内地通行证 H01234567")),
])
def test_check_id_dispatches_by_type(id_type, number, expected):
    assert check_id(id_type, number, TODAY) == expected


@pytest.mark.parametrize(("id_type", "number", "rule"), [
    ("01", "11010519491231002", "居民身份证号码长度应为18位"),
    ("02", "", "军官证号码应为1–20个字符"),
    ("02", "南字第2001988号南字第2001988号", "军官证号码应为1–20个字符"),
    ("02", "南字-2001988", "军官证号码只能包含汉字、字母和数字"),
    ("03", "E123", "护照号码应为5–20位字母或数字"),
    ("03", "E1234567890123456789X", "护照号码应为5–20位字母或数字"),
    ("03", "E1234-567", "护照号码应为5–20位字母或数字"),
    ("04", "811840198506150011", "18位的外国人永久居留身份证号码应以9开头"),
    ("04", "911840198506150012", "外国人永久居留身份证号码校验位不符"),
    ("04", "911840198513150011", "外国人永久居留身份证号码中的出生日期无效"),
    ("04", "US1110085061500", "15位的外国人永久居留身份证号码应为3位字母加12位数字"),
    ("04", "USA11008506150", "外国人永久居留身份证号码长度应为18位（新版）或15位（旧版）"),
    ("99", "", "证件号码应为1–32个可打印字符"),
    ("99", "x" * 33, "证件号码应为1–32个可打印字符"),
    ("99", "ab\x00cd", "证件号码应为1–32个可打印字符"),
])
def test_check_id_refuses_bad_numbers(id_type, number, rule):
    with pytest.raises(InvalidCode) as excinfo:
        check_id(id_type, number, TODAY)
    assert rule in reason(excinfo)


@pytest.mark.parametrize("id_type", ["", None, "05", "1", "身份证"])
def test_unknown_id_type_is_refused_on_the_type_field(id_type):
    with pytest.raises(InvalidCode) as excinfo:
        check_id(id_type, "11010519491231002X", TODAY)
    assert "证件类型" in reason(excinfo, "id_type") and "01 居民身份证" in excinfo.value.message


def test_invalid_code_renders_as_a_field_error():
    error = InvalidCode("credit_code", "统一社会信用代码校验位不符")
    assert (error.code, error.status, error.details) == (
        "invalid_code", 422, {"credit_code": ["统一社会信用代码校验位不符"]})
