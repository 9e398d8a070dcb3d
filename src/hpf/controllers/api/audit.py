"""The audit trail for the audit administrator (审计管理员): search, export, verify."""

from __future__ import annotations

from flask import Response
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from hpf.controllers.deps import actor, requires, state, uow, who
from hpf.domain.calendar import BUSINESS_TZ
from hpf.services import audit

blp = Blueprint("audit", __name__, url_prefix="/api/v1/audit", description="审计日志：查询、导出、校验")

EXPORTS = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
}


class AuditQuerySchema(Schema):
    actor = fields.String(load_default=None, validate=validate.Length(max=80))
    action = fields.String(
        load_default=None,
        validate=validate.Length(max=60),
        metadata={"description": "前缀匹配，如 auth. 匹配全部登录事件"},
    )
    result = fields.String(load_default=None, validate=validate.OneOf(["success", "failure", "denied"]))
    target = fields.String(
        load_default=None, validate=validate.Length(max=200), metadata={"description": "包含"}
    )
    org_code = fields.String(load_default=None, validate=validate.Length(max=20))
    since = fields.AwareDateTime(
        load_default=None,
        default_timezone=BUSINESS_TZ,
        metadata={"description": "起（含），无时区时按北京时间"},
    )
    until = fields.AwareDateTime(
        load_default=None, default_timezone=BUSINESS_TZ, metadata={"description": "止（不含）"}
    )


class AuditPageQuerySchema(AuditQuerySchema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class ExportQuerySchema(AuditQuerySchema):
    format = fields.String(load_default="csv", validate=validate.OneOf(list(EXPORTS)))


class AuditItemSchema(Schema):
    seq = fields.Integer()
    occurred_at = fields.DateTime()
    actor = fields.String()
    role = fields.String()
    org_code = fields.String()
    ip = fields.String()
    action = fields.String()
    target = fields.String()
    result = fields.String()
    summary = fields.String()
    request_id = fields.String()


class AuditPageSchema(Schema):
    items = fields.List(fields.Nested(AuditItemSchema))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()


class ProblemSchema(Schema):
    seq = fields.Integer(allow_none=True)
    kind = fields.String()
    message = fields.String()


class VerifySchema(Schema):
    ok = fields.Boolean()
    records = fields.Integer()
    head_seq = fields.Integer()
    checkpoints = fields.Integer()
    problems = fields.List(fields.Nested(ProblemSchema))


@blp.route("/events")
@blp.arguments(AuditPageQuerySchema, location="query")
@blp.response(200, AuditPageSchema)
@requires("audit:view", blp)
def search(query):
    """按操作人、操作（前缀）、结果、对象、机构、时间查询，新在前"""
    return audit.search(uow(), **query)


@blp.route("/events/export")
@blp.arguments(ExportQuerySchema, location="query")
@blp.response(200, description="CSV（UTF-8 BOM）或 Excel 文件")
@requires("audit:export", blp)
def export(query):
    """导出符合条件的审计记录（超过上限时拒绝并提示缩小范围）；导出本身记入审计日志"""
    kind = query.pop("format")
    data = audit.export_csv(uow(), **query) if kind == "csv" else audit.export_xlsx(uow(), **query)
    record_export(kind, query)
    mimetype, suffix = EXPORTS[kind]
    stamp = state().clock.now().astimezone(BUSINESS_TZ).strftime("%Y%m%d%H%M%S")
    return Response(
        data,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="audit-{stamp}.{suffix}"'},
    )


def record_export(kind: str, filters: dict) -> None:
    """Who took which part of the trail away (also used by the console's export)."""
    shown = " ".join(
        f"{k}={v.isoformat() if hasattr(v, 'isoformat') else v}" for k, v in filters.items() if v
    )
    audit.record_now(
        state().database,
        actor().who(who()),
        "audit.export",
        target=f"audit:{kind}",
        summary=shown or "全部",
        now=state().clock.now(),
    )


@blp.route("/verify", methods=["POST"])
@blp.response(200, VerifySchema)
@requires("audit:verify", blp)
def verify():
    """校验审计链：SM3 哈希链、完整性校验值、SM2 签名的检查点与归档登记（与 hpf audit verify 相同）"""
    report = audit.verify(state().database)
    audit.record_now(
        state().database,
        actor().who(who()),
        "audit.verify",
        result="success" if report.ok else "failure",
        summary=f"records={report.records} problems={len(report.problems)}",
        now=state().clock.now(),
    )
    return {
        "ok": report.ok,
        "records": report.records,
        "head_seq": report.head_seq,
        "checkpoints": report.checkpoints,
        "problems": report.problems,
    }
