"""Public pages (no login): 缴存证明核验 — anyone holding a certificate checks its code."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from hpf.controllers.deps import uow
from hpf.services import certificates

bp = Blueprint("public", __name__)


@bp.get("/verify")
def verify():
    """缴存证明核验: a form; with ?code=… the stored facts and the signature check."""
    code = request.args.get("code", "").strip()[:40]
    result = certificates.verify(uow(), code) if code else None
    return render_template("public/verify.html", code=code, result=result)
