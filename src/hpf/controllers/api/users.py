"""Staff accounts (系统管理员) and their grants, scopes and second factors (安全管理员)."""

from __future__ import annotations

from flask import Response
from flask_smorest import Blueprint

from hpf.controllers.deps import actor, password_policy, requires, signed_in, state, uow, who
from hpf.schemas.access import (
    NewUserSchema,
    PasswordResetSchema,
    RoleHeldSchema,
    ScopeSchema,
    UserChangeSchema,
    UserPageSchema,
    UserQuerySchema,
    UserRolesSchema,
    UserRowSchema,
)
from hpf.services import access, auth, users

blp = Blueprint("users", __name__, url_prefix="/api/v1/users", description="用户账号、授权与数据范围")


def _now():
    return state().clock.now()


@blp.route("")
@blp.arguments(UserQuerySchema, location="query")
@blp.response(200, UserPageSchema)
@signed_in(blp)
def list_users(query):
    """本人数据范围内的用户（user:view 或 grant:manage）"""
    return users.list_users(uow(), actor(), _now(), **query)


@blp.route("", methods=["POST"])
@blp.arguments(NewUserSchema)
@blp.response(201, UserRowSchema)
@requires("user:manage", blp)
def create_user(data):
    """新建用户（初始密码须在首次登录时修改；角色由安全管理员授予）"""
    return users.create_user(uow(), actor(), who(), _now(), policy=password_policy(), **data)


@blp.route("/<int:user_id>")
@blp.response(200, UserRowSchema)
@signed_in(blp)
def get_user(user_id):
    """单个用户"""
    return users.get_user(uow(), actor(), user_id, _now())


@blp.route("/<int:user_id>", methods=["PATCH"])
@blp.arguments(UserChangeSchema)
@blp.response(200, UserRowSchema)
@requires("user:manage", blp)
def update_user(data, user_id):
    """修改姓名、所属机构，启用或停用"""
    return users.update_user(uow(), actor(), who(), _now(), user_id, **data)


@blp.route("/<int:user_id>/password-reset", methods=["POST"])
@blp.arguments(PasswordResetSchema)
@blp.response(204)
@requires("user:manage", blp)
def reset_password(data, user_id):
    """重置为临时密码（下次登录须修改），并解除锁定"""
    users.reset_password(uow(), actor(), who(), _now(), user_id, data["password"], password_policy())
    return Response(status=204)


@blp.route("/<int:user_id>/unlock", methods=["POST"])
@blp.response(204)
@requires("user:manage", blp)
def unlock(user_id):
    """解除登录失败锁定"""
    users.unlock(uow(), actor(), who(), _now(), user_id)
    return Response(status=204)


@blp.route("/<int:user_id>/roles", methods=["PUT"])
@blp.arguments(UserRolesSchema)
@blp.response(200, RoleHeldSchema(many=True))
@requires("grant:manage", blp)
def set_roles(data, user_id):
    """授予/收回角色：使用户恰好持有所列角色（三员互斥、管理员不得持有业务角色、不能给自己授权）"""
    return access.set_user_roles(uow(), actor(), who(), _now(), user_id, data["role_ids"])


@blp.route("/<int:user_id>/scope", methods=["PUT"])
@blp.arguments(ScopeSchema)
@blp.response(204)
@requires("grant:manage", blp)
def set_scope(data, user_id):
    """设置数据范围（该机构及其下级）；null 恢复默认（本机构）"""
    access.set_scope(uow(), actor(), who(), _now(), user_id, data["org_id"])
    return Response(status=204)


@blp.route("/<int:user_id>/mfa", methods=["DELETE"])
@blp.response(204)
@requires("mfa:reset", blp)
def reset_mfa(user_id):
    """重置动态口令绑定（如手机丢失），用户下次登录时重新绑定"""
    auth.reset_second_factor(uow(), actor(), who(), _now(), user_id)
    return Response(status=204)
