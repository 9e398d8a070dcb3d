"""Organisations (机构)."""

from __future__ import annotations

from flask_smorest import Blueprint

from hpf.controllers.deps import uow
from hpf.schemas.reference import OrgSchema
from hpf.services import reference

blp = Blueprint("organisations", __name__, url_prefix="/api/v1/organisations",
                description="机构: 中心、分中心/管理部、网点")


@blp.route("")
@blp.response(200, OrgSchema(many=True))
def list_orgs():
    """全部机构"""
    return reference.list_orgs(uow())
