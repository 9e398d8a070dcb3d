"""Maker-checker (双人复核), reusable by every module.

A module registers an operation type with the function that carries it out::

    approvals.register("param.change", "业务参数调整", apply_param_change)

and submits through ``submit``. The centre's rule for the type (approval_policy: always,
above an amount, or never) decides whether it runs at once or waits for a second person:
a checker who holds the rule's permission, covers the request's organisation, and is not the
maker. Approving runs the operation in the checker's transaction with the payload exactly as
submitted (it is sealed with the request); if the operation fails, nothing changes and the
request stays pending.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from hpf.crypto import integrity, keys
from hpf.crypto.errors import IntegrityViolation
from hpf.domain.errors import Conflict, Forbidden, NotFound, ValidationFailed
from hpf.repositories.models import ApprovalRequest
from hpf.repositories.uow import UnitOfWork
from hpf.services import audit
from hpf.services.access import Principal

MODES = {"always": "一律复核", "above": "超过金额阈值时复核", "never": "无需复核"}
STATUS = {"pending": "待复核", "approved": "已通过", "rejected": "已退回", "cancelled": "已撤销"}


@dataclass(frozen=True)
class Context:
    """What an operation's function gets besides the payload."""

    uow: UnitOfWork
    maker: str
    checker: str | None
    who: audit.Who
    now: datetime


Apply = Callable[[Context, dict], str]  # returns a short outcome text


@dataclass(frozen=True)
class OperationType:
    code: str
    name: str
    apply: Apply
    maker_permission: str


OPERATIONS: dict[str, OperationType] = {}


def register(code: str, name: str, apply: Apply, maker_permission: str) -> None:
    OPERATIONS[code] = OperationType(code, name, apply, maker_permission)


@dataclass(frozen=True)
class RequestView:
    id: int
    op_type: str
    op_name: str
    status: str
    status_name: str
    summary: str
    amount: Decimal | None
    maker_name: str
    made_at: datetime
    checker_name: str | None
    decided_at: datetime | None
    decision_note: str | None
    outcome: str | None
    payload: dict


@dataclass(frozen=True)
class Submitted:
    request: RequestView | None  # None when the operation ran at once
    outcome: str | None


@dataclass(frozen=True)
class PolicyView:
    op_type: str
    op_name: str
    mode: str
    mode_name: str
    threshold: Decimal | None
    checker_permission: str
    updated_by: str
    updated_at: datetime


def _view(row: ApprovalRequest) -> RequestView:
    return RequestView(
        row.id,
        row.op_type,
        _op_name(row.op_type),
        row.status,
        STATUS[row.status],
        row.summary,
        row.amount,
        row.maker_name,
        row.made_at,
        row.checker_name,
        row.decided_at,
        row.decision_note,
        row.outcome,
        json.loads(row.payload),
    )


def _registered() -> dict[str, OperationType]:
    """The operation types, once the modules that define them are loaded (they import this
    module, so it cannot import them at the top)."""
    import hpf.services.params
    import hpf.services.remittance
    import hpf.services.units  # noqa: F401 - registers unit.defer

    return OPERATIONS


# Operation types whose modules come with later issues: named now so the rules read well.
PLANNED = {
    "remittance.reverse": "汇缴冲正（错缴更正）",
    "withdrawal.large": "大额提取",
    "loan.approve": "贷款审批",
}


def _op_name(op_type: str) -> str:
    op = _registered().get(op_type)
    return op.name if op else PLANNED.get(op_type, op_type)


def _operation(op_type: str) -> OperationType:
    op = _registered().get(op_type)
    if op is None:
        raise NotFound(f"未知的业务类型 {op_type}", code="unknown_operation")
    return op


def needs_checker(mode: str, threshold: Decimal | None, amount: Decimal | None) -> bool:
    """The rule: always; above a threshold (an operation without an amount always waits); never."""
    if mode == "never":
        return False
    if mode == "above":
        return amount is None or threshold is None or amount > threshold
    return True


def submit(
    uow: UnitOfWork,
    actor: Principal,
    who: audit.Who,
    now: datetime,
    op_type: str,
    payload: dict,
    *,
    summary: str,
    amount: Decimal | None = None,
    org_id: int | None = None,
) -> Submitted:
    """Run the operation now, or hold it for a checker, as the centre's rule says."""
    op = _operation(op_type)
    actor.require(op.maker_permission)
    if org_id is not None:
        actor.require_scope(org_id)
    text = json.dumps(payload, ensure_ascii=False, sort_keys=True, default=str)
    with uow:
        policy = uow.access.policy(op_type)
        if policy is not None and integrity.check_instance(keys.for_engine(uow.database.engine), policy):
            raise IntegrityViolation(internal=f"approval_policy {op_type}")
        mode, threshold = (policy.mode, policy.threshold) if policy else ("always", None)
        if not needs_checker(mode, threshold, amount):
            outcome = op.apply(Context(uow, actor.username, None, actor.who(who), now), payload)
            uow.commit()
            return Submitted(None, outcome)
        row = uow.access.add_request(
            ApprovalRequest(
                op_type=op_type,
                status="pending",
                payload=text,
                summary=summary[:500],
                amount=amount,
                org_id=org_id,
                maker_id=actor.id,
                maker_name=actor.username,
                made_at=now,
            )
        )
        audit.record(
            uow,
            actor.who(who),
            "approval.submit",
            target=f"approval:{row.id}",
            summary=f"{op_type}: {summary}",
            now=now,
        )
        view = _view(row)
        uow.commit()
    return Submitted(view, None)


def decide(
    uow: UnitOfWork,
    actor: Principal,
    who: audit.Who,
    now: datetime,
    request_id: int,
    *,
    approve: bool,
    note: str = "",
) -> RequestView:
    """The checker approves (the operation runs now, in this transaction) or rejects."""
    note = note.strip()[:500]
    if not approve and not note:
        raise ValidationFailed(details={"note": ["退回时须填写意见"]})
    with uow:
        row = uow.access.request_for_update(request_id)
        if row is None:
            raise NotFound("复核申请不存在", code="approval_not_found")
        integrity.require_intact(
            keys.for_engine(uow.database.engine), row
        )  # the payload as the maker sent it
        policy = uow.access.policy(row.op_type)
        actor.require(policy.checker_permission if policy else _operation(row.op_type).maker_permission)
        actor.require_scope(row.org_id) if row.org_id is not None else None
        if row.maker_id == actor.id:
            raise Forbidden("经办人不能复核自己提交的业务（双人复核）", code="maker_is_checker")
        if row.status != "pending":
            raise Conflict(f"该申请{STATUS[row.status]}", code="approval_decided")
        outcome = None
        if approve:
            op = _operation(row.op_type)
            outcome = op.apply(
                Context(uow, row.maker_name, actor.username, actor.who(who), now), json.loads(row.payload)
            )
        row.status = "approved" if approve else "rejected"
        row.checker_id, row.checker_name, row.decided_at = actor.id, actor.username, now
        row.decision_note, row.outcome = note or None, (outcome or "")[:500] or None
        audit.record(
            uow,
            actor.who(who),
            "approval.approve" if approve else "approval.reject",
            target=f"approval:{row.id}",
            summary=f"{row.op_type}: {row.summary} {note}".strip(),
            now=now,
        )
        view = _view(row)
        uow.commit()
    return view


def cancel(uow: UnitOfWork, actor: Principal, who: audit.Who, now: datetime, request_id: int) -> RequestView:
    with uow:
        row = uow.access.request_for_update(request_id)
        if row is None:
            raise NotFound("复核申请不存在", code="approval_not_found")
        if row.maker_id != actor.id:
            raise Forbidden("只有经办人本人可以撤销", code="not_maker")
        if row.status != "pending":
            raise Conflict(f"该申请{STATUS[row.status]}", code="approval_decided")
        row.status, row.decided_at = "cancelled", now
        audit.record(uow, actor.who(who), "approval.cancel", target=f"approval:{row.id}", now=now)
        view = _view(row)
        uow.commit()
    return view


def inbox(uow: UnitOfWork, actor: Principal) -> list[RequestView]:
    """Pending requests this person may decide: their permission, their scope, not their own."""
    with uow:
        allowed = [p.op_type for p in uow.access.policies() if actor.can(p.checker_permission)]
        rows = uow.access.requests(status="pending", op_types=allowed, org_ids=actor.scope.org_ids)
        return [_view(r) for r in rows if r.maker_id != actor.id]


def inbox_count(uow: UnitOfWork, actor: Principal) -> int:
    """How many requests wait for this person (the menu's badge: a COUNT, not the list)."""
    with uow:
        allowed = [p.op_type for p in uow.access.policies() if actor.can(p.checker_permission)]
        if not allowed:
            return 0
        return uow.access.count_requests(status="pending", op_types=allowed, org_ids=actor.scope.org_ids,
                                         not_maker=actor.id)


def mine(uow: UnitOfWork, actor: Principal) -> list[RequestView]:
    with uow:
        return [_view(r) for r in uow.access.requests(maker_id=actor.id, limit=100)]


def get(uow: UnitOfWork, actor: Principal, request_id: int) -> RequestView:
    with uow:
        row = uow.access.request(request_id)
        if row is None:
            raise NotFound("复核申请不存在", code="approval_not_found")
        policy = uow.access.policy(row.op_type)
        if row.maker_id != actor.id and not (policy and actor.can(policy.checker_permission)):
            raise Forbidden()
        return _view(row)


def policies(uow: UnitOfWork) -> list[PolicyView]:
    with uow:
        return [
            PolicyView(
                p.op_type,
                _op_name(p.op_type),
                p.mode,
                MODES[p.mode],
                p.threshold,
                p.checker_permission,
                p.updated_by,
                p.updated_at,
            )
            for p in uow.access.policies()
        ]


def set_policy(
    uow: UnitOfWork,
    actor: Principal,
    who: audit.Who,
    now: datetime,
    op_type: str,
    *,
    mode: str,
    threshold: Decimal | None,
) -> None:
    """安全管理员 sets when an operation type needs a second person."""
    actor.require("approval:policy")
    if mode not in MODES:
        raise ValidationFailed(details={"mode": ["取值为 always / above / never"]})
    if mode == "above" and (threshold is None or threshold <= 0):
        raise ValidationFailed(details={"threshold": ["按金额复核时须设置大于 0 的阈值"]})
    with uow:
        policy = uow.access.policy(op_type)
        if policy is None:
            raise NotFound("复核规则不存在", code="approval_policy_not_found")
        before = f"{policy.mode} {policy.threshold or ''}".strip()
        policy.mode, policy.threshold = mode, threshold if mode == "above" else None
        policy.updated_by, policy.updated_at = actor.username, now
        audit.record(
            uow,
            actor.who(who),
            "approval.policy",
            target=f"policy:{op_type}",
            summary=f"{before} -> {mode} {threshold or ''}".strip(),
            now=now,
        )
        uow.commit()
