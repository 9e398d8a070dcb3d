from decimal import Decimal as D

import pytest

from hpf.domain.accounts import (
    OPERATIONS,
    PERSON,
    PERSON_INITIAL,
    PERSON_RULES,
    PERSON_STATES,
    UNIT,
    UNIT_INITIAL,
    UNIT_RULES,
    UNIT_STATES,
    StateRefused,
    accrues_interest,
    allowed_operations,
    check_operation,
    check_unit_close,
    next_state,
)
from hpf.domain.errors import Conflict

# The business rules written out once more, independently of the module's tables:
# operation → {from state: to state}. Any pair not listed must be refused.
UNIT_SPEC = {
    "remit": {"01": "01", "02": "01"},
    "back_pay": {"01": "01", "03": "03"},
    "adjust": {"01": "01", "02": "02", "03": "03"},
    "change": {"01": "01", "02": "02", "03": "03", "05": "05"},
    "add_staff": {"01": "01", "02": "02", "03": "03"},
    "defer": {"01": "03"},
    "resume": {"03": "01"},
    "seal": {"01": "05"},
    "unseal": {"05": "01"},
    "close": {"01": "04", "02": "04", "05": "04"},
}
PERSON_SPEC = {
    "remit": {"01": "01"},
    "back_pay": {"01": "01"},
    "adjust": {"01": "01"},
    "change": {"01": "01", "02": "02", "06": "06"},
    "seal": {"01": "02"},
    "unseal": {"02": "01"},
    "transfer": {"01": "01", "02": "01"},
    "withdraw": {"01": "01", "02": "02"},
    "freeze": {"01": "06", "02": "06"},
    "unfreeze": {"06": "before_freeze"},
    "merge_close": {"01": "03", "02": "03"},
    "transfer_out": {"01": "04", "02": "04"},
    "withdraw_close": {"01": "05", "02": "05"},
}
CASES = [(UNIT, "单位", UNIT_STATES, UNIT_SPEC), (PERSON, "个人", PERSON_STATES, PERSON_SPEC)]
EVERY_PAIR = [(kind, label, state, operation, spec[operation].get(state))
              for kind, label, states, spec in CASES for state in states for operation in spec]


def test_tables_cover_exactly_the_specified_operations():
    assert UNIT_RULES == UNIT_SPEC and PERSON_RULES == PERSON_SPEC
    assert set(UNIT_SPEC) | set(PERSON_SPEC) == set(OPERATIONS)


@pytest.mark.parametrize(("kind", "label", "state", "operation", "target"), EVERY_PAIR,
                         ids=[f"{k}-{s}-{o}" for k, _l, s, o, _t in EVERY_PAIR])
def test_every_state_and_operation(kind, label, state, operation, target):
    states = UNIT_STATES if kind == UNIT else PERSON_STATES
    if target is None:
        with pytest.raises(StateRefused) as excinfo:
            check_operation(kind, state, operation)
        message = f"{label}账户状态为 {states[state]}，不能办理 {OPERATIONS[operation]}"
        assert excinfo.value.message == message and excinfo.value.details == {"status": [message]}
        assert operation not in allowed_operations(kind, state)
    else:
        check_operation(kind, state, operation)
        assert operation in allowed_operations(kind, state)
        if target == "before_freeze":
            assert next_state(kind, state, operation, before_freeze="02") == "02"
        else:
            assert next_state(kind, state, operation) == target


def test_refusal_message_names_state_and_operation():
    with pytest.raises(StateRefused) as excinfo:
        check_operation(PERSON, "02", "remit")
    assert "账户状态为 封存，不能办理 汇缴" in excinfo.value.message
    assert (excinfo.value.code, excinfo.value.status) == ("state_refused", 409)
    assert isinstance(excinfo.value, Conflict)


def test_closed_and_unclassified_accounts_allow_nothing():
    for state in ("03", "04", "05", "99"):
        assert allowed_operations(PERSON, state) == []
    for state in ("04", "99"):
        assert allowed_operations(UNIT, state) == []


def test_new_unit_becomes_normal_with_its_first_remittance():
    assert UNIT_INITIAL == "02" and next_state(UNIT, UNIT_INITIAL, "remit") == "01"
    assert PERSON_INITIAL == "01"


def test_deferral_round_trip():
    deferred = next_state(UNIT, "01", "defer")
    assert deferred == "03"
    with pytest.raises(StateRefused, match="单位账户状态为 缓缴，不能办理 汇缴"):
        check_operation(UNIT, deferred, "remit")
    check_operation(UNIT, deferred, "back_pay")   # arrears may be made up during a deferral
    assert next_state(UNIT, deferred, "resume") == "01"


@pytest.mark.parametrize("before", ["01", "02"])
def test_unfreeze_returns_to_the_state_before_freezing(before):
    frozen = next_state(PERSON, before, "freeze")
    assert frozen == "06"
    assert next_state(PERSON, frozen, "unfreeze", before_freeze=before) == before


@pytest.mark.parametrize("before", [None, "06", "03", "xx"])
def test_unfreeze_without_a_sensible_remembered_state_is_a_bug(before):
    with pytest.raises(ValueError, match="state before freezing"):
        next_state(PERSON, "06", "unfreeze", before_freeze=before)


@pytest.mark.parametrize("operation", ["merge_close", "transfer_out", "withdraw_close", "withdraw", "seal"])
def test_frozen_money_cannot_leave(operation):
    with pytest.raises(StateRefused, match="个人账户状态为 冻结"):
        check_operation(PERSON, "06", operation)


@pytest.mark.parametrize(("state", "earns"), [
    ("01", True), ("02", True), ("06", True), ("03", False), ("04", False), ("05", False), ("99", False)])
def test_interest_accrues_while_normal_sealed_or_frozen(state, earns):
    assert accrues_interest(state) is earns


@pytest.mark.parametrize(("kind", "state", "operation"), [
    ("bank", "01", "remit"), (UNIT, "06", "remit"), (PERSON, "1", "remit"),
    (UNIT, "01", "freeze"), (PERSON, "01", "close"), (PERSON, "01", "pay")])
def test_unknown_kind_state_or_operation_is_a_programming_error(kind, state, operation):
    with pytest.raises(ValueError, match="unknown"):
        check_operation(kind, state, operation)


def test_unit_close_needs_no_staff_and_zero_balance():
    check_unit_close(0, D("0.00"))
    with pytest.raises(StateRefused) as excinfo:
        check_unit_close(3, D("0"))
    assert excinfo.value.details == {"staff_count": ["单位尚有 3 个职工账户未转出或销户，不能销户"]}
    with pytest.raises(StateRefused) as excinfo:
        check_unit_close(0, D("1234.5"))
    assert excinfo.value.details == {"balance": ["单位账户余额为 1,234.50 元，须为零才能销户"]}
    with pytest.raises(StateRefused) as excinfo:
        check_unit_close(1, D("-0.01"))
    assert set(excinfo.value.details) == {"staff_count", "balance"}
    assert excinfo.value.message == ("单位尚有 1 个职工账户未转出或销户，不能销户；"
                                     "单位账户余额为 -0.01 元，须为零才能销户")
