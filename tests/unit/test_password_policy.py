import pytest

from hpf.domain.password_policy import PasswordPolicy, character_classes, problems

POLICY = PasswordPolicy()


@pytest.mark.parametrize(("password", "expected"), [
    ("Hpf@2026x", []),
    ("hpf2026abc", ["密码须包含大写字母、小写字母、数字、特殊字符中的至少 3 类"]),
    ("Ab1!", ["密码长度至少 8 位"]),
    ("Teller01@2026", ["密码不得包含用户名"]),
    ("aaaaaaaa", ["密码须包含大写字母、小写字母、数字、特殊字符中的至少 3 类"]),
])
def test_rules(password, expected):
    assert problems(password, "teller01", POLICY) == expected


def test_classes_are_counted_once_each():
    assert character_classes("aA1!") == 4 and character_classes("密码密码1234") == 2  # CJK counts as other
    assert problems("abcdefgh", "x", PasswordPolicy(min_classes=1)) == []
