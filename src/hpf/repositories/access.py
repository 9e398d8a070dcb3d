"""SQL of access control: roles, grants, security settings, tokens, maker-checker requests."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hpf.domain.access import OrgNode
from hpf.repositories.models import (
    ApiToken,
    ApprovalPolicy,
    ApprovalRequest,
    OrgUnit,
    Role,
    RolePermission,
    StaffSession,
    User,
    UserRole,
    UserSecurity,
)


class AccessRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # ------------------------------------------------------------ roles
    def roles(self) -> list[Role]:
        return list(self.session.scalars(sa.select(Role).order_by(Role.builtin.desc(), Role.id)))

    def role(self, role_id: int) -> Role | None:
        return self.session.get(Role, role_id)

    def role_by_code(self, code: str) -> Role | None:
        return self.session.scalar(sa.select(Role).where(Role.code == code))

    def add_role(self, role: Role) -> Role:
        self.session.add(role)
        self.session.flush()
        return role

    def role_permissions(self, role_ids: list[int] | None = None) -> list[RolePermission]:
        query = sa.select(RolePermission).order_by(RolePermission.role_id, RolePermission.permission)
        if role_ids is not None:
            query = query.where(RolePermission.role_id.in_(role_ids))
        return list(self.session.scalars(query))

    def set_role_permissions(self, role_id: int, permissions: set[str]) -> tuple[set[str], set[str]]:
        """Make the role hold exactly ``permissions``; return (added, removed)."""
        current = {rp.permission: rp for rp in self.role_permissions([role_id])}
        added, removed = permissions - current.keys(), current.keys() - permissions
        for code in removed:
            self.session.delete(current[code])
        for code in sorted(added):
            self.session.add(RolePermission(role_id=role_id, permission=code))
        self.session.flush()
        return added, set(removed)

    # ------------------------------------------------------------ grants
    def grants_of(self, user_id: int) -> list[UserRole]:
        return list(self.session.scalars(sa.select(UserRole).where(UserRole.user_id == user_id)))

    def grants_for(self, user_ids: list[int]) -> list[UserRole]:
        if not user_ids:
            return []
        return list(self.session.scalars(sa.select(UserRole).where(UserRole.user_id.in_(user_ids))))

    def holders(self, role_id: int) -> list[int]:
        return list(self.session.scalars(sa.select(UserRole.user_id).where(UserRole.role_id == role_id)))

    def grant(self, user_id: int, role_id: int, by: str, now: datetime) -> None:
        self.session.add(UserRole(user_id=user_id, role_id=role_id, granted_by=by, granted_at=now))
        self.session.flush()

    def revoke(self, grant: UserRole) -> None:
        self.session.delete(grant)
        self.session.flush()

    def lock_user(self, user_id: int) -> User | None:
        """Serialise grant changes per user (two admins granting at once see each other)."""
        return self.session.scalar(sa.select(User).where(User.id == user_id).with_for_update()
                                   .execution_options(populate_existing=True))

    # ------------------------------------------------------------ per-user security settings
    def security(self, user_id: int) -> UserSecurity | None:
        return self.session.get(UserSecurity, user_id)

    def security_for_update(self, user_id: int, now: datetime) -> UserSecurity:
        row = self.session.scalar(sa.select(UserSecurity).where(UserSecurity.user_id == user_id)
                                  .with_for_update().execution_options(populate_existing=True))
        if row is None:
            row = UserSecurity(user_id=user_id, must_change_password=False, mfa_enabled=False, updated_at=now)
            self.session.add(row)
            self.session.flush()
        return row

    def securities(self, user_ids: list[int]) -> dict[int, UserSecurity]:
        if not user_ids:
            return {}
        rows = self.session.scalars(sa.select(UserSecurity).where(UserSecurity.user_id.in_(user_ids)))
        return {r.user_id: r for r in rows}

    # ------------------------------------------------------------ organisation tree
    def org_nodes(self) -> dict[int, OrgNode]:
        rows = self.session.execute(sa.select(OrgUnit.id, OrgUnit.kind, OrgUnit.parent_id))
        return {r.id: OrgNode(r.id, r.kind, r.parent_id) for r in rows}

    # ------------------------------------------------------------ sessions
    def session_row(self, session_id: str) -> StaffSession | None:
        return self.session.get(StaffSession, session_id)

    def add_session(self, row: StaffSession) -> None:
        self.session.add(row)
        self.session.flush()

    def end_sessions(self, user_id: int, now: datetime, session_id: str | None = None) -> None:
        query = sa.update(StaffSession).where(StaffSession.user_id == user_id,
                                              StaffSession.ended_at.is_(None))
        if session_id is not None:
            query = query.where(StaffSession.id == session_id)
        self.session.execute(query.values(ended_at=now))

    def prune_sessions(self, user_id: int, before: datetime) -> None:
        self.session.execute(sa.delete(StaffSession).where(StaffSession.user_id == user_id,
                                                           StaffSession.created_at < before))

    def previous_session(self, user_id: int, current_id: str) -> StaffSession | None:
        current = self.session.get(StaffSession, current_id)
        query = sa.select(StaffSession).where(StaffSession.user_id == user_id, StaffSession.id != current_id)
        if current is not None:
            query = query.where(StaffSession.created_at <= current.created_at)
        return self.session.scalar(query.order_by(StaffSession.created_at.desc()).limit(1))

    def touch_session(self, session_id: str, now: datetime) -> None:
        self.session.execute(sa.update(StaffSession).where(StaffSession.id == session_id)
                             .values(last_seen_at=now))

    # ------------------------------------------------------------ API tokens
    def token_by_prefix(self, prefix: str) -> ApiToken | None:
        return self.session.scalar(sa.select(ApiToken).where(ApiToken.prefix == prefix))

    def tokens(self, user_id: int | None = None) -> list[ApiToken]:
        query = sa.select(ApiToken).order_by(ApiToken.id.desc())
        if user_id is not None:
            query = query.where(ApiToken.user_id == user_id)
        return list(self.session.scalars(query))

    def token(self, token_id: int) -> ApiToken | None:
        return self.session.get(ApiToken, token_id)

    def add_token(self, token: ApiToken) -> ApiToken:
        self.session.add(token)
        self.session.flush()
        return token

    def touch_token(self, token_id: int, now: datetime) -> None:
        # last_used_at is not a sealed field: a plain UPDATE, no read-modify-write.
        self.session.execute(sa.update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))

    # ------------------------------------------------------------ maker-checker
    def policies(self) -> list[ApprovalPolicy]:
        return list(self.session.scalars(sa.select(ApprovalPolicy).order_by(ApprovalPolicy.op_type)))

    def policy(self, op_type: str) -> ApprovalPolicy | None:
        return self.session.get(ApprovalPolicy, op_type)

    def add_policy(self, policy: ApprovalPolicy) -> None:
        self.session.add(policy)
        self.session.flush()

    def add_request(self, request: ApprovalRequest) -> ApprovalRequest:
        self.session.add(request)
        self.session.flush()
        return request

    def request_for_update(self, request_id: int) -> ApprovalRequest | None:
        return self.session.scalar(sa.select(ApprovalRequest).where(ApprovalRequest.id == request_id)
                                   .with_for_update().execution_options(populate_existing=True))

    def request(self, request_id: int) -> ApprovalRequest | None:
        return self.session.get(ApprovalRequest, request_id)

    def count_requests(self, *, status: str, op_types: list[str], org_ids: frozenset[int] | None,
                       not_maker: int) -> int:
        query = sa.select(sa.func.count()).select_from(ApprovalRequest).where(
            ApprovalRequest.status == status, ApprovalRequest.op_type.in_(op_types),
            ApprovalRequest.maker_id != not_maker)
        if org_ids is not None:
            query = query.where(sa.or_(ApprovalRequest.org_id.in_(org_ids), ApprovalRequest.org_id.is_(None)))
        return int(self.session.scalar(query) or 0)

    def requests(self, *, status: str | None = None, op_types: list[str] | None = None,
                 maker_id: int | None = None, org_ids: frozenset[int] | None = None,
                 limit: int = 200) -> list[ApprovalRequest]:
        query = sa.select(ApprovalRequest).order_by(ApprovalRequest.id.desc()).limit(limit)
        if status:
            query = query.where(ApprovalRequest.status == status)
        if op_types is not None:
            query = query.where(ApprovalRequest.op_type.in_(op_types))
        if maker_id is not None:
            query = query.where(ApprovalRequest.maker_id == maker_id)
        if org_ids is not None:
            query = query.where(sa.or_(ApprovalRequest.org_id.in_(org_ids), ApprovalRequest.org_id.is_(None)))
        return list(self.session.scalars(query))
