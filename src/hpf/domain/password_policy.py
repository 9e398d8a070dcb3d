"""Password rules for staff (身份鉴别: 复杂度要求并定期更换), configurable, pure."""

from __future__ import annotations

import string
from dataclasses import dataclass


@dataclass(frozen=True)
class PasswordPolicy:
    min_length: int = 8
    min_classes: int = 3      # of: lower case, upper case, digits, other characters
    history: int = 5          # a new password may not be one of the last N
    max_age_days: int = 90


def character_classes(password: str) -> int:
    plain = string.ascii_letters + string.digits
    kinds = (any(c in string.ascii_lowercase for c in password),
             any(c in string.ascii_uppercase for c in password),
             any(c in string.digits for c in password),
             any(c not in plain for c in password))  # symbols, and any non-ASCII character
    return sum(kinds)


def problems(password: str, username: str, policy: PasswordPolicy) -> list[str]:
    """Every rule the password breaks, in Chinese; empty when it is acceptable."""
    out = []
    if len(password) < policy.min_length:
        out.append(f"密码长度至少 {policy.min_length} 位")
    if character_classes(password) < policy.min_classes:
        out.append(f"密码须包含大写字母、小写字母、数字、特殊字符中的至少 {policy.min_classes} 类")
    if username and username.lower() in password.lower():
        out.append("密码不得包含用户名")
    return out
