"""What handlers take from the application: a unit of work, the clock, the signed-in user."""

from __future__ import annotations

from datetime import date

from flask import current_app, session

from hpf.app import AppState
from hpf.domain.errors import Unauthorized
from hpf.repositories.uow import UnitOfWork
from hpf.services import auth


def state() -> AppState:
    return current_app.extensions["hpf"]


def uow() -> UnitOfWork:
    return UnitOfWork(state().database)


def today() -> date:
    return state().clock.today()


def actor() -> auth.UserView:
    """The signed-in staff member, or 401."""
    user_id = session.get("uid")
    if not isinstance(user_id, int):
        raise Unauthorized()
    return auth.current_user(uow(), user_id)


def sign_in(user: auth.UserView) -> None:
    session.clear()
    session.permanent = True
    session["uid"] = user.id


def sign_out() -> None:
    session.clear()
