"""打印缴存证明 from the account page: issue a certificate and download its PDF."""

from __future__ import annotations

from flask import redirect, request, url_for

from hpf.controllers import deps
from hpf.controllers.api.certificates import pdf_response
from hpf.controllers.console.common import CORRECTABLE, bp, now, refused
from hpf.services import certificates


@bp.post("/accounts/<int:account_id>/certificate")
@deps.requires("statement:view")
def accounts_certificate(account_id: int):
    """Issue (purpose from the form, 其他 by default) and answer with the PDF download."""
    purpose = request.form.get("purpose", "其他")
    try:
        issued = certificates.issue(deps.uow(), deps.actor(), deps.who(), now(), account_id, purpose)
    except CORRECTABLE as exc:
        refused(exc)
        return redirect(url_for("console.accounts_detail", account_id=account_id))
    return pdf_response(issued.code)
