"""审计日志 (审计管理员): search the trail, export what was found."""

from __future__ import annotations

from datetime import datetime

from flask import Response, abort, flash, redirect, render_template, request, url_for

from hpf.controllers import deps
from hpf.controllers.api.audit import EXPORTS, record_export
from hpf.controllers.console.common import bp, now, page_number, refused
from hpf.domain.calendar import BUSINESS_TZ
from hpf.domain.errors import ValidationFailed
from hpf.services import audit
from hpf.services.audit_export import RESULT_NAMES

PER_PAGE = 50
TEXT_FILTERS = ("actor", "action", "result", "target", "org_code")
# Common action prefixes for the filter's suggestions (the field takes any prefix).
ACTIONS = {
    "auth.": "登录与退出", "auth.login": "登录", "auth.lock": "账户锁定", "auth.password": "修改密码",
    "access.": "授权与角色", "access.denied": "越权访问（被拒绝）", "user.": "用户管理", "org.": "机构管理",
    "param.": "业务参数", "code.": "数据字典", "approval.": "双人复核", "token.": "接口令牌",
    "audit.": "审计操作",
}


def _filters() -> tuple[dict, dict[str, list[str]]]:
    """The search form as service filters; times are Beijing time (datetime-local fields)."""
    args, errors = request.args, {}
    filters: dict = {k: args.get(k, "").strip()[:200] or None for k in TEXT_FILTERS}
    for name in ("since", "until"):
        raw = args.get(name, "").strip()
        if not raw:
            continue
        try:
            filters[name] = datetime.fromisoformat(raw).replace(tzinfo=BUSINESS_TZ)
        except ValueError:
            errors[name] = ["时间格式应为 YYYY-MM-DD HH:MM"]
    return filters, errors


@bp.get("/audit")
@deps.requires("audit:view")
def audit_list():
    """审计日志查询: newest first, 50 a page."""
    filters, errors = _filters()
    found = None
    if not errors:
        try:
            found = audit.search(deps.uow(), page=page_number(), per_page=PER_PAGE, **filters)
        except ValidationFailed as exc:
            errors = refused(exc)
    return render_template("audit/list.html", found=found, form=request.args, errors=errors,
                           results=RESULT_NAMES, actions=ACTIONS, exports=EXPORTS,
                           query=request.args.to_dict(), export_args=_without_page()), 422 if errors else 200


def _without_page() -> dict[str, str]:
    return {k: v for k, v in request.args.items() if k != "page"}


@bp.get("/audit/export/<kind>")
@deps.requires("audit:export")
def audit_export(kind: str):
    """导出 CSV / Excel with the same filters (read-only, so a GET; the export is itself audited)."""
    if kind not in EXPORTS:
        abort(404)
    filters, errors = _filters()
    back = redirect(url_for("console.audit_list", **_without_page()))
    if errors:
        flash("查询条件有误，请修改后再导出", "error")
        return back
    try:
        export = audit.export_csv if kind == "csv" else audit.export_xlsx
        data = export(deps.uow(), **filters)
    except ValidationFailed as exc:
        refused(exc)
        return back
    record_export(kind, filters)
    mimetype, suffix = EXPORTS[kind]
    stamp = now().astimezone(BUSINESS_TZ).strftime("%Y%m%d%H%M%S")
    return Response(data, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="audit-{stamp}.{suffix}"'})
