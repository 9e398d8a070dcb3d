"""Account states (账户状态, JGJ/T 320 code tables DWZHZT and GRZHZT) and what each allows.

One table per kind of account maps an operation to the states it may start from and the
state it leaves behind; every check and every transition reads that table, so what the
console offers, what a service accepts and what the tests enumerate cannot disagree.
Approvals (缓缴 needs 职代会 and 管委会 consent, 条例 art. 20) are the service's business: this
module only says whether the state allows the step.
"""

from __future__ import annotations

from decimal import Decimal

from hpf.domain.errors import Conflict

UNIT, PERSON = "unit", "person"

UNIT_STATES = {"01": "正常", "02": "开户", "03": "缓缴", "04": "销户", "05": "封存", "99": "其他"}
PERSON_STATES = {"01": "正常", "02": "封存", "03": "合并销户", "04": "外部转出销户", "05": "提取销户",
                 "06": "冻结", "99": "其他"}
UNIT_INITIAL = "02"    # a new unit is 开户 until its first 汇缴
PERSON_INITIAL = "01"
# "99 其他" is in the code tables for migrated data; it allows nothing until staff correct it.

OPERATIONS = {
    "remit": "汇缴",
    "back_pay": "补缴",
    "adjust": "基数比例调整",
    "change": "信息变更",
    "add_staff": "职工开户或转入",
    "defer": "缓缴",
    "resume": "缓缴结束",
    "seal": "封存",
    "unseal": "启封",
    "transfer": "内部转移",
    "withdraw": "部分提取",
    "freeze": "冻结",
    "unfreeze": "解冻",
    "close": "销户",
    "merge_close": "合并销户",
    "transfer_out": "外部转出",
    "withdraw_close": "销户提取",
}

RESTORE = "before_freeze"  # target of 解冻: the state the account had when it was frozen

# operation → {from state: to state}
UNIT_RULES: dict[str, dict[str, str]] = {
    "remit": {"01": "01", "02": "01"},  # the first 汇缴 makes a new unit 正常
    # A deferring unit pays nothing month by month, but may make up arrears at any time.
    "back_pay": {"01": "01", "03": "03"},
    "adjust": {"01": "01", "02": "02", "03": "03"},  # 降比 often goes with 缓缴
    "change": {"01": "01", "02": "02", "03": "03", "05": "05"},
    "add_staff": {"01": "01", "02": "02", "03": "03"},
    "defer": {"01": "03"},
    "resume": {"03": "01"},
    "seal": {"01": "05"},
    "unseal": {"05": "01"},
    # Also needs zero staff and zero balance (check_unit_close). A deferring unit owes the
    # deferred months, so it resumes (and pays) before it can close.
    "close": {"01": "04", "02": "04", "05": "04"},
}

PERSON_RULES: dict[str, dict[str, str]] = {
    "remit": {"01": "01"},
    "back_pay": {"01": "01"},
    "adjust": {"01": "01"},
    "change": {"01": "01", "02": "02", "06": "06"},
    "seal": {"01": "02"},                    # employment ended (条例 art. 15)
    "unseal": {"02": "01"},                  # 启封 at a new employer
    "transfer": {"01": "01", "02": "01"},    # 内部转移 to a new employer in the same centre
    "withdraw": {"01": "01", "02": "02"},
    "freeze": {"01": "06", "02": "06"},
    "unfreeze": {"06": RESTORE},
    # Closing pays out or moves the money: never while a court or the centre holds it frozen.
    "merge_close": {"01": "03", "02": "03"},
    "transfer_out": {"01": "04", "02": "04"},
    "withdraw_close": {"01": "05", "02": "05"},
}

INTEREST_STATES = frozenset({"01", "02", "06"})  # sealed and frozen balances still earn interest

_KINDS = {UNIT: ("单位", UNIT_STATES, UNIT_RULES), PERSON: ("个人", PERSON_STATES, PERSON_RULES)}


class StateRefused(Conflict):
    """The account's state does not allow the operation."""

    code = "state_refused"

    def __init__(self, message: str, details: dict[str, list[str]] | None = None) -> None:
        super().__init__(message, details=details or {"status": [message]})


def allowed_operations(kind: str, state: str) -> list[str]:
    """The operations ``state`` allows, in table order (what the console may offer)."""
    _label, _states, rules = _table(kind, state)
    return [operation for operation, moves in rules.items() if state in moves]


def check_operation(kind: str, state: str, operation: str) -> None:
    """Raise StateRefused unless an account of ``kind`` in ``state`` allows ``operation``."""
    _target(kind, state, operation)


def next_state(kind: str, state: str, operation: str, before_freeze: str | None = None) -> str:
    """The state after ``operation``; StateRefused when the current state does not allow it.

    解冻 returns to ``before_freeze``, the state the service recorded when it froze the
    account (冻结 remembers whether the person was 正常 or 封存).
    """
    target = _target(kind, state, operation)
    if target != RESTORE:
        return target
    if before_freeze not in PERSON_RULES["freeze"]:
        raise ValueError(f"unfreeze needs the state before freezing, got {before_freeze!r}")
    return before_freeze


def accrues_interest(state: str) -> bool:
    """Whether a personal account in ``state`` earns interest (HPF_RULES §2)."""
    _table(PERSON, state)
    return state in INTEREST_STATES


def check_unit_close(staff_count: int, balance: Decimal) -> None:
    """单位销户 needs no staff accounts left open under the unit and a zero balance."""
    problems: dict[str, list[str]] = {}
    if staff_count:
        problems["staff_count"] = [f"单位尚有 {staff_count} 个职工账户未转出或销户，不能销户"]
    if balance:
        problems["balance"] = [f"单位账户余额为 {balance:,.2f} 元，须为零才能销户"]
    if problems:
        raise StateRefused("；".join(m for ms in problems.values() for m in ms), details=problems)


def _target(kind: str, state: str, operation: str) -> str:
    label, states, rules = _table(kind, state)
    if operation not in rules:
        raise ValueError(f"unknown {kind} operation: {operation}")
    target = rules[operation].get(state)
    if target is None:
        raise StateRefused(f"{label}账户状态为 {states[state]}，不能办理 {OPERATIONS[operation]}")
    return target


def _table(kind: str, state: str) -> tuple[str, dict[str, str], dict[str, dict[str, str]]]:
    if kind not in _KINDS:
        raise ValueError(f"unknown account kind: {kind}")
    label, states, rules = _KINDS[kind]
    if state not in states:
        raise ValueError(f"unknown {kind} account state: {state}")
    return label, states, rules
