"""基数调整 in the console: a unit's staff bases from a list (all or nothing, with the
row-by-row report) or brought into the floor/cap band; and 生成本月汇缴单 for every unit."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from hpf.controllers import deps
from hpf.controllers.console.common import CORRECTABLE, bp, now, refused
from hpf.controllers.console.remittances import _keep_report, month_input
from hpf.domain.errors import ValidationFailed
from hpf.domain.remittance_list import ListRejected
from hpf.services import base_adjustment, remittance, units
from hpf.services.remittance_files import error_report_xlsx


def _page(unit_id: int, errors=None, status: int = 200, **extra):
    unit = units.get_unit(deps.uow(), deps.actor(), unit_id)
    return render_template("units/base_adjustment.html", unit=unit, errors=errors or {}, **extra), status


@bp.get("/units/<int:unit_id>/base-adjustment")
@deps.requires("account:change")
def units_base_adjustment(unit_id: int):
    return _page(unit_id)


@bp.post("/units/<int:unit_id>/base-adjustment")
@deps.requires("account:change")
def units_base_adjust(unit_id: int):
    """清单导入: any bad row and no base changes; the rows are shown and kept as Excel."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _page(unit_id, refused(ValidationFailed("请选择基数调整清单", details={
            "file": ["请选择基数调整清单（.xlsx 或 .csv）"]})), 422)
    try:
        done = base_adjustment.adjust_from_file(deps.uow(), deps.actor(), deps.who(), now(), unit_id,
                                                upload.filename, upload.read())
    except ListRejected as exc:
        flash(exc.message, "error")
        token = _keep_report(error_report_xlsx(exc.errors, title="基数调整清单错误报告"))
        return _page(unit_id, {}, exc.status, row_errors=exc.errors, report=token)
    except CORRECTABLE as exc:
        return _page(unit_id, refused(exc), exc.status)
    flash(f"基数调整完成：清单 {done.checked} 人，{done.changed} 人基数变更", "success")
    return redirect(url_for("console.units_detail", unit_id=unit_id))


@bp.post("/units/<int:unit_id>/base-adjustment/band")
@deps.requires("account:change")
def units_base_band(unit_id: int):
    """按上下限: bases below the floor raised to it, above the cap lowered to it."""
    done = base_adjustment.adjust_to_band(deps.uow(), deps.actor(), deps.who(), now(), unit_id)
    flash(f"已按当前缴存基数上下限调整：检查 {done.checked} 人，{done.changed} 人基数变更", "success")
    return redirect(url_for("console.units_detail", unit_id=unit_id))


@bp.post("/remittances/month")
@deps.requires("remittance:entry")
def remittances_month():
    """生成本月汇缴单 for every due unit in scope (a second run lists nothing more)."""
    errors: dict[str, list[str]] = {}
    month = month_input(request.form.get("month"), "month", errors)
    if errors:
        flash("；".join(errors["month"]), "error")
        return redirect(url_for("console.remittances_list"))
    try:
        listed = remittance.create_month(deps.uow(), deps.actor(), deps.who(), now(), month)
    except CORRECTABLE as exc:
        flash(exc.message, "error")
        return redirect(url_for("console.remittances_list"))
    flash(f"已生成 {month} 汇缴单 {listed} 张（已有汇缴单或不在缴存状态的单位已跳过）", "success")
    return redirect(url_for("console.remittances_list", month=month))
