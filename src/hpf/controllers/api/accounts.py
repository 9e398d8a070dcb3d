"""个人账户: 开户, 查询, 封存, 启封, 内部转移, 冻结/解冻, 基数调整."""

from __future__ import annotations

from flask_smorest import Blueprint

from hpf.controllers.deps import actor, requires, state, today, uow, who
from hpf.schemas.collection import (
    AccountQuerySchema,
    AccountSchema,
    BaseChangeSchema,
    MoveSchema,
    NewAccountSchema,
)
from hpf.services import accounts

blp = Blueprint("accounts", __name__, url_prefix="/api/v1/accounts", description="职工个人住房公积金账户")


def _now():
    return state().clock.now()


@blp.route("")
@blp.arguments(AccountQuerySchema, location="query")
@blp.response(200, AccountSchema(many=True))
@requires("person:view", blp)
def search(query):
    """按证件号码（精确）或个人账号查找本人数据范围内的账户"""
    return accounts.search_accounts(uow(), actor(), **query)


@blp.route("", methods=["POST"])
@blp.arguments(NewAccountSchema)
@blp.response(201, AccountSchema)
@requires("account:open", blp)
def open_account(data):
    """个人开户：证件号码校验，一人一户，缴存基数在上下限之内"""
    return accounts.open_account(uow(), actor(), who(), _now(), accounts.NewAccount(**data, on=today()))


@blp.route("/<int:account_id>")
@blp.response(200, AccountSchema)
@requires("person:view", blp)
def get_account(account_id):
    """单个账户（证件号码脱敏）"""
    return accounts.get_account(uow(), actor(), account_id)


@blp.route("/<int:account_id>/seal", methods=["POST"])
@blp.response(200, AccountSchema)
@requires("account:change", blp)
def seal(account_id):
    """封存（离职）"""
    return accounts.seal_account(uow(), actor(), who(), _now(), account_id)


@blp.route("/<int:account_id>/unseal", methods=["POST"])
@blp.arguments(MoveSchema)
@blp.response(200, AccountSchema)
@requires("account:change", blp)
def unseal(data, account_id):
    """启封到本人数据范围内的新单位"""
    move = {**data, "operation": "unseal", "on": today()}
    return accounts.move_account(uow(), actor(), who(), _now(), account_id, move)


@blp.route("/<int:account_id>/transfer", methods=["POST"])
@blp.arguments(MoveSchema)
@blp.response(200, AccountSchema)
@requires("account:change", blp)
def transfer(data, account_id):
    """内部转移到本人数据范围内的新单位（余额随账户转移）"""
    move = {**data, "operation": "transfer", "on": today()}
    return accounts.move_account(uow(), actor(), who(), _now(), account_id, move)


@blp.route("/<int:account_id>/freeze", methods=["POST"])
@blp.response(200, AccountSchema)
@requires("account:freeze", blp)
def freeze(account_id):
    """冻结"""
    return accounts.freeze_account(uow(), actor(), who(), _now(), account_id)


@blp.route("/<int:account_id>/unfreeze", methods=["POST"])
@blp.response(200, AccountSchema)
@requires("account:freeze", blp)
def unfreeze(account_id):
    """解冻（恢复冻结前的状态）"""
    return accounts.unfreeze_account(uow(), actor(), who(), _now(), account_id)


@blp.route("/<int:account_id>/base", methods=["PUT"])
@blp.arguments(BaseChangeSchema)
@blp.response(200, AccountSchema)
@requires("account:change", blp)
def change_base(data, account_id):
    """缴存基数调整"""
    return accounts.change_base(uow(), actor(), who(), _now(), account_id, data["deposit_base"], today())
