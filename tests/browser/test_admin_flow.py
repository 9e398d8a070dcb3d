"""The identity issue's scenario in a real browser against the real server: a system
administrator creates a user, the security administrator grants a role, the new user signs in,
sees only the permitted menus and is refused (403 page, audit record) outside them; the audit
administrator finds the refusal; the three administrator roles cannot be combined."""

from __future__ import annotations

import time

import pytest

from hpf.domain import totp

pytestmark = pytest.mark.browser

PASSWORD = "Demo@2026"
NEW_USER = "lixiaoming"
SCRIPT_NAME = "<script>alert('x')</script>李小明"


def sign_in(page, username: str, password: str, secrets: dict[str, str], shot=None) -> None:
    """Password, then (administrators) the one-time code: enrol on first sign-in by reading
    the secret shown on the page, as a person would type it into an authenticator."""
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("form button[type=submit]")
    if "/login/otp" in page.url or page.locator("input[name=code]").count():
        secret_box = page.locator("#totp-secret")
        if secret_box.count():
            secrets[username] = secret_box.inner_text().replace(" ", "")
            assert page.locator(".qr img").evaluate("img => img.naturalWidth") > 0  # the QR code drew
            if shot:
                shot(page, "03b-enrol-second-factor")
        page.fill("input[name=code]", fresh_code(secrets, username))
        with page.expect_navigation():
            page.click("form.auth-form button[type=submit]")


_used: dict[str, int] = {}


def fresh_code(secrets: dict[str, str], username: str) -> str:
    """Each code is good once: wait for the next 30-second step if this one was used."""
    step = totp.step_of(time.time())
    if _used.get(username) == step:
        time.sleep(totp.STEP_SECONDS - time.time() % totp.STEP_SECONDS + 0.2)
        step = totp.step_of(time.time())
    _used[username] = step
    return totp.code_at(secrets[username], step * totp.STEP_SECONDS)


def sign_out(page) -> None:
    with page.expect_navigation():
        page.click("header form button[type=submit]")


def menu(page) -> list[str]:
    return [t.strip() for t in page.locator("nav.sidebar a").all_inner_texts()]


def flash(page) -> str:
    return " ".join(page.locator(".alert, [role=alert], [role=status]").all_inner_texts())


def test_admins_create_and_grant_a_user_who_then_sees_only_their_menus(page, console, shot):
    secrets: dict[str, str] = {}
    # 1. The system administrator signs in (enrolling the second factor) and creates a user.
    sign_in(page, "sysadmin", PASSWORD, secrets, shot)
    assert "sysadmin" in secrets, "the enrolment page showed the secret"
    assert page.url.rstrip("/").endswith(console.base.split("//")[1]) or page.url.endswith("/")
    items = menu(page)
    assert "用户管理" in items and "审计日志" not in items and "用户授权" not in items
    shot(page, "04-layout-sysadmin")
    page.goto("/admin/users")
    assert page.locator("table").count() and "teller01" in page.content()
    shot(page, "05-user-list")
    page.goto("/admin/users/new")
    page.fill("input[name=username]", NEW_USER)
    page.fill("input[name=display_name]", SCRIPT_NAME)
    page.select_option("select[name=org_id]", label=page.locator("select[name=org_id] option",
                                                                    has_text="市直营业厅").inner_text())
    page.fill("input[name=password]", "Start@2026x")
    page.fill("input[name=confirm_password]", "Start@2026x")
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    with page.expect_navigation():
        page.click("form.form button[type=submit]")
    assert SCRIPT_NAME in page.inner_text("body")  # shown as text ...
    assert "&lt;script&gt;" in page.content() and not dialogs  # ... never run
    new_id = console.sql("SELECT id FROM app_user WHERE username = :u", u=NEW_USER)[0][0]
    shot(page, "06-user-created")

    # The system administrator cannot grant: the grants page is refused with the 403 page.
    refused = page.goto(f"/security/users/{new_id}")
    assert refused.status == 403 and "无权" in page.inner_text("body")
    sign_out(page)

    # 2. The security administrator grants the teller role; combining admin roles is refused.
    sign_in(page, "secadmin", PASSWORD, secrets)
    page.goto(f"/security/users/{new_id}")
    roles = {r[0]: r[1] for r in console.sql("SELECT code, id FROM role")}
    page.check(f"input[name=role_ids][value='{roles['sysadmin']}']")
    page.check(f"input[name=role_ids][value='{roles['auditadmin']}']")
    with page.expect_navigation():
        page.click("form[action$='/roles'] button[type=submit]")
    assert "互斥" in flash(page)
    assert console.sql("SELECT COUNT(*) FROM user_role WHERE user_id = :u", u=new_id)[0][0] == 0
    page.goto(f"/security/users/{new_id}")
    page.check(f"input[name=role_ids][value='{roles['teller']}']")
    with page.expect_navigation():
        page.click("form[action$='/roles'] button[type=submit]")
    shot(page, "07-grant-role")
    assert [r[0] for r in console.sql("SELECT r.code FROM user_role g JOIN role r ON r.id = g.role_id "
                                      "WHERE g.user_id = :u", u=new_id)] == ["teller"]
    sign_out(page)

    # 3. The new user signs in, must change the initial password, then sees a teller's menus.
    sign_in(page, NEW_USER, "Start@2026x", secrets)
    assert "/me/password" in page.url
    page.fill("input[name=old_password]", "Start@2026x")
    page.fill("input[name=new_password]", "Mine@2026y")
    page.fill("input[name=confirm_password]", "Mine@2026y")
    with page.expect_navigation():
        page.click("form.form button[type=submit]")
    page.goto("/")
    items = menu(page)
    assert not {"用户管理", "用户授权", "角色与权限", "审计日志", "业务参数", "机构管理"} & set(items)
    assert "个人设置" in " ".join(items) or page.locator("header").inner_text()
    shot(page, "08-teller-home")

    # 4. A URL outside the menus: the 403 page, and an audit record of the refusal.
    response = page.goto("/admin/users")
    assert response.status == 403 and "无权" in page.inner_text("body")
    shot(page, "09-forbidden")
    denied = console.sql("SELECT target, role FROM audit_event WHERE actor = :u AND action = 'access.denied'",
                         u=NEW_USER)
    assert ("GET /admin/users", "teller") in [tuple(r) for r in denied]
    sign_out(page)

    # 5. The audit administrator finds it in the audit log.
    sign_in(page, "auditadmin", PASSWORD, secrets)
    page.goto(f"/audit?actor={NEW_USER}&result=denied")
    assert "access.denied" in page.inner_text("body") and "/admin/users" in page.inner_text("body")
    shot(page, "10-audit-log")
    sign_out(page)
    assert console.hpf("audit", "verify").returncode == 0
