"""API tokens for programs (接口令牌)."""

from __future__ import annotations

from flask import Response
from flask_smorest import Blueprint

from hpf.controllers.deps import actor, requires, signed_in, state, uow, who
from hpf.schemas.access import IssuedTokenSchema, NewTokenSchema, TokenQuerySchema, TokenSchema
from hpf.services import tokens

blp = Blueprint(
    "tokens",
    __name__,
    url_prefix="/api/v1/tokens",
    description="接口令牌：Authorization: Bearer hpf_<前缀>_<密钥>；只存哈希，到期失效，权限不超出本人",
)


@blp.route("")
@blp.arguments(TokenQuerySchema, location="query")
@blp.response(200, TokenSchema(many=True))
@signed_in(blp)
def list_tokens(query):
    """本人的令牌；安全管理员加 all=true 查看全部"""
    return tokens.list_tokens(uow(), actor(), state().clock.now(), everyone=query["all"])


@blp.route("", methods=["POST"])
@blp.arguments(NewTokenSchema)
@blp.response(201, IssuedTokenSchema)
@requires("token:self", blp)
def issue(data):
    """申请令牌：权限为本人权限的子集，有效期不超过配置的最长天数；令牌只返回这一次"""
    return tokens.issue(
        uow(), actor(), who(), state().clock.now(), max_days=state().settings.security.token_max_days, **data
    )


@blp.route("/<int:token_id>", methods=["DELETE"])
@blp.response(204)
@signed_in(blp)
def revoke(token_id):
    """吊销令牌（本人的，或安全管理员吊销任何令牌）"""
    tokens.revoke(uow(), actor(), who(), state().clock.now(), token_id)
    return Response(status=204)
