"""单位 (employers): 开户, 查询, 变更, 缓缴 (maker-checker), 封存/启封, 销户."""

from __future__ import annotations

from flask_smorest import Blueprint

from hpf.controllers.deps import actor, requires, state, today, uow, who
from hpf.schemas.access import SubmittedSchema
from hpf.schemas.collection import (
    DeferralSchema,
    NewUnitSchema,
    UnitChangeSchema,
    UnitPageSchema,
    UnitQuerySchema,
    UnitSchema,
)
from hpf.services import units

blp = Blueprint("units", __name__, url_prefix="/api/v1/units", description="单位缴存登记与单位账户")


def _now():
    return state().clock.now()


@blp.route("")
@blp.arguments(UnitQuerySchema, location="query")
@blp.response(200, UnitPageSchema)
@requires("unit:view", blp)
def list_units(query):
    """本人数据范围内的单位（按名称、统一社会信用代码或单位账号查找）"""
    return units.list_units(uow(), actor(), **query)


@blp.route("", methods=["POST"])
@blp.arguments(NewUnitSchema)
@blp.response(201, UnitSchema)
@requires("unit:open", blp)
def open_unit(data):
    """单位开户：统一社会信用代码校验、缴存比例在规定范围内，生成单位账号"""
    return units.open_unit(uow(), actor(), who(), _now(), units.NewUnit(**data, on=today()))


@blp.route("/<int:unit_id>")
@blp.response(200, UnitSchema)
@requires("unit:view", blp)
def get_unit(unit_id):
    """单个单位"""
    return units.get_unit(uow(), actor(), unit_id)


@blp.route("/<int:unit_id>", methods=["PATCH"])
@blp.arguments(UnitChangeSchema)
@blp.response(200, UnitSchema)
@requires("unit:change", blp)
def change_unit(data, unit_id):
    """单位信息变更、缴存比例调整"""
    return units.change_unit(uow(), actor(), who(), _now(), unit_id, {**data, "on": today()})


@blp.route("/<int:unit_id>/deferral", methods=["POST"])
@blp.arguments(DeferralSchema)
@blp.response(202, SubmittedSchema)
@requires("unit:change", blp)
def defer(data, unit_id):
    """缓缴申请：按复核规则 unit.defer 由持有 unit:defer 的审批员复核通过后生效"""
    done = units.request_deferral(uow(), actor(), who(), _now(), unit_id, data["reason"])
    return {"status": "pending" if done.request else "applied", "outcome": done.outcome,
            "approval": done.request}


@blp.route("/<int:unit_id>/resume", methods=["POST"])
@blp.response(200, UnitSchema)
@requires("unit:change", blp)
def resume(unit_id):
    """缓缴结束，恢复正常缴存"""
    return units.resume_unit(uow(), actor(), who(), _now(), unit_id)


@blp.route("/<int:unit_id>/seal", methods=["POST"])
@blp.response(200, UnitSchema)
@requires("unit:change", blp)
def seal(unit_id):
    """单位封存"""
    return units.seal_unit(uow(), actor(), who(), _now(), unit_id)


@blp.route("/<int:unit_id>/unseal", methods=["POST"])
@blp.response(200, UnitSchema)
@requires("unit:change", blp)
def unseal(unit_id):
    """单位启封"""
    return units.unseal_unit(uow(), actor(), who(), _now(), unit_id)


@blp.route("/<int:unit_id>/close", methods=["POST"])
@blp.response(200, UnitSchema)
@requires("unit:close", blp)
def close(unit_id):
    """单位销户：须无正常或冻结的职工账户且余额为零"""
    return units.close_unit(uow(), actor(), who(), _now(), unit_id, today())
