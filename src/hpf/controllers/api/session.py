"""Staff sign-in for the API (登录会话): password, then the one-time code where required."""

from __future__ import annotations

from flask import Response, jsonify, session
from flask_smorest import Blueprint

from hpf.controllers.deps import (
    actor,
    begin_second_factor,
    lockout_policy,
    password_policy,
    pending_user_id,
    sign_in,
    sign_out,
    signed_in,
    state,
    uow,
    who,
)
from hpf.schemas.access import EnrolmentSchema, LoginStepSchema, PrincipalSchema, SecondFactorSchema
from hpf.schemas.reference import LoginSchema, PasswordChangeSchema
from hpf.services import auth

blp = Blueprint("session", __name__, url_prefix="/api/v1/session", description="登录会话")
ISSUER = "HPF住房公积金"


@blp.route("", methods=["POST"])
@blp.arguments(LoginSchema)
@blp.response(200, PrincipalSchema)
@blp.alt_response(202, schema=LoginStepSchema, description="密码正确，须再提交动态口令")
def login(data):
    """登录：成功后返回用户、角色与权限并设置会话 Cookie；管理员（及已绑定者）须再提交动态口令"""
    now = state().clock.now()
    user = auth.authenticate(uow(), data["username"], data["password"], now, who(), lockout_policy(),
                             password_policy().max_age_days)
    if not auth.needs_second_factor(user):
        sign_in(user)
        return user
    begin_second_factor(user)
    enrolment = None
    if not user.mfa_enabled:
        secret, uri = auth.begin_enrolment(uow(), user.id, now, ISSUER)
        enrolment = {"secret": secret, "otpauth_uri": uri}
    response = jsonify(LoginStepSchema().dump({"second_factor": "totp", "enrolment": enrolment}))
    response.status_code = 202
    return response


@blp.route("/otp", methods=["POST"])
@blp.arguments(SecondFactorSchema)
@blp.response(200, PrincipalSchema)
def second_factor(data):
    """提交动态口令（TOTP，6 位）完成登录；首次绑定时同时确认绑定"""
    user = auth.verify_second_factor(uow(), pending_user_id(), data["code"], state().clock.now(), who(),
                                     lockout_policy(), password_policy().max_age_days)
    sign_in(user)
    return user


@blp.route("", methods=["GET"])
@blp.response(200, PrincipalSchema)
@signed_in(blp)
def me():
    """当前登录用户、角色、权限与数据范围"""
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


@blp.route("/mfa", methods=["POST"])
@blp.response(200, EnrolmentSchema)
@signed_in(blp)
def begin_mfa():
    """启用动态口令（非管理员可选）：生成密钥，用认证器扫描后提交口令确认"""
    user = actor()
    secret, uri = auth.begin_enrolment(uow(), user.id, state().clock.now(), ISSUER)
    return {"secret": secret, "otpauth_uri": uri}


@blp.route("/mfa/confirm", methods=["POST"])
@blp.arguments(SecondFactorSchema)
@blp.response(204)
@signed_in(blp)
def confirm_mfa(data):
    """提交认证器上的口令，确认启用动态口令"""
    auth.confirm_enrolment(uow(), actor(), data["code"], state().clock.now(), who())
    return Response(status=204)


@blp.route("/mfa", methods=["DELETE"])
@blp.arguments(SecondFactorSchema)
@blp.response(204)
@signed_in(blp)
def disable_mfa(data):
    """关闭本人的动态口令（须提交当前口令；管理员不能关闭）"""
    auth.disable_second_factor(uow(), actor(), data["code"], state().clock.now(), who())
    return Response(status=204)
