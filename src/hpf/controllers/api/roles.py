"""Roles and the permission catalogue (安全管理员)."""

from __future__ import annotations

from flask_smorest import Blueprint

from hpf.controllers.deps import actor, requires, state, uow, who
from hpf.domain.access import CATALOGUE
from hpf.schemas.access import NewRoleSchema, PermissionSchema, RolePermissionsSchema, RoleSchema
from hpf.services import access

blp = Blueprint("roles", __name__, url_prefix="/api/v1", description="角色与权限")


@blp.route("/permissions")
@blp.response(200, PermissionSchema(many=True))
@requires("role:view", blp)
def permissions():
    """权限目录：每项业务或管理操作一个权限"""
    return CATALOGUE


@blp.route("/roles")
@blp.response(200, RoleSchema(many=True))
@requires("role:view", blp)
def list_roles():
    """全部角色及其权限"""
    return access.list_roles(uow(), actor())


@blp.route("/roles", methods=["POST"])
@blp.arguments(NewRoleSchema)
@blp.response(201, RoleSchema)
@requires("role:manage", blp)
def create_role(data):
    """新建自定义角色（只能包含同一类型的权限）"""
    return access.create_role(uow(), actor(), who(), state().clock.now(), **data)


@blp.route("/roles/<int:role_id>/permissions", methods=["PUT"])
@blp.arguments(RolePermissionsSchema)
@blp.response(200, RoleSchema)
@requires("role:manage", blp)
def set_permissions(data, role_id):
    """设置自定义角色的权限（内置角色与本人持有的角色不可修改）"""
    return access.set_role_permissions(
        uow(), actor(), who(), state().clock.now(), role_id, data["permissions"]
    )
