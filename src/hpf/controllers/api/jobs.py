"""Batch jobs and their run history (批处理作业)."""

from __future__ import annotations

from flask_smorest import Blueprint

from hpf.controllers.deps import requires, state
from hpf.schemas.system import JobRunQuerySchema, JobRunSchema, JobSchema
from hpf.services import jobs

blp = Blueprint("jobs", __name__, url_prefix="/api/v1/jobs", description="批处理作业")


@blp.route("")
@blp.response(200, JobSchema(many=True))
@requires("job:view", blp)
def list_jobs():
    """已注册的作业及其生效的调度"""
    return jobs.catalogue(state().settings, state().jobs)


@blp.route("/runs")
@blp.arguments(JobRunQuerySchema, location="query")
@blp.response(200, JobRunSchema(many=True))
@requires("job:view", blp)
def list_runs(query):
    """最近的运行记录 (新在前)"""
    return jobs.history(state().database, query.get("job"), query["limit"])
