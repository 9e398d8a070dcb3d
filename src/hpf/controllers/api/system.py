"""System information (系统信息)."""

from __future__ import annotations

from flask_smorest import Blueprint

from hpf.controllers.deps import requires, state
from hpf.schemas.system import SystemInfoSchema
from hpf.services import system

blp = Blueprint("system", __name__, url_prefix="/api/v1/system", description="系统信息")


@blp.route("/info")
@blp.response(200, SystemInfoSchema)
@requires("system:view", blp)
def get_info():
    """版本、数据库 (产品、适配器、能力)、结构版本与调度租约"""
    return system.info(state().database)
