"""Request and response shapes of identity and access control (用户、角色、授权、令牌、复核)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from hpf.domain.access import KINDS


class RoleHeldSchema(Schema):
    code = fields.String()
    name = fields.String()
    kind = fields.String(metadata={"description": "business | sysadmin | secadmin | auditadmin"})


class PrincipalSchema(Schema):
    id = fields.Integer()
    username = fields.String()
    display_name = fields.String()
    org_code = fields.String()
    org_name = fields.String()
    roles = fields.List(fields.Nested(RoleHeldSchema))
    permissions = fields.Method("_permissions")
    scope_org_name = fields.String(metadata={"description": "数据范围：该机构及其下级"})
    mfa_enabled = fields.Boolean()
    must_change_password = fields.Boolean()
    password_expired = fields.Boolean()

    def _permissions(self, obj):
        return sorted(obj.permissions)


class SecondFactorSchema(Schema):
    code = fields.String(
        required=True, validate=validate.Regexp(r"^\s*\d{6}\s*$", error="动态口令为 6 位数字")
    )


class EnrolmentSchema(Schema):
    secret = fields.String(metadata={"description": "Base32 密钥，可手工输入认证器"})
    otpauth_uri = fields.String(metadata={"description": "otpauth:// 地址（二维码内容）"})


class LoginStepSchema(Schema):
    """202: the password was right; a second factor must follow (POST /api/v1/session/otp)."""

    second_factor = fields.String(metadata={"description": "totp"})
    enrolment = fields.Dict(
        allow_none=True, metadata={"description": "首次绑定时给出 {secret, otpauth_uri}；已绑定为空"}
    )


class PermissionSchema(Schema):
    code = fields.String()
    name = fields.String()
    group = fields.String()
    kind = fields.String()


class RoleSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    kind = fields.String()
    kind_name = fields.String()
    builtin = fields.Boolean()
    description = fields.String()
    permissions = fields.List(fields.String())
    holders = fields.Integer()


class NewRoleSchema(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=40))
    name = fields.String(required=True, validate=validate.Length(min=1, max=60))
    kind = fields.String(required=True, validate=validate.OneOf(list(KINDS)))
    description = fields.String(load_default="", validate=validate.Length(max=200))
    permissions = fields.List(fields.String(), required=True)


class RolePermissionsSchema(Schema):
    permissions = fields.List(fields.String(), required=True)


class UserRowSchema(Schema):
    id = fields.Integer()
    username = fields.String()
    display_name = fields.String()
    org_id = fields.Integer()
    org_code = fields.String()
    org_name = fields.String()
    active = fields.Boolean()
    roles = fields.List(fields.String())
    locked = fields.Boolean()
    mfa_enabled = fields.Boolean()
    must_change_password = fields.Boolean()
    scope_org_id = fields.Integer(allow_none=True)
    last_login_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()


class UserPageSchema(Schema):
    items = fields.List(fields.Nested(UserRowSchema))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()


class UserQuerySchema(Schema):
    q = fields.String(load_default="", validate=validate.Length(max=64))
    org_id = fields.Integer(load_default=None)
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class NewUserSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    display_name = fields.String(required=True, validate=validate.Length(min=1, max=64))
    org_id = fields.Integer(required=True)
    password = fields.String(
        required=True,
        load_only=True,
        validate=validate.Length(min=1, max=128),
        metadata={"description": "初始密码，用户首次登录须修改"},
    )


class UserChangeSchema(Schema):
    display_name = fields.String(validate=validate.Length(min=1, max=64))
    org_id = fields.Integer()
    active = fields.Boolean()


class PasswordResetSchema(Schema):
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=128))


class UserRolesSchema(Schema):
    role_ids = fields.List(fields.Integer(), required=True)


class ScopeSchema(Schema):
    org_id = fields.Integer(
        allow_none=True,
        required=True,
        metadata={"description": "数据范围的根机构；null 恢复为默认（本机构）"},
    )


class NewOrgSchema(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=20))
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    parent_id = fields.Integer(required=True)
    region_code = fields.String(load_default=None, allow_none=True)


class OrgChangeSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=100))
    active = fields.Boolean()


class OrgRowSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    kind = fields.String()
    kind_name = fields.String()
    parent_id = fields.Integer(allow_none=True)
    region_code = fields.String(allow_none=True)
    active = fields.Boolean()
    depth = fields.Integer()
    users = fields.Integer()


class TokenSchema(Schema):
    id = fields.Integer()
    prefix = fields.String()
    name = fields.String()
    username = fields.String()
    scopes = fields.List(fields.String())
    expires_at = fields.DateTime()
    created_at = fields.DateTime()
    last_used_at = fields.DateTime(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)
    active = fields.Boolean()


class NewTokenSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=60))
    scopes = fields.List(fields.String(), required=True)
    days = fields.Integer(load_default=30)


class IssuedTokenSchema(Schema):
    token = fields.String(metadata={"description": "只在此时返回一次，请妥善保存"})
    view = fields.Nested(TokenSchema, data_key="details")


class TokenQuerySchema(Schema):
    all = fields.Boolean(load_default=False, metadata={"description": "安全管理员：列出全部令牌"})


class ApprovalSchema(Schema):
    id = fields.Integer()
    op_type = fields.String()
    op_name = fields.String()
    status = fields.String(metadata={"description": "pending | approved | rejected | cancelled"})
    status_name = fields.String()
    summary = fields.String()
    amount = fields.Decimal(as_string=True, allow_none=True)
    maker_name = fields.String()
    made_at = fields.DateTime()
    checker_name = fields.String(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    decision_note = fields.String(allow_none=True)
    outcome = fields.String(allow_none=True)
    payload = fields.Dict()


class ApprovalQuerySchema(Schema):
    box = fields.String(
        load_default="inbox",
        validate=validate.OneOf(["inbox", "mine"]),
        metadata={"description": "inbox 待我复核 | mine 我提交的"},
    )


class DecisionSchema(Schema):
    note = fields.String(load_default="", validate=validate.Length(max=500))


class PolicySchema(Schema):
    op_type = fields.String()
    op_name = fields.String()
    mode = fields.String()
    mode_name = fields.String()
    threshold = fields.Decimal(as_string=True, allow_none=True)
    checker_permission = fields.String()
    updated_by = fields.String()
    updated_at = fields.DateTime()


class PolicyChangeSchema(Schema):
    mode = fields.String(required=True, validate=validate.OneOf(["always", "above", "never"]))
    threshold = fields.Decimal(load_default=None, allow_none=True, as_string=True)


class SubmittedSchema(Schema):
    status = fields.String(metadata={"description": "applied 已生效 | pending 待复核"})
    outcome = fields.String(allow_none=True)
    approval = fields.Nested(ApprovalSchema, allow_none=True)
