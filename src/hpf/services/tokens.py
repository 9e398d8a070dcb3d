"""API tokens for programs (接口令牌): opaque, hashed at rest, expiring, scoped.

A token reads ``hpf_<prefix>_<secret>``: the prefix finds the row, the secret's SM3 digest is
what is stored, so the database never holds a usable token. A token acts for its owner with
the *intersection* of its scopes and the owner's current permissions: revoking a role or
disabling the owner disables the token too. Administrators get no tokens (their actions
need an interactive sign-in with a second factor).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from hpf import crypto
from hpf.crypto import integrity, keys
from hpf.domain.errors import Forbidden, NotFound, Unauthorized, ValidationFailed
from hpf.repositories.models import ApiToken
from hpf.repositories.uow import UnitOfWork
from hpf.services import access, audit
from hpf.services.access import Principal

PREFIX = "hpf"


class BadToken(Unauthorized):
    code = "invalid_token"
    message = "接口令牌无效、已过期或已吊销"


@dataclass(frozen=True)
class TokenView:
    id: int
    prefix: str
    name: str
    username: str
    scopes: list[str]
    expires_at: datetime
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    active: bool


@dataclass(frozen=True)
class IssuedToken:
    token: str  # shown once
    view: TokenView


def _digest(secret: str) -> str:
    return crypto.sm3(secret.encode()).hex()


def _view(row: ApiToken, username: str, now: datetime) -> TokenView:
    active = row.revoked_at is None and row.expires_at > now
    return TokenView(
        row.id,
        row.prefix,
        row.name,
        username,
        row.scopes.split(),
        row.expires_at,
        row.created_at,
        row.last_used_at,
        row.revoked_at,
        active,
    )


def issue(
    uow: UnitOfWork,
    actor: Principal,
    who: audit.Who,
    now: datetime,
    *,
    name: str,
    scopes: list[str],
    days: int,
    max_days: int,
) -> IssuedToken:
    actor.require("token:self")
    if actor.token_id is not None:
        raise Forbidden("接口令牌不能再申请令牌", code="token_for_token")
    problems: dict[str, list[str]] = {}
    name = name.strip()
    if not name or len(name) > 60:
        problems["name"] = ["令牌名称为 1-60 个字符"]
    if not 1 <= days <= max_days:
        problems["days"] = [f"有效期为 1 至 {max_days} 天"]
    wanted = sorted(set(scopes))
    if not wanted:
        problems["scopes"] = ["至少选择一项权限"]
    elif not set(wanted) <= actor.permissions:
        problems["scopes"] = [
            "令牌权限不能超出本人权限：" + " ".join(sorted(set(wanted) - actor.permissions))
        ]
    if problems:
        raise ValidationFailed(details=problems)
    prefix, secret = secrets.token_hex(4), secrets.token_urlsafe(32)
    with uow:
        row = uow.access.add_token(
            ApiToken(
                prefix=prefix,
                user_id=actor.id,
                name=name,
                secret_hash=_digest(secret),
                scopes=" ".join(wanted),
                expires_at=now + timedelta(days=days),
                created_at=now,
                created_by=actor.username,
            )
        )
        audit.record(
            uow,
            actor.who(who),
            "token.issue",
            target=f"token:{prefix}",
            summary=f"name={name} scopes={' '.join(wanted)} days={days}",
            now=now,
        )
        view = _view(row, actor.username, now)
        uow.commit()
    return IssuedToken(f"{PREFIX}_{prefix}_{secret}", view)


def list_tokens(
    uow: UnitOfWork, actor: Principal, now: datetime, *, everyone: bool = False
) -> list[TokenView]:
    """One's own tokens; every token in scope for the security administrator."""
    if everyone:
        actor.require("token:manage")
    with uow:
        rows = uow.access.tokens(None if everyone else actor.id)
        out = []
        for row in rows:
            user = uow.users.get(row.user_id)
            if everyone and not actor.scope.covers(user.org_id):
                continue
            out.append(_view(row, user.username, now))
        return out


def revoke(uow: UnitOfWork, actor: Principal, who: audit.Who, now: datetime, token_id: int) -> None:
    with uow:
        row = uow.access.token(token_id)
        if row is None:
            raise NotFound("令牌不存在", code="token_not_found")
        if row.user_id != actor.id:
            actor.require("token:manage")
            actor.require_scope(uow.users.get(row.user_id).org_id)
        if row.revoked_at is None:
            row.revoked_at = now
            audit.record(uow, actor.who(who), "token.revoke", target=f"token:{row.prefix}", now=now)
        uow.commit()


def authenticate(uow: UnitOfWork, raw: str, now: datetime) -> Principal:
    """The principal a presented token acts as, or BadToken (the same for every reason)."""
    parts = raw.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX or not parts[1] or not parts[2]:
        raise BadToken()
    with uow:
        row = uow.access.token_by_prefix(parts[1])
        if row is None or not hmac.compare_digest(row.secret_hash, _digest(parts[2])):
            raise BadToken()
        if integrity.check_instance(keys.for_engine(uow.database.engine), row):
            raise BadToken()  # scopes or expiry edited in SQL
        if row.revoked_at is not None or row.expires_at <= now:
            raise BadToken()
        user = uow.users.get(row.user_id)
        if user is None or not user.active:
            raise BadToken()
        owner = access.load(uow, user, now)
        if owner.kinds - {"business"}:
            raise BadToken()
        uow.access.touch_token(row.id, now)
        uow.commit()
    return replace(
        owner,
        permissions=owner.permissions & frozenset(row.scopes.split()),
        token_id=row.id,
        must_change_password=False,
        password_expired=False,
    )
