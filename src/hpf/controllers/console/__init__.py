"""The staff console (工作台): server-rendered Jinja2 pages in Simplified Chinese, one blueprint.

Each area has its module; they add their views to ``bp`` (endpoints ``console.<area>_<page>``,
which also places a page in the menu). Every POST carries the session's CSRF token, checked
before any view runs; every view names the permission it needs; state changes go through a
service, which audits them, and answer with a redirect and a flash message (PRG).
"""

from __future__ import annotations

from hpf.controllers.console import (  # noqa: F401 - each module adds its views to bp
    accounts,
    approvals,
    audit,
    base_adjustments,
    certificates,
    codes,
    grants,
    home,
    ledger,
    menu,
    orgs,
    params,
    remittances,
    roles,
    security,
    signin,
    statements,
    units,
    users,
)
from hpf.controllers.console.common import bp, check_csrf, csrf_token

_check_csrf = check_csrf

__all__ = ["bp", "check_csrf", "csrf_token"]
