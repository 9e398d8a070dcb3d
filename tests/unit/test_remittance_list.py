from decimal import Decimal as D

import pytest

from hpf.domain.contribution import ContributionRules, RuleBroken
from hpf.domain.remittance_list import (
    ACCOUNT,
    BASE,
    ID_NO,
    NAME,
    PERSON_AMOUNT,
    TOTAL,
    UNIT_AMOUNT,
    WHOLE_FILE,
    ListLine,
    ListRejected,
    RawRow,
    RosterEntry,
    RowError,
    summary,
    validate,
)

CAP = D("17379.00")
CENTS = ContributionRules(D("0.05"), D("0.12"), D("2420.00"), CAP)
YUAN_UP = ContributionRules(D("0.05"), D("0.12"), D("2420.00"), CAP, rounding_unit=D("1"), rounding_mode="UP")
TWELVE = D("0.12")

ROSTER = {e.account_no: e for e in (
    RosterEntry("100000000001", "张三", "01", "U1", "110101199003071234"),
    RosterEntry("100000000002", "李四", "01", "U1"),
    RosterEntry("100000000003", "王五", "02", "U1"),
    RosterEntry("100000000004", "赵六", "06", "U1"),
    RosterEntry("100000000005", "阿卜杜·热合曼", "01", "U1"),
)}


def row(n: int, account="100000000001", name="张三", base="5000", unit="600.00", person="600.00",
        total=None, id_no="110101199003071234") -> RawRow:
    values = {ACCOUNT: account, NAME: name, ID_NO: id_no, BASE: base,
              UNIT_AMOUNT: unit, PERSON_AMOUNT: person}
    if total is not None:
        values[TOTAL] = total
    return RawRow(n, values)


def check(*rows: RawRow, rules=CENTS, unit_ratio=TWELVE, person_ratio=TWELVE):
    return validate(rows, ROSTER, rules, unit_ratio, person_ratio)


def only_error(*rows: RawRow, **kw) -> RowError:
    lines, errors = check(*rows, **kw)
    assert lines == [] and len(errors) == 1, errors
    return errors[0]


# --- a good list ---------------------------------------------------------------------------------

def test_good_list_gives_lines_and_summary():
    lines, errors = check(row(2, total="1200"),
                          row(3, account="100000000002", name="李四", base="3,000.00", unit="360",
                              person="360.0", id_no="x"))
    assert errors == []
    assert lines == [
        ListLine(2, "100000000001", "张三", D("5000.00"), D("600.00"), D("600.00")),
        ListLine(3, "100000000002", "李四", D("3000.00"), D("360.00"), D("360.00")),
    ]
    assert lines[0].total == D("1200.00")
    assert summary(lines) == (2, D("960.00"), D("960.00"), D("1920.00"))
    assert summary([]) == (0, D("0.00"), D("0.00"), D("0.00"))


def test_spaces_and_full_width_characters_are_tolerated():
    lines, errors = check(row(2, account=" １０００００００００01 ", name="张 三", base="５０００．００"))
    assert errors == [] and lines[0].account_no == "100000000001" and lines[0].base == D("5000.00")


def test_name_with_other_middle_dot_matches():
    lines, errors = check(row(2, account="100000000005", name="阿卜杜•热合曼", id_no="x"))
    assert errors == [] and len(lines) == 1


def test_empty_list_is_refused():
    assert check() == ([], [RowError(WHOLE_FILE, "", "清册中没有缴存明细，至少应有一行")])


# --- each kind of bad row ------------------------------------------------------------------------

@pytest.mark.parametrize(("kwargs", "column", "reason"), [
    ({"account": ""}, ACCOUNT, "个人账号不能为空"),
    ({"account": "999"}, ACCOUNT, "个人账号不是本单位在册职工的账户"),
    ({"name": ""}, NAME, "姓名不能为空"),
    ({"name": "张四"}, NAME, "姓名与个人账号 100000000001 登记的姓名“张三”不一致"),
    ({"id_no": "110101199003071235"}, ID_NO, "证件号码与个人账号 100000000001 登记的证件号码不一致"),
    ({"base": ""}, BASE, "缴存基数不能为空"),
    ({"base": "五千"}, BASE, "缴存基数不是有效的金额"),
    ({"base": "1e4"}, BASE, "缴存基数不是有效的金额"),
    ({"base": "0"}, BASE, "缴存基数应大于零"),
    ({"base": "-5000"}, BASE, "缴存基数不能为负数"),
    ({"base": "5000.001"}, BASE, "缴存基数最多保留两位小数（元、角、分）"),
    ({"base": "2000", "unit": "240", "person": "240"}, BASE,
     "缴存基数 2,000.00 元低于下限 2,420.00 元（当地最低工资标准）"),
    ({"base": "20000", "unit": "2400", "person": "2400"}, BASE,
     "缴存基数 20,000.00 元高于上限 17,379.00 元（上年度职工月平均工资的规定倍数）"),
    ({"unit": ""}, UNIT_AMOUNT, "单位月缴存额不能为空"),
    ({"unit": "-600"}, UNIT_AMOUNT, "单位月缴存额不能为负数"),
    ({"person": "600.005"}, PERSON_AMOUNT, "个人月缴存额最多保留两位小数（元、角、分）"),
    ({"unit": "601"}, UNIT_AMOUNT, "单位月缴存额应为 600.00 元（缴存基数 5,000.00 × 12%），清册为 601.00 元"),
    ({"person": "599.99"}, PERSON_AMOUNT,
     "个人月缴存额应为 600.00 元（缴存基数 5,000.00 × 12%），清册为 599.99 元"),
    ({"total": "1200.01"}, TOTAL,
     "月缴存额合计应为 1,200.00 元（单位 600.00 + 个人 600.00），清册为 1,200.01 元"),
    ({"total": "合计"}, TOTAL, "月缴存额合计不是有效的金额"),
])
def test_each_bad_cell_is_reported_against_its_column(kwargs, column, reason):
    error = only_error(row(7, **kwargs))
    assert (error.row, error.column, error.reason) == (7, column, reason)


def test_error_keeps_the_offending_value():
    assert only_error(row(2, unit="601")).value == "601"
    assert only_error(row(2, base="abc")).value == "abc"


def test_empty_total_cell_is_not_checked():
    assert check(row(2, total=""))[1] == []


@pytest.mark.parametrize(("status", "state"), [("02", "封存"), ("06", "冻结")])
def test_sealed_and_frozen_accounts_may_not_be_paid_for(status, state):
    account = next(a for a, e in ROSTER.items() if e.status == status)
    error = only_error(row(4, account=account, name=ROSTER[account].name, id_no="x"))
    assert (error.row, error.column, error.reason) == (4, ACCOUNT, f"该账户状态为“{state}”，不能汇缴")


def test_same_account_twice_names_the_first_row():
    lines, errors = check(row(2), row(3), row(9, account="1000 0000 0001"))
    assert [(e.row, e.column, e.reason) for e in errors] == [
        (3, ACCOUNT, "个人账号与第 2 行重复"), (9, ACCOUNT, "个人账号与第 2 行重复")]
    assert [line.row for line in lines] == [2]


def test_ratio_outside_the_band_is_the_units_problem_not_a_row_error():
    with pytest.raises(RuleBroken):
        check(row(2), unit_ratio=D("0.13"))


# --- all errors at once --------------------------------------------------------------------------

def test_all_errors_of_a_file_are_reported_with_their_rows():
    lines, errors = check(
        row(2),                                                        # good
        row(3, account="100000000002", name="李四X", base="3000", unit="360", person="361", id_no="x"),
        row(4, account="404"),                                         # not in roster
        row(5, account="100000000003", name="王五", id_no="x", base="abc"),
        row(6),                                                        # duplicate of row 2
        row(8, account="100000000005", name="阿卜杜·热合曼", id_no="x", total="1"),
    )
    assert [line.row for line in lines] == [2]
    assert [(e.row, e.column) for e in errors] == [
        (3, NAME), (3, PERSON_AMOUNT),
        (4, ACCOUNT),
        (5, ACCOUNT), (5, BASE),
        (6, ACCOUNT),
        (8, TOTAL),
    ]
    assert errors[3].reason == "该账户状态为“封存”，不能汇缴"


def test_list_rejected_carries_every_error_for_the_report():
    errors = [RowError(n, ACCOUNT, "x") for n in range(2, 302)]
    rejected = ListRejected(errors)
    assert rejected.status == 422 and len(rejected.errors) == 300
    assert rejected.details["count"] == 300 and len(rejected.details["rows"]) == 100
    assert "300 处错误" in rejected.message


# --- rounding follows the centre's parameters ----------------------------------------------------

def test_half_up_to_the_fen():
    # 3,337.50 × 5% = 166.875 → 166.88
    ok = row(2, base="3337.50", unit="166.88", person="166.88")
    assert check(ok, unit_ratio=D("0.05"), person_ratio=D("0.05"))[1] == []
    error = only_error(row(2, base="3337.50", unit="166.87", person="166.88"),
                       unit_ratio=D("0.05"), person_ratio=D("0.05"))
    assert error.reason == "单位月缴存额应为 166.88 元（缴存基数 3,337.50 × 5%），清册为 166.87 元"


def test_whole_yuan_rounded_up():
    # 5,001 × 12% = 600.12 → 601 whole yuan (UP); the same list is wrong under HALF_UP to the fen.
    lines, errors = check(row(2, base="5001", unit="601", person="601"), rules=YUAN_UP)
    assert errors == [] and lines[0].unit_amount == D("601.00")
    _, errors = check(row(2, base="5001", unit="601", person="601"))
    assert [e.reason for e in errors] == [
        "单位月缴存额应为 600.12 元（缴存基数 5,001.00 × 12%），清册为 601.00 元",
        "个人月缴存额应为 600.12 元（缴存基数 5,001.00 × 12%），清册为 601.00 元"]


def test_unit_and_person_ratios_differ():
    lines, errors = check(row(2, unit="600", person="250"), person_ratio=D("0.05"))
    assert errors == [] and lines[0].total == D("850.00")
