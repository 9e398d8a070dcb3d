"""Organisations (机构): centre → branches (分中心/管理部) → counters (网点)."""

from __future__ import annotations

from flask import Response
from flask_smorest import Blueprint

from hpf.controllers.deps import actor, requires, signed_in, state, uow, who
from hpf.schemas.access import NewOrgSchema, OrgChangeSchema, OrgRowSchema
from hpf.schemas.reference import OrgSchema
from hpf.services import reference, users

blp = Blueprint("organisations", __name__, url_prefix="/api/v1/organisations",
                description="机构: 中心、分中心/管理部、网点")


@blp.route("")
@blp.response(200, OrgSchema(many=True))
def list_orgs():
    """全部机构（公开的参考数据）"""
    return reference.list_orgs(uow())


@blp.route("/tree")
@blp.response(200, OrgRowSchema(many=True))
@signed_in(blp)
def tree():
    """本人数据范围内的机构树（depth 为层级）"""
    return users.org_tree(uow(), actor())


@blp.route("", methods=["POST"])
@blp.arguments(NewOrgSchema)
@blp.response(201, OrgRowSchema)
@requires("org:manage", blp)
def create_org(data):
    """在中心下设分中心/管理部，或在分中心下设网点（类型由上级决定）"""
    return users.create_org(uow(), actor(), who(), state().clock.now(), **data)


@blp.route("/<int:org_id>", methods=["PATCH"])
@blp.arguments(OrgChangeSchema)
@blp.response(204)
@requires("org:manage", blp)
def update_org(data, org_id):
    """改名、启用或停用（仍有用户或下级机构时不能停用）"""
    users.update_org(uow(), actor(), who(), state().clock.now(), org_id, **data)
    return Response(status=204)
