"""Staff sign-in for the API (登录会话)."""

from __future__ import annotations

from flask import Response, session
from flask_smorest import Blueprint

from hpf.controllers.deps import (
    actor,
    lockout_policy,
    password_policy,
    sign_in,
    sign_out,
    signed_in,
    state,
    uow,
    who,
)
from hpf.schemas.reference import LoginSchema, PasswordChangeSchema, UserSchema
from hpf.services import auth

blp = Blueprint("session", __name__, url_prefix="/api/v1/session", description="登录会话")


@blp.route("", methods=["POST"])
@blp.arguments(LoginSchema)
@blp.response(200, UserSchema)
def login(data):
    """登录：成功后返回用户信息并设置会话 Cookie"""
    user = auth.authenticate(uow(), data["username"], data["password"], state().clock.now(), who(),
                             lockout_policy())
    sign_in(user)
    return user


@blp.route("", methods=["GET"])
@blp.response(200, UserSchema)
@signed_in(blp)
def me():
    """当前登录用户"""
    return actor()


@blp.route("", methods=["DELETE"])
@blp.response(204)
def logout():
    """退出登录"""
    if session.get("uid") is not None:
        auth.logout(uow(), actor(), who(), state().clock.now())
    sign_out()
    return Response(status=204)


@blp.route("/password", methods=["PUT"])
@blp.arguments(PasswordChangeSchema)
@blp.response(204)
@signed_in(blp)
def change_password(data):
    """修改本人密码：须提供当前密码；新密码须符合密码策略且不得与最近几次相同"""
    auth.change_password(uow(), actor().id, data["old_password"], data["new_password"], state().clock.now(),
                         password_policy(), who())
    return Response(status=204)
