"""个人开户 and the life of an individual account: seal, unseal, transfer, freeze, base change.

One person, one account (条例 art. 13): a person is found by the blind index of the ID
number; an open account refuses a second one, a sealed one is unsealed or transferred
in, never duplicated. Each step runs through the person state machine (domain.accounts)
and is audited in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from hpf.crypto import masking
from hpf.domain import accounts as states
from hpf.domain import ledger as books
from hpf.domain.calendar import business_date
from hpf.domain.contribution import check_base
from hpf.domain.errors import Conflict, NotFound, ValidationFailed
from hpf.domain.identity_codes import ID_TYPES, check_id
from hpf.repositories.models import IndividualAccount, Person, Unit
from hpf.repositories.uow import UnitOfWork
from hpf.services import audit, ledger
from hpf.services.access import Principal
from hpf.services.units import contribution_rules, load_in_scope, number_prefix

INTERNAL_TRANSFER = "06"  # 归集业务类型 内部转移
OPEN_STATES = ("01", "06")  # an account in these states refuses a second one outright


@dataclass(frozen=True)
class AccountView:
    id: int
    account_no: str
    person_id: int
    name: str
    id_type: str
    id_type_name: str
    id_number: str  # masked
    phone: str  # masked
    status: str
    status_name: str
    balance: Decimal
    deposit_base: Decimal | None
    unit_id: int | None
    unit_no: str | None
    unit_name: str | None
    opened_on: date
    closed_on: date | None
    operations: list[str]


@dataclass(frozen=True)
class NewAccount:
    """个人开户 command."""

    name: str
    id_type: str
    id_number: str
    unit_id: int
    deposit_base: Decimal
    on: date
    phone: str | None = None


def open_account(uow: UnitOfWork, actor: Principal, who: audit.Who, now: datetime,
                 cmd: NewAccount) -> AccountView:
    """个人开户: a person and their account under a unit in scope, base within floor..cap."""
    actor.require("account:open")
    document = check_id(cmd.id_type, cmd.id_number, cmd.on)
    name = (cmd.name or "").strip()
    if not name:
        raise ValidationFailed("姓名为必填项", details={"name": ["必填项"]})
    number = uow.database.adapter.allocate("account_no_seq")[0]  # own transaction: gaps allowed
    with uow:
        unit = _unit_taking_staff(uow, actor, cmd.unit_id)
        check_base(cmd.deposit_base, contribution_rules(uow, cmd.on), "deposit_base")
        people = uow.accounts.people_by_id_number(document.number)
        _refuse_second_account(uow.accounts.of_people([p.id for p in people]))
        person = people[0] if people else uow.accounts.add_person(Person(
            name=name, id_type=document.id_type, id_number=document.number,
            phone=(cmd.phone or "").strip() or None, created_at=now))
        account = uow.accounts.add(IndividualAccount(
            account_no=f"{number_prefix(uow)}{number:010d}", person_id=person.id,
            status=states.PERSON_INITIAL,
            balance=Decimal("0.00"), opened_on=cmd.on, created_at=now, unit_id=unit.id,
            deposit_base=cmd.deposit_base))
        audit.record(uow, actor.who(who), "account.open", target=f"account:{account.account_no}",
                     summary=f"单位 {unit.unit_no} 缴存基数 {cmd.deposit_base}", now=now)
        view = _view(uow, account)
        uow.commit()
    return view


def get_account(uow: UnitOfWork, actor: Principal, account_id: int) -> AccountView:
    """One account, ID number masked: 404 when missing, 403 out of scope (the unit's branch)."""
    actor.require("person:view")
    with uow:
        return _view(uow, _load(uow, actor, account_id))


def search_accounts(uow: UnitOfWork, actor: Principal, *, id_number: str | None = None,
                    account_no: str | None = None) -> list[AccountView]:
    """Accounts in scope by exact ID number (blind index) or account number."""
    actor.require("person:view")
    if not id_number and not account_no:
        message = "请输入证件号码或个人账号"
        raise ValidationFailed(message, details={"id_number": [message]})
    with uow:
        person_ids = None
        if id_number:
            person_ids = [p.id for p in uow.accounts.people_by_id_number(id_number.strip().upper())]
        rows = uow.accounts.find(actor.scope.org_ids, person_ids=person_ids,
                                 account_no=account_no.strip() if account_no else None)
        return [_view(uow, a) for a in rows]


def seal_account(uow, actor, who, now, account_id: int) -> AccountView:
    """封存: employment ended; the unit is kept for history (01 → 02)."""
    def step(account):
        account.status = states.next_state(states.PERSON, account.status, "seal")
        return "封存"
    return _change(uow, actor, who, now, account_id, "seal", step)


def move_account(uow: UnitOfWork, actor: Principal, who: audit.Who, now: datetime, account_id: int,
                 move: dict) -> AccountView:
    """启封 (02 → 01) or 内部转移 (01/02 → 01) to a unit in scope with a base within bounds.

    The scope checked is the new unit's: a sealed account at another branch is taken over
    by the branch where the person now works. The balance moves with the account.
    """
    actor.require("account:change")
    operation = move["operation"]
    with uow:
        account = _get(uow, account_id, for_update=True)
        target = states.next_state(states.PERSON, account.status, operation)
        unit = _unit_taking_staff(uow, actor, move["unit_id"])
        check_base(move["deposit_base"], contribution_rules(uow, move["on"]), "deposit_base")
        old = uow.units.get(account.unit_id) if account.unit_id else None
        account.status, account.unit_id = target, unit.id
        account.deposit_base = move["deposit_base"]
        summary = f"{old.unit_no if old else '-'} → {unit.unit_no} 缴存基数 {move['deposit_base']}"
        if old is not None and old.id != unit.id and account.balance:
            # The unit sub-ledger of 201 follows the person: Dr 201 old unit / Cr 201 new unit.
            voucher = ledger.post(uow, books.VoucherDraft(
                business_date(now), INTERNAL_TRANSFER,
                f"内部转移 {account.account_no}：{old.unit_no} → {unit.unit_no}",
                (books.Line(books.PROVIDENT_FUND, debit=account.balance, unit_id=old.id),
                 books.Line(books.PROVIDENT_FUND, credit=account.balance, unit_id=unit.id))),
                created_by=actor.username)
            summary += f"，余额 {account.balance:,.2f} 元随转（凭证 {voucher.voucher_no}）"
        audit.record(uow, actor.who(who), f"account.{operation}", target=f"account:{account.account_no}",
                     summary=summary, now=now)
        view = _view(uow, account)
        uow.commit()
    return view


def freeze_account(uow, actor, who, now, account_id: int) -> AccountView:
    """冻结: remembers whether the account was 正常 or 封存."""
    def step(account):
        target = states.next_state(states.PERSON, account.status, "freeze")
        account.status_before_freeze, account.status = account.status, target
        return "冻结"
    return _change(uow, actor, who, now, account_id, "freeze", step, "account:freeze")


def unfreeze_account(uow, actor, who, now, account_id: int) -> AccountView:
    """解冻: back to the state before the freeze."""
    def step(account):
        account.status = states.next_state(states.PERSON, account.status, "unfreeze",
                                           account.status_before_freeze)
        account.status_before_freeze = None
        return "解冻"
    return _change(uow, actor, who, now, account_id, "unfreeze", step, "account:freeze")


def change_base(uow, actor, who, now, account_id: int, deposit_base: Decimal, on: date) -> AccountView:
    """基数调整 within the floor and cap in force on ``on``."""
    def step(account):
        states.check_operation(states.PERSON, account.status, "adjust")
        check_base(deposit_base, contribution_rules(uow, on), "deposit_base")
        before, account.deposit_base = account.deposit_base, deposit_base
        return f"缴存基数 {before} → {deposit_base}"
    return _change(uow, actor, who, now, account_id, "adjust", step)


def _change(uow: UnitOfWork, actor: Principal, who: audit.Who, now: datetime, account_id: int,
            operation: str, step, permission: str = "account:change") -> AccountView:
    actor.require(permission)
    with uow:
        account = _load(uow, actor, account_id, for_update=True)
        summary = step(account)
        audit.record(uow, actor.who(who), f"account.{operation}", target=f"account:{account.account_no}",
                     summary=summary, now=now)
        view = _view(uow, account)
        uow.commit()
    return view


def _refuse_second_account(existing: list[IndividualAccount]) -> None:
    for account in existing:
        if account.status in OPEN_STATES:
            message = f"该证件号码已有个人账户（账号 {account.account_no}），每人只能有一个住房公积金账户"
            raise Conflict(message, code="account_exists", details={"id_number": [message]})
        if account.status == "02":
            message = (f"该证件号码已有封存的个人账户（账号 {account.account_no}），"
                       "请办理启封或内部转移，不能重复开户")
            raise Conflict(message, code="account_sealed", details={"id_number": [message]})


def _unit_taking_staff(uow: UnitOfWork, actor: Principal, unit_id: int) -> Unit:
    unit = uow.units.get(unit_id)
    if unit is None:
        raise ValidationFailed("单位不存在", details={"unit_id": ["单位不存在"]})
    actor.require_scope(unit.org_id)
    states.check_operation(states.UNIT, unit.status, "add_staff")
    return unit


def _get(uow: UnitOfWork, account_id: int, *, for_update: bool = False) -> IndividualAccount:
    account = uow.accounts.get(account_id, for_update=for_update)
    if account is None:
        raise NotFound("个人账户不存在")
    return account


def _load(uow: UnitOfWork, actor: Principal, account_id: int, *,
          for_update: bool = False) -> IndividualAccount:
    account = _get(uow, account_id, for_update=for_update)
    if account.unit_id is None:
        actor.require_scope(None)  # no unit: centre-wide staff only
    else:
        load_in_scope(uow, actor, account.unit_id)
    return account


def _view(uow: UnitOfWork, account: IndividualAccount) -> AccountView:
    person = uow.accounts.person(account.person_id)
    unit = uow.units.get(account.unit_id) if account.unit_id else None
    return AccountView(
        account.id, account.account_no, person.id, person.name, person.id_type,
        ID_TYPES.get(person.id_type, person.id_type), masking.mask_id_number(person.id_number),
        masking.mask_phone(person.phone), account.status, states.PERSON_STATES[account.status],
        account.balance, account.deposit_base, account.unit_id, unit.unit_no if unit else None,
        unit.name if unit else None, account.opened_on, account.closed_on,
        states.allowed_operations(states.PERSON, account.status))
