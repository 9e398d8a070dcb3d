"""Collection jobs: the annual interest settlement (年终结息)."""

from __future__ import annotations

from hpf.domain.access import DataScope
from hpf.jobs.registry import REGISTRY, JobContext, JobOutcome
from hpf.repositories.uow import UnitOfWork
from hpf.services import audit as audit_service
from hpf.services import interest
from hpf.services.access import Principal
from hpf.services.clock import Clock


def _system(name: str) -> Principal:
    """The scheduler posts as itself: the ledger permission and the whole centre in scope."""
    return Principal(id=0, username=name, display_name=name, org_id=0, org_code="", org_name="",
                     permissions=frozenset({"ledger:post", "ledger:view"}), scope=DataScope(0, None))


@REGISTRY.job("interest.annual_settlement", "年度结息", schedule="30 1 1 7 *")
def annual_settlement(ctx: JobContext) -> JobOutcome:
    """Settles the interest year that ended on the last 30 June (积数法, one voucher). A re-run
    finds the year settled and posts nothing."""
    day = ctx.business_date
    year = day.year if (day.month, day.day) > (6, 30) else day.year - 1
    done = interest.settle_year(UnitOfWork(ctx.database), _system("job:interest"),
                                audit_service.Who.system("interest.annual_settlement"), Clock().now(), year)
    if done.already_settled:
        return JobOutcome({"accounts": 0}, f"{year} 年度已结息（{done.accounts} 户），本次未重复入账")
    message = f"{year} 年度结息 {done.accounts} 户，利息合计 {done.total:,.2f} 元，凭证 {done.voucher_no}"
    return JobOutcome({"accounts": done.accounts}, message)
