"""The staff console's pages: menus by permission, refusals (audited), CSRF, escaping, the
security headers, session expiry, the second factor, and the administrators' main flows."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from hpf.controllers.console.common import safe_next
from hpf.repositories.uow import UnitOfWork
from hpf.services import audit
from tests.conftest import CSRF_FIELD, console_login

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "hpf" / "web" / "templates"
SCRIPT = "<script>alert(1)</script>"


def text(response) -> str:
    return response.get_data(as_text=True)


def menu(client) -> str:
    page = text(client.get("/"))
    return page[page.index('<nav class="sidebar"'):page.index("</nav>", page.index('<nav class="sidebar"'))]


def token_of(client, path: str = "/") -> str:
    return re.search(CSRF_FIELD, text(client.get(path))).group(1)


def post(client, path: str, data: dict | None = None, *, page: str = "/"):
    """A console form POST with the session's CSRF token."""
    return client.post(path, data={**(data or {}), "csrf_token": token_of(client, page)})


def sign_out(client) -> None:
    assert post(client, "/logout").status_code == 302


def uow(app) -> UnitOfWork:
    return UnitOfWork(app.extensions["hpf"].database)


def user_id(app, username: str) -> int:
    with uow(app) as work:
        return work.users.by_username(username).id


def role_codes(app, username: str) -> set[str]:
    with uow(app) as work:
        user = work.users.by_username(username)
        return {work.access.role(g.role_id).code for g in work.access.grants_of(user.id)}


def role_id(app, code: str) -> int:
    with uow(app) as work:
        return work.access.role_by_code(code).id


def events(app, action: str):
    return audit.search(uow(app), action=action).items


# ---------------------------------------------------------------- menus and refusals

def test_menu_shows_only_what_the_role_may_use(client):
    console_login(client, "teller01")
    items = menu(client)
    assert "工作台" in items and "个人设置" in items
    assert "用户管理" not in items and "审计日志" not in items and "角色与权限" not in items
    sign_out(client)

    console_login(client, "sysadmin")
    items = menu(client)
    assert all(name in items for name in ("用户管理", "机构管理", "业务参数", "数据字典", "复核待办"))
    assert "审计日志" not in items and "用户授权" not in items and "角色与权限" not in items
    sign_out(client)

    console_login(client, "secadmin")
    items = menu(client)
    assert all(name in items for name in ("角色与权限", "用户授权", "复核规则", "接口令牌"))
    assert "用户管理" not in items and "审计日志" not in items
    sign_out(client)

    console_login(client, "auditadmin")
    items = menu(client)
    assert "审计日志" in items
    for other in ("用户管理", "机构管理", "业务参数", "数据字典", "角色与权限", "用户授权", "复核待办"):
        assert other not in items


def test_a_page_outside_ones_permissions_is_refused_and_audited(client, app):
    console_login(client, "teller01")
    response = client.get("/admin/users")
    page = text(response)
    assert response.status_code == 403
    assert "无权访问" in page and "没有「查看用户」权限" in page and "返回工作台" in page
    assert '<nav class="sidebar"' in page  # the layout with the menu: still signed in
    denied = events(app, "access.denied")
    assert denied and denied[0].actor == "teller01" and denied[0].result == "denied"
    assert denied[0].target == "GET /admin/users" and "user:view" in denied[0].summary

    assert client.get("/audit/export/csv").status_code == 403  # exports are checked too


def test_signed_out_visitors_go_to_the_login_page(client):
    response = client.get("/admin/users?q=wang")
    assert response.status_code == 302
    parts = urlsplit(response.headers["Location"])
    assert parts.path == "/login" and parse_qs(parts.query) == {"next": ["/admin/users?q=wang"]}


def test_a_form_without_csrf_token_is_refused(client, app):
    console_login(client, "sysadmin")
    form = {"username": "nocsrf01", "display_name": "无令牌", "org_id": "1", "password": "Strong@2026x",
            "confirm_password": "Strong@2026x"}
    assert client.post("/admin/users", data=form).status_code == 400
    assert client.post("/admin/users", data={**form, "csrf_token": "forged"}).status_code == 400
    with uow(app) as work:
        assert work.users.by_username("nocsrf01") is None
    assert client.post("/logout").status_code == 400  # even signing out needs the token


def test_script_in_a_display_name_is_shown_as_text(client, app):
    console_login(client, "sysadmin")
    teller = user_id(app, "teller01")
    done = post(client, f"/admin/users/{teller}", {"display_name": SCRIPT}, page=f"/admin/users/{teller}")
    assert done.status_code == 302
    for path in ("/admin/users", f"/admin/users/{teller}"):
        page = text(client.get(path))
        assert SCRIPT not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# ---------------------------------------------------------------- headers and templates

def test_console_pages_carry_a_strict_content_security_policy(client):
    response = client.get("/login")
    policy = response.headers["Content-Security-Policy"]
    for rule in ("default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'",
                 "form-action 'self'", "base-uri 'none'", "object-src 'none'"):
        assert rule in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    static = client.get("/static/console.css")
    assert static.status_code == 200 and "no-store" not in static.headers.get("Cache-Control", "")


def test_templates_have_no_inline_script_or_style():
    for path in TEMPLATES.rglob("*.html"):
        source = path.read_text(encoding="utf-8")
        assert "style=" not in source and "<style" not in source, path
        assert not re.search(r"<script(?![^>]*\bsrc=)", source), path
        assert "|safe" not in source.replace(" ", ""), path


# ---------------------------------------------------------------- sessions and sign-in

def test_an_expired_session_goes_to_login_and_keeps_the_page(client):
    console_login(client, "teller01")
    with client.session_transaction() as session:
        session["seen"] -= 31 * 60
    response = client.get("/me")
    assert response.status_code == 302
    parts = urlsplit(response.headers["Location"])
    assert parts.path == "/login" and parse_qs(parts.query) == {"next": ["/me"], "expired": ["1"]}
    assert "会话已超时，请重新登录" in text(client.get(response.headers["Location"]))
    again = console_login(client, "teller01", next_path="/me")
    assert again.status_code == 302 and again.headers["Location"] == "/me"


@pytest.mark.parametrize("target", ["//evil.example/", "/\\evil.example", "https://evil.example/",
                                    "javascript:alert(1)", "/login?next=//evil", " /admin"])
def test_only_local_paths_are_followed_after_sign_in(target):
    assert safe_next(target) == "/"


def test_a_local_path_is_kept_after_sign_in():
    assert safe_next("/admin/users?q=wang&page=2") == "/admin/users?q=wang&page=2"


def test_an_administrator_enrols_the_second_factor_at_first_sign_in(client, app):
    from tests.conftest import otp_code

    first = client.post("/login?next=/security/roles", data={"username": "secadmin", "password": "Demo@2026",
                                                             "csrf_token": token_of(client, "/login")})
    page = text(first)
    assert first.status_code == 200 and "绑定动态口令" in page
    shown = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page).group(1)
    secret = re.search(r"secret=([A-Z2-7]+)", page).group(1)
    assert shown.replace(" ", "") == secret and all(len(g) == 4 for g in shown.split()[:-1])
    assert "otpauth://totp/" in page and "认证器" in page
    qr = re.search(r'<img src="(data:image/svg\+xml[^"]+)"', page).group(1)
    assert "%3Csvg" in qr and secret not in qr  # a drawn QR code inline, the secret not in clear text
    assert client.get("/").status_code == 302  # not signed in yet

    token = re.search(CSRF_FIELD, page).group(1)
    wrong = client.post("/login/otp", data={"code": "000000", "csrf_token": token})
    assert wrong.status_code == 401 and "动态口令错误" in text(wrong)
    assert "重新生成密钥" in text(wrong)  # still enrolling: a fresh secret can be asked for

    code = otp_code(app, "secadmin", {"enrolment": {"secret": secret}})
    done = client.post("/login/otp", data={"code": code, "csrf_token": token})
    assert done.status_code == 302 and done.headers["Location"] == "/security/roles"
    assert "动态口令" in text(client.get("/me")) and "已绑定" in text(client.get("/me"))
    assert [e.action for e in events(app, "auth.mfa.enrol")] == ["auth.mfa.enrol"]
    sign_out(client)

    # The next time: the code only, no secret shown.
    second = client.post("/login", data={"username": "secadmin", "password": "Demo@2026",
                                         "csrf_token": token_of(client, "/login")})
    assert second.status_code == 302 and second.headers["Location"].endswith("/login/otp")
    ask = text(client.get("/login/otp"))
    assert "输入动态口令" in ask and "secret=" not in ask
    done = client.post("/login/otp", data={"code": otp_code(app, "secadmin"),
                                           "csrf_token": re.search(CSRF_FIELD, ask).group(1)})
    assert done.status_code == 302


# ---------------------------------------------------------------- system administrator

def test_sysadmin_creates_a_user_who_must_change_the_password(client, app):
    console_login(client, "sysadmin")
    counter = text(client.get("/admin/users/new"))
    org = re.search(r'<option value="(\d+)">[^<]*市直营业厅', counter).group(1)
    form = {"username": "clerk01", "display_name": "孙丽", "org_id": org, "password": "Init@2026x",
            "confirm_password": "Init@2026y"}
    mismatch = post(client, "/admin/users", form, page="/admin/users/new")
    assert mismatch.status_code == 422 and "两次输入的密码不一致" in text(mismatch)
    weak = post(client, "/admin/users", {**form, "password": "short", "confirm_password": "short"},
                page="/admin/users/new")
    assert weak.status_code == 422 and "密码长度至少" in text(weak)
    assert 'value="clerk01"' in text(weak) and 'value="short"' not in text(weak)  # passwords never echoed

    created = post(client, "/admin/users", {**form, "confirm_password": "Init@2026x"},
                   page="/admin/users/new")
    assert created.status_code == 302
    detail = text(client.get(created.headers["Location"]))
    assert "已创建用户 clerk01" in detail and "下次登录须修改密码" in detail
    assert "孙丽" in text(client.get("/admin/users?q=clerk"))
    sign_out(client)

    first = console_login(client, "clerk01", "Init@2026x")
    assert first.status_code == 302 and first.headers["Location"] == "/me/password"
    assert client.get("/").headers["Location"] == "/me/password"
    assert client.get("/approvals").headers["Location"] == "/me/password"
    page = text(client.get("/me/password"))
    assert "初始密码" in page and "至少 8 位" in page
    sidebar = page[page.index('<nav class="sidebar"'):]
    sidebar = sidebar[:sidebar.index("</nav>")]
    assert "修改密码" in sidebar and sidebar.count("<li>") == 1  # the only way on from here
    wrong = post(client, "/me/password", {"old_password": "nope", "new_password": "Fresh@2026x",
                                          "confirm_password": "Fresh@2026x"}, page="/me/password")
    assert wrong.status_code == 422 and "当前密码不正确" in text(wrong)
    changed = post(client, "/me/password", {"old_password": "Init@2026x", "new_password": "Fresh@2026x",
                                            "confirm_password": "Fresh@2026x"}, page="/me/password")
    assert changed.status_code == 302 and changed.headers["Location"] == "/"
    assert "您好，孙丽" in text(client.get("/"))


def test_sysadmin_disables_and_resets_an_account(client, app):
    console_login(client, "sysadmin")
    teller = user_id(app, "teller02")
    page = f"/admin/users/{teller}"
    assert 'data-confirm="确定停用用户' in text(client.get(page))
    assert post(client, f"{page}/status", {"active": "0"}, page=page).status_code == 302
    assert "账户已停用" in text(client.get(page))
    reset = post(client, f"{page}/password", {"password": "Temp@2026x", "confirm_password": "Temp@2026x"},
                 page=page)
    assert reset.status_code == 302
    own = post(client, f"/admin/users/{user_id(app, 'sysadmin')}/status", {"active": "0"}, page=page)
    assert own.status_code == 403 and "不能停用或调动自己的账号" in text(own)
    assert [e.action for e in events(app, "user.")][:2] == ["user.password.reset", "user.update"]


def test_sysadmin_adds_a_counter_under_a_branch(client, app):
    console_login(client, "sysadmin")
    tree = text(client.get("/admin/orgs"))
    branch = re.search(r'<option value="(\d+)">[^<]*东城管理部', tree).group(1)
    bad = post(client, "/admin/orgs", {"parent_id": branch, "code": "!!", "name": "东城二厅"},
               page="/admin/orgs")
    assert bad.status_code == 422 and "机构代码为 1-20 位字母或数字" in text(bad)
    done = post(client, "/admin/orgs", {"parent_id": branch, "code": "002002", "name": "东城第二营业厅"},
                page="/admin/orgs")
    assert done.status_code == 302
    assert "东城第二营业厅" in text(client.get("/admin/orgs"))


# ---------------------------------------------------------------- security administrator

def test_secadmin_grants_a_role_and_separation_of_duties_is_enforced(client, app):
    console_login(client, "secadmin")
    teller = user_id(app, "teller01")
    page = text(client.get(f"/security/users/{teller}"))
    assert "三员分立" in page
    granted = post(client, f"/security/users/{teller}/roles",
                   {"role_ids": [role_id(app, "teller"), role_id(app, "reviewer")]}, page="/")
    assert granted.status_code == 302
    assert role_codes(app, "teller01") == {"teller", "reviewer"}
    assert "角色已保存" in text(client.get(granted.headers["Location"]))

    checker = user_id(app, "sysadmin02")
    refused = post(client, f"/security/users/{checker}/roles",
                   {"role_ids": [role_id(app, "sysadmin"), role_id(app, "auditadmin")]})
    assert refused.status_code == 403
    assert "系统管理员、审计管理员互斥，不能授予同一用户（三员分立）" in text(refused)
    assert role_codes(app, "sysadmin02") == {"sysadmin"}  # nothing changed
    assert any("admin_roles_exclusive" in e.summary for e in events(app, "access.denied"))


def test_secadmin_makes_a_role_whose_holder_issues_an_api_token(client, app):
    console_login(client, "secadmin")
    role = {"code": "api_user", "name": "接口用户", "kind": "business"}
    mixed = post(client, "/security/roles", {**role, "permissions": ["unit:view", "audit:view"]},
                 page="/security/roles/new")
    assert mixed.status_code == 422 and "三员与业务权限须分离" in text(mixed)
    made = post(client, "/security/roles", {**role, "permissions": ["unit:view", "token:self"]},
                page="/security/roles/new")
    assert made.status_code == 302
    teller = user_id(app, "teller02")
    assert post(client, f"/security/users/{teller}/roles",
                {"role_ids": [role_id(app, "teller"), role_id(app, "api_user")]}).status_code == 302
    sign_out(client)

    console_login(client, "teller02")
    assert "我的接口令牌" in menu(client)
    issued = post(client, "/me/tokens", {"name": "网厅对接", "scopes": ["unit:view"], "days": "30"},
                  page="/me/tokens")
    assert issued.status_code == 201
    raw = re.search(r'value="(hpf_[^"]+)"', text(issued)).group(1)
    assert "只显示这一次" in text(issued)
    listed = text(client.get("/me/tokens"))
    assert "网厅对接" in listed and raw not in listed  # shown once, never again
    api = client.get("/api/v1/session", headers={"Authorization": f"Bearer {raw}"})
    assert api.status_code == 200 and api.get_json()["username"] == "teller02"
    token_id = re.search(r'/me/tokens/(\d+)/revoke', listed).group(1)
    assert post(client, f"/me/tokens/{token_id}/revoke", page="/me/tokens").status_code == 302
    assert "已吊销" in text(client.get("/me/tokens"))


# ---------------------------------------------------------------- maker-checker

def test_a_parameter_change_waits_for_a_second_administrator(client, app):
    today = app.extensions["hpf"].clock.today()
    when = (today + timedelta(days=30)).isoformat()
    console_login(client, "sysadmin")
    page = "/admin/params/deposit.ratio.max"
    past = post(client, page, {"value": "0.11", "effective_from": "2000-01-01"}, page=page)
    assert past.status_code == 422 and "生效日期不能早于当前业务日期" in text(past)
    change = {"value": "0.11", "effective_from": when, "source": "建金〔2026〕1号"}
    submitted = post(client, page, change, page=page)
    assert submitted.status_code == 302
    detail = text(client.get(page))
    assert "已提交，待复核" in detail and "待复核的调整" in detail
    assert "<strong>0.12</strong>" in detail  # not in force: nothing changed yet
    request_id = re.search(r"/approvals/(\d+)", detail).group(1)
    own = text(client.get(f"/approvals/{request_id}"))
    assert "须由他人复核" in own and 'value="approve"' not in own
    self_check = post(client, f"/approvals/{request_id}/decision", {"decision": "approve"})
    assert self_check.status_code == 403 and "经办人不能复核自己提交的业务" in text(self_check)
    sign_out(client)

    console_login(client, "sysadmin02")
    assert '<span class="badge"' in menu(client)
    inbox = text(client.get("/approvals"))
    assert "业务参数调整" in inbox and f"/approvals/{request_id}" in inbox
    shown = text(client.get(f"/approvals/{request_id}"))
    assert "生效日期" in shown and when in shown and "0.11" in shown and "建金〔2026〕1号" in shown
    no_note = post(client, f"/approvals/{request_id}/decision", {"decision": "reject"})
    assert no_note.status_code == 422 and "退回时须填写意见" in text(no_note)
    approved = post(client, f"/approvals/{request_id}/decision", {"decision": "approve", "note": "同意"})
    assert approved.status_code == 302
    history = text(client.get(page))
    assert when in history and "待生效" in history and "待复核的调整" not in history
    assert [e.action for e in events(app, "approval.")][:2] == ["approval.approve", "approval.submit"]


def test_secadmin_sets_a_review_threshold(client):
    console_login(client, "secadmin")
    page = "/security/approval-policies"
    bad = post(client, f"{page}/withdrawal.large", {"mode": "above", "threshold": "abc"}, page=page)
    assert bad.status_code == 422 and "金额格式不正确" in text(bad)
    zero = post(client, f"{page}/withdrawal.large", {"mode": "above", "threshold": "0"}, page=page)
    assert zero.status_code == 422 and "阈值" in text(zero)
    done = post(client, f"{page}/withdrawal.large", {"mode": "above", "threshold": "80000"}, page=page)
    assert done.status_code == 302 and "80,000.00" in text(client.get(page))


# ---------------------------------------------------------------- audit administrator

def test_auditadmin_searches_and_exports_the_trail(client, app):
    console_login(client, "auditadmin")
    found = text(client.get("/audit?action=auth.login&result=success"))
    assert "auth.login" in found and "auditadmin" in found and "共 " in found
    bad = client.get("/audit?since=yesterday")
    assert bad.status_code == 422 and "时间格式应为" in text(bad)
    csv = client.get("/audit/export/csv?action=auth.")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert "attachment" in csv.headers["Content-Disposition"]
    assert csv.data.decode("utf-8-sig").startswith("序号,时间,操作人")
    xlsx = client.get("/audit/export/xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    exports = events(app, "audit.export")
    assert [e.target for e in exports] == ["audit:xlsx", "audit:csv"] and "action=auth." in exports[1].summary


def test_code_tables_are_listed_for_the_system_administrator(client):
    console_login(client, "sysadmin")
    assert "ZJLX" in text(client.get("/admin/codes"))
    page = text(client.get("/admin/codes/ZJLX"))
    assert "居民身份证" in page and "新增本中心代码项" in page


def test_home_shows_when_and_from_where_one_signed_in_before(app):
    from tests.conftest import console_login

    first = app.test_client()
    console_login(first, "teller01")
    assert "（首次登录）" in first.get("/").get_data(as_text=True)
    second = app.test_client()
    console_login(second, "teller01")
    page = second.get("/").get_data(as_text=True)
    assert "上次登录" in page and "（首次登录）" not in page and "127.0.0.1" in page
