"""Shapes of the deposit certificate API (缴存证明)."""

from __future__ import annotations

from hpf.schemas.base import Schema, fields, validate
from hpf.services.certificates import PURPOSES


class IssueCertificateSchema(Schema):
    purpose = fields.String(required=True, validate=validate.OneOf(PURPOSES),
                            metadata={"description": f"证明用途：{'、'.join(PURPOSES)}"})


class CertificateSchema(Schema):
    id = fields.Integer()
    code = fields.String(metadata={"description": "验证码（XXXX-XXXX-XXXX-XXXX）"})
    account_id = fields.Integer()
    purpose = fields.String()
    issued_on = fields.Date()
    issued_at = fields.DateTime()
    issued_by = fields.String()
    key_id = fields.String(metadata={"description": "签名密钥标识"})
    signature = fields.String(metadata={"description": "SM2 签名（DER，十六进制）"})
    facts = fields.Dict(metadata={"description": "证明所载内容（姓名、证件号码已脱敏）"})
    revoked_at = fields.DateTime(allow_none=True)


class VerificationSchema(Schema):
    status = fields.String(metadata={
        "description": "valid 有效 / revoked 已作废 / invalid 校验不符 / not_found 不存在"})
    code = fields.String()
    facts = fields.Dict(allow_none=True)
    facts_text = fields.String(metadata={"description": "被签名的原文（UTF-8，规范 JSON）"})
    signature_ok = fields.Boolean()
    key_id = fields.String()
    public_key = fields.String(metadata={"description": "SM2 公钥 04‖x‖y，十六进制；签名用户标识为默认值"})
    signature = fields.String()
    revoked_at = fields.DateTime(allow_none=True)
