"""缴存证明: 出具 (signed, with a verification code), 打印 PDF, 公开核验, 作废."""

from __future__ import annotations

from flask import Response, url_for
from flask_smorest import Blueprint

from hpf.controllers.deps import actor, requires, state, uow, who
from hpf.schemas.certificates import CertificateSchema, IssueCertificateSchema, VerificationSchema
from hpf.services import certificates

blp = Blueprint("certificates", __name__, url_prefix="/api/v1", description="住房公积金缴存证明")


def pdf_response(code: str) -> Response:
    """The PDF of certificate ``code`` as a download (shared with the console)."""
    data = certificates.pdf(uow(), actor(), code, url_for("public.verify", _external=True))
    name = f"deposit-certificate-{certificates.normalise_code(code)}.pdf"
    return Response(data, mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@blp.route("/accounts/<int:account_id>/certificates", methods=["POST"])
@blp.arguments(IssueCertificateSchema)
@blp.response(201, CertificateSchema)
@requires("statement:view", blp)
def issue(data, account_id):
    """出具缴存证明：按当日账户情况签名（SM2），返回验证码"""
    return certificates.issue(uow(), actor(), who(), state().clock.now(), account_id, data["purpose"])


@blp.route("/certificates/<code>.pdf")
@blp.response(200, description="PDF 文件 (application/pdf)")
@requires("statement:view", blp)
def download(code):
    """缴存证明 PDF（按出具时签名的内容生成，重复打印内容相同）"""
    return pdf_response(code)


@blp.route("/certificates/<code>/verification")
@blp.response(200, VerificationSchema)
def verification(code):
    """公开核验（无需登录）：验证码对应的证明内容、签名核验结果与签名公钥"""
    return certificates.verify(uow(), code)


@blp.route("/certificates/<code>/revocation", methods=["POST"])
@blp.response(200, CertificateSchema)
@requires("account:change", blp)
def revoke(code):
    """作废缴存证明（此后核验结果为“已作废”）"""
    return certificates.revoke(uow(), actor(), who(), state().clock.now(), code)
