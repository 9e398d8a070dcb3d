"""System information and job shapes."""

from __future__ import annotations

from hpf.schemas.base import Schema, fields, validate


class DatabaseInfoSchema(Schema):
    url = fields.String(metadata={"description": "数据库 URL (密码已隐藏)"})
    server = fields.String(metadata={"description": "检测到的数据库产品与版本"})
    adapter = fields.String()
    capabilities = fields.Dict()


class SchemaStateSchema(Schema):
    current = fields.String(allow_none=True)
    head = fields.String()
    at_head = fields.Boolean()


class SchedulerInfoSchema(Schema):
    leader = fields.String(allow_none=True, metadata={"description": "持有调度租约的进程"})
    lease_expires_at = fields.DateTime(allow_none=True)
    last_heartbeat_at = fields.DateTime(allow_none=True, metadata={
        "description": "最近一次调度心跳 (system.heartbeat) 的时间；过旧说明调度进程停止"})


class SystemInfoSchema(Schema):
    version = fields.String()
    database = fields.Nested(DatabaseInfoSchema)
    schema = fields.Nested(SchemaStateSchema)
    scheduler = fields.Nested(SchedulerInfoSchema)


class JobSchema(Schema):
    name = fields.String()
    title = fields.String()
    schedule = fields.String(allow_none=True, metadata={"description": "生效的 cron 表达式"})
    per_fire = fields.Boolean()
    description = fields.String()


class JobRunSchema(Schema):
    id = fields.Integer()
    job_name = fields.String()
    run_key = fields.String()
    attempt = fields.Integer()
    business_date = fields.Date()
    trigger = fields.String()
    status = fields.String()
    started_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)
    host = fields.String()
    pid = fields.Integer()
    counts = fields.Dict()
    message = fields.String(allow_none=True)
    error = fields.String(allow_none=True)


class JobRunQuerySchema(Schema):
    job = fields.String(validate=validate.Length(max=64))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))
