"""用户管理 (系统管理员): staff accounts in the administrator's data scope."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from hpf.controllers import deps
from hpf.controllers.console.common import CORRECTABLE, bp, int_arg, now, page_number, refused
from hpf.domain.errors import ValidationFailed
from hpf.services import users

PER_PAGE = 20


def user_list(template_mode: str):
    """The account list (shared with 用户授权, which links each row to its grants)."""
    me = deps.actor()
    q, org_id = request.args.get("q", "").strip(), int_arg(request.args.get("org_id"))
    found = users.list_users(deps.uow(), me, now(), q=q, org_id=org_id, page=page_number(), per_page=PER_PAGE)
    return render_template("users/list.html", found=found, orgs=users.org_tree(deps.uow(), me), q=q,
                           org_id=org_id, mode=template_mode)


def active_orgs():
    return [o for o in users.org_tree(deps.uow(), deps.actor()) if o.active]


@bp.get("/admin/users")
@deps.requires("user:view")
def users_list():
    """用户列表: search by name, filter by organisation."""
    return user_list("users")


@bp.get("/admin/users/new")
@deps.requires("user:manage")
def users_new():
    return _new_page({}, {})


def _new_page(errors, form, status=200):
    return render_template("users/new.html", errors=errors, form=form, orgs=active_orgs(),
                           policy=deps.password_policy()), status


@bp.post("/admin/users")
@deps.requires("user:manage")
def users_create():
    """新建用户: an initial password the user must change at the first sign-in."""
    form = request.form
    errors: dict[str, list[str]] = {}
    org_id = int_arg(form.get("org_id"))
    if org_id is None:
        errors["org_id"] = ["请选择所属机构"]
    if form.get("password", "") != form.get("confirm_password", ""):
        errors["confirm_password"] = ["两次输入的密码不一致"]
    if errors:
        return _new_page(refused(ValidationFailed(details=errors)), form, 422)
    try:
        row = users.create_user(*_service_args(), username=form.get("username", ""),
                                display_name=form.get("display_name", ""), org_id=org_id,
                                password=form.get("password", ""), policy=deps.password_policy())
    except CORRECTABLE as exc:
        return _new_page(refused(exc), form, exc.status)
    flash(f"已创建用户 {row.username}：首次登录须修改初始密码；角色须由安全管理员授予", "success")
    return redirect(url_for("console.users_detail", user_id=row.id))


def _detail_page(user_id: int, errors=None, form=None, status=200):
    me = deps.actor()
    row = users.get_user(deps.uow(), me, user_id, now())
    orgs = active_orgs() if me.can("user:manage") else []
    return render_template("users/detail.html", row=row, orgs=orgs, errors=errors or {}, form=form or {},
                           policy=deps.password_policy()), status


@bp.get("/admin/users/<int:user_id>")
@deps.requires("user:view")
def users_detail(user_id: int):
    """用户详情: edit, enable/disable, reset password, unlock."""
    return _detail_page(user_id)


def _change(user_id: int, done: str, call):
    """Run one change; on success back to the detail page with ``done``, else the page with the errors."""
    try:
        call()
    except CORRECTABLE as exc:
        return _detail_page(user_id, refused(exc), request.form, exc.status)
    flash(done, "success")
    return redirect(url_for("console.users_detail", user_id=user_id))


def _service_args():
    return deps.uow(), deps.actor(), deps.who(), now()


@bp.post("/admin/users/<int:user_id>")
@deps.requires("user:manage")
def users_update(user_id: int):
    """修改姓名与所属机构."""
    form = request.form
    org_id = int_arg(form.get("org_id"))
    return _change(user_id, "用户信息已保存", lambda: users.update_user(
        *_service_args(), user_id, display_name=form.get("display_name", ""), org_id=org_id))


@bp.post("/admin/users/<int:user_id>/status")
@deps.requires("user:manage")
def users_status(user_id: int):
    """启用 / 停用 (a disabled account is signed out everywhere at once)."""
    active = request.form.get("active") == "1"
    done = "账户已启用" if active else "账户已停用，其所有会话已结束"
    return _change(user_id, done, lambda: users.update_user(*_service_args(), user_id, active=active))


@bp.post("/admin/users/<int:user_id>/password")
@deps.requires("user:manage")
def users_reset_password(user_id: int):
    """重置密码: temporary, to be changed at the next sign-in; lifts a lock too."""
    form = request.form
    if form.get("password", "") != form.get("confirm_password", ""):
        mismatch = ValidationFailed(details={"confirm_password": ["两次输入的密码不一致"]})
        return _detail_page(user_id, refused(mismatch), status=422)
    return _change(user_id, "密码已重置：用户下次登录须修改密码", lambda: users.reset_password(
        *_service_args(), user_id, form.get("password", ""), deps.password_policy()))


@bp.post("/admin/users/<int:user_id>/unlock")
@deps.requires("user:manage")
def users_unlock(user_id: int):
    """解除登录失败锁定."""
    return _change(user_id, "已解除锁定", lambda: users.unlock(*_service_args(), user_id))
