"""明细查询: the statement of an individual account (个人明细) and of an employer (单位明细),
filtered by dates, 所属年月 and business type, and their Excel export (audited by the service)."""

from __future__ import annotations

from flask import Response, redirect, render_template, request, url_for

from hpf.controllers import deps
from hpf.controllers.api.statements import XLSX
from hpf.controllers.console.common import bp, now, page_number, parse_date, refused
from hpf.domain.calendar import BUSINESS_TZ
from hpf.domain.errors import ValidationFailed
from hpf.services import statements

PER_PAGE = 50


def _filters(*, months: bool) -> tuple[dict, dict[str, list[str]]]:
    """The query string as service filters, and what could not be read (shown by the fields)."""
    args, errors, out = request.args, {}, {}
    for name in ("date_from", "date_to"):
        raw = args.get(name, "").strip()
        if raw:
            out[name] = parse_date(raw)
            if out[name] is None:
                errors[name] = ["日期格式应为 YYYY-MM-DD"]
    kind = args.get("business_type", "").strip()
    if kind:
        if kind in statements.BUSINESS_TYPES:
            out["business_type"] = kind
        else:
            errors["business_type"] = ["业务类型无效"]
    if months:
        for name in ("month_from", "month_to"):
            raw = args.get(name, "").strip().replace("-", "")
            if raw:
                out[name] = raw[:6]
    return out, errors


def _read(errors: dict[str, list[str]], call, filters: dict):
    """The statement with the filters; with filters it cannot use, the messages and the first
    page without filters (422), so the page still shows whose statement it is."""
    if errors:
        refused(ValidationFailed("查询条件有误", details=errors))
    else:
        try:
            return call(**filters), errors, 200
        except ValidationFailed as exc:
            errors = refused(exc)
    return call(), errors, 422


def _export_args() -> dict[str, str]:
    return {k: v for k, v in request.args.items() if k != "page" and v}


def _download(data: bytes, name: str) -> Response:
    stamp = now().astimezone(BUSINESS_TZ).strftime("%Y%m%d%H%M%S")
    return Response(data, mimetype=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{name}-{stamp}.xlsx"'})


# ---------------------------------------------------------------- 个人明细

@bp.get("/accounts/<int:account_id>/statement")
@deps.requires("statement:view")
def accounts_statement(account_id: int):
    """个人明细: opening balance, lines with the running balance, totals (收入/支出)."""
    filters, errors = _filters(months=False)
    found, errors, status = _read(errors, lambda **f: statements.account_statement(
        deps.uow(), deps.actor(), account_id, page=page_number(), per_page=PER_PAGE, **f), filters)
    return render_template("statements/account.html", st=found, form=request.args, errors=errors,
                           types=statements.BUSINESS_TYPES, export_args=_export_args()), status


@bp.get("/accounts/<int:account_id>/statement.xlsx")
@deps.requires("statement:view")
def accounts_statement_xlsx(account_id: int):
    """导出个人明细 (Excel) with the page's filters; the service audits the export."""
    filters, errors = _filters(months=False)
    back = redirect(url_for("console.accounts_statement", account_id=account_id, **_export_args()))
    try:
        if errors:
            raise ValidationFailed("查询条件有误，请修改后再导出", details=errors)
        data = statements.export_account_xlsx(deps.uow(), deps.actor(), deps.who(), now(), account_id,
                                              **filters)
    except ValidationFailed as exc:
        refused(exc)
        return back
    return _download(data, f"statement-account-{account_id}")


# ---------------------------------------------------------------- 单位明细

@bp.get("/units/<int:unit_id>/statement")
@deps.requires("statement:view")
def units_statement(unit_id: int):
    """单位明细: the lines posted under the unit with names, and totals per business type."""
    filters, errors = _filters(months=True)
    found, errors, status = _read(errors, lambda **f: statements.unit_statement(
        deps.uow(), deps.actor(), unit_id, page=page_number(), per_page=PER_PAGE, **f), filters)
    return render_template("statements/unit.html", st=found, form=request.args, errors=errors,
                           types=statements.BUSINESS_TYPES, export_args=_export_args()), status


@bp.get("/units/<int:unit_id>/statement.xlsx")
@deps.requires("statement:view")
def units_statement_xlsx(unit_id: int):
    """导出单位明细 (Excel) with the page's filters; the service audits the export."""
    filters, errors = _filters(months=True)
    back = redirect(url_for("console.units_statement", unit_id=unit_id, **_export_args()))
    try:
        if errors:
            raise ValidationFailed("查询条件有误，请修改后再导出", details=errors)
        data = statements.export_unit_xlsx(deps.uow(), deps.actor(), deps.who(), now(), unit_id, **filters)
    except ValidationFailed as exc:
        refused(exc)
        return back
    return _download(data, f"statement-unit-{unit_id}")
