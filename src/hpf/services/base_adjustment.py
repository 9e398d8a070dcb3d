"""基数调整: the annual deposit-base adjustment of a unit's staff, as one batch.

Each year (usually from 1 July) the floor and cap of the deposit base change and employers
report their staff's new bases. Two ways, both all-or-nothing and set-based:

- from an import (个人账号, 姓名, 缴存基数): every row checked — the person on this unit's
  roster and in a state that may change, the name, the base within the band in force;
  any bad row and nothing changes, the row-by-row report comes back (as for 清册);
- from the roster: every base below the new floor raised to it, every base above the new
  cap lowered to it (the centre-wide rule when the band moves).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from hpf.domain import accounts as states
from hpf.domain.calendar import business_date
from hpf.domain.contribution import RuleBroken, check_base
from hpf.domain.remittance_list import ACCOUNT, BASE, NAME, ListRejected, RowError
from hpf.repositories.uow import UnitOfWork
from hpf.services import audit
from hpf.services.access import Principal
from hpf.services.remittance_files import read_rows
from hpf.services.units import contribution_rules, load_in_scope

CHANGEABLE = ("01", "02", "06")  # 正常, 封存, 冻结: a base may be set while employed or kept


@dataclass(frozen=True)
class Adjusted:
    unit_id: int
    checked: int  # rows in the list, or staff looked at
    changed: int  # bases that actually changed


def adjust_from_file(
    uow: UnitOfWork, actor: Principal, who: audit.Who, now: datetime, unit_id: int, filename: str, data: bytes
) -> Adjusted:
    actor.require("account:change")
    raw = read_rows(filename, data, required=(ACCOUNT, NAME, BASE))
    with uow:
        unit = load_in_scope(uow, actor, unit_id, for_update=True)
        rules = contribution_rules(uow, business_date(now))
        roster = {r["account_no"]: r for r in uow.collection.roster(unit.id)}
        errors: list[RowError] = []
        changes: dict[int, Decimal] = {}
        seen: dict[str, int] = {}
        for row in raw:
            account_no, name = row.get(ACCOUNT).strip(), row.get(NAME).strip()
            entry = roster.get(account_no)
            if account_no in seen:
                errors.append(
                    RowError(row.row, ACCOUNT, f"个人账号与第 {seen[account_no]} 行重复", account_no)
                )
                continue
            seen[account_no] = row.row
            if entry is None:
                errors.append(RowError(row.row, ACCOUNT, "个人账号不是本单位在册职工的账户", account_no))
                continue
            if entry["status"] not in CHANGEABLE:
                state = states.PERSON_STATES.get(entry["status"], entry["status"])
                errors.append(RowError(row.row, ACCOUNT, f"该账户状态为“{state}”，不能调整基数", account_no))
            if "".join(name.split()) != "".join(entry["name"].split()):
                errors.append(RowError(row.row, NAME, f"姓名与个人账号 {account_no} 登记的姓名不一致", name))
            text = row.get(BASE).strip().replace(",", "")
            try:
                base = check_base(Decimal(text), rules, "deposit_base")
            except RuleBroken as exc:
                errors.append(RowError(row.row, BASE, exc.message, text))
                continue
            except ArithmeticError:
                errors.append(RowError(row.row, BASE, "缴存基数不是有效的金额", text))
                continue
            if base != entry["deposit_base"]:
                changes[entry["id"]] = base
        if not raw:
            errors.append(RowError(0, ACCOUNT, "清单中没有数据行"))
        if errors:
            raise ListRejected(
                errors, f"基数调整清单有 {len(errors)} 处错误，未做任何调整，请下载错误报告修改后重新上传"
            )
        uow.collection.set_bases(changes)
        audit.record(
            uow,
            actor.who(who),
            "account.base_adjust",
            target=f"unit:{unit.unit_no}",
            summary=f"基数调整（清单导入）：{len(raw)} 人，{len(changes)} 人基数变更",
            now=now,
        )
        done = Adjusted(unit.id, len(raw), len(changes))
        uow.commit()
    return done


def adjust_to_band(
    uow: UnitOfWork, actor: Principal, who: audit.Who, now: datetime, unit_id: int
) -> Adjusted:
    """From the roster: bases brought into the band (floor..cap) in force today."""
    actor.require("account:change")
    with uow:
        unit = load_in_scope(uow, actor, unit_id, for_update=True)
        rules = contribution_rules(uow, business_date(now))
        roster = [
            r
            for r in uow.collection.roster(unit.id)
            if r["status"] in CHANGEABLE and r["deposit_base"] is not None
        ]
        changes = {}
        for r in roster:
            base = Decimal(r["deposit_base"])
            if not rules.base_floor <= base <= rules.base_cap:
                changes[r["id"]] = min(max(base, rules.base_floor), rules.base_cap)
        uow.collection.set_bases(changes)
        audit.record(
            uow,
            actor.who(who),
            "account.base_adjust",
            target=f"unit:{unit.unit_no}",
            summary=f"基数调整（按上下限）：{len(roster)} 人，{len(changes)} 人基数变更为 "
            f"{rules.base_floor}–{rules.base_cap}",
            now=now,
        )
        done = Adjusted(unit.id, len(roster), len(changes))
        uow.commit()
    return done
