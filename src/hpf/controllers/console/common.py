"""What every console page shares: the blueprint, CSRF, refusals, dates, paging."""

from __future__ import annotations

import functools
import logging
import secrets
from datetime import UTC, date, datetime
from urllib.parse import urlsplit

from flask import Blueprint, flash, request, session, url_for

from hpf.controllers import deps
from hpf.domain.calendar import BUSINESS_TZ
from hpf.domain.errors import BadRequest, Conflict, Forbidden, HpfError, ValidationFailed

bp = Blueprint("console", __name__)
log = logging.getLogger("hpf.console")

# What a form may get wrong: shown on the page again, next to the fields.
CORRECTABLE = (ValidationFailed, Conflict, Forbidden)
# Pages that never show the signed-in layout.
ANONYMOUS = {"console.login_form", "console.login", "console.otp_form", "console.otp", "console.otp_enrol"}


class CsrfFailed(BadRequest):
    code = "csrf_failed"
    message = "页面已失效或来源不明（表单令牌缺失或不符），请刷新页面后重新提交"


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def check_csrf() -> None:
    sent = request.form.get("csrf_token", "").encode()
    kept = str(session.get("csrf", "")).encode()
    if not sent or not kept or not secrets.compare_digest(sent, kept):
        raise CsrfFailed()


_check_csrf = check_csrf  # the name the first console used


@bp.before_request
def _every_post_carries_the_token():
    # Checked before any view runs, so no view can forget it (跨站请求伪造防护).
    if request.method == "POST":
        check_csrf()


def signed_in(func):
    """The view needs a signed-in user (no particular permission)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        deps.actor()
        return func(*args, **kwargs)

    return wrapper


def refused(exc: HpfError) -> dict[str, list[str]]:
    """A service said no: the message goes to the page, a 403 into the audit trail as well;
    returns the field errors to show next to the fields."""
    if exc.status == 403:
        deps.record_denied(exc)
    details = exc.details if isinstance(exc.details, dict) else {}
    fields = {str(k): [str(m) for m in v] for k, v in details.items() if isinstance(v, list | tuple)}
    fixable = fields and isinstance(exc, ValidationFailed)
    flash(f"{exc.message}，请按提示修改" if fixable else exc.message, "error")
    return fields


def now() -> datetime:
    return deps.state().clock.now()


def safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect (``//host``, ``/\\host``, a scheme)."""
    if (not target or not target.startswith("/") or target.startswith("//") or "\\" in target
            or any(ord(c) < 33 or ord(c) == 127 for c in target)):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or parts.path.startswith(("/login", "/logout")):
        return "/"
    return target


def int_arg(raw: str | None) -> int | None:
    try:
        return int(raw) if raw not in (None, "") else None
    except ValueError:
        return None


def page_number() -> int:
    return max(int_arg(request.args.get("page")) or 1, 1)


def page_url(number: int) -> str:
    """The current page with the same filters, at page ``number``."""
    args = {**request.args.to_dict(), **(request.view_args or {}), "page": number}
    return url_for(request.endpoint, **args)


def parse_date(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        return None


@bp.app_template_filter("local")
def local_time(value, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored UTC timestamp in Beijing time; a date as YYYY-MM-DD."""
    if value is None or value == "":
        return "—"
    if isinstance(value, int | float):
        value = datetime.fromtimestamp(value, UTC)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(BUSINESS_TZ).strftime(fmt)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


@bp.app_template_filter("grouped")
def grouped(secret: str, size: int = 4) -> str:
    """ABCDEFGH -> ABCD EFGH: easier to type into an authenticator by hand."""
    return " ".join(secret[i:i + size] for i in range(0, len(secret), size))
