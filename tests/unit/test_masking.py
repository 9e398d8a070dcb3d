import pytest

from hpf.crypto.masking import mask_bank_card, mask_email, mask_id_number, mask_name, mask_phone


@pytest.mark.parametrize(("fn", "value", "masked"), [
    (mask_id_number, "110101199003071234", "110101********1234"),
    (mask_id_number, "11010119900307123X", "110101********123X"),
    (mask_id_number, "110101900307123", "110101*****7123"),  # 15-digit old ID
    (mask_id_number, "G1234567", "******67"),  # passport-like: only the tail
    (mask_id_number, "", ""),
    (mask_id_number, None, ""),
    (mask_name, "张三", "张*"),
    (mask_name, "张", "张*"),
    (mask_name, "欧阳娜娜", "欧***"),
    (mask_phone, "13812345678", "138****5678"),
    (mask_phone, "138-1234-5678", "138****5678"),
    (mask_phone, "010-12345678", "*******5678"),  # a landline: only the last 4
    (mask_bank_card, "6222021234567891234", "6222 **** **** 1234"),
    (mask_bank_card, "6222 0212 3456 7891 234", "6222 **** **** 1234"),
    (mask_bank_card, "12345", "**** 2345"),
    (mask_email, "zhangsan@hpf.gov.cn", "z***@hpf.gov.cn"),
])
def test_masks(fn, value, masked):
    assert fn(value) == masked


def test_masks_never_reveal_the_middle():
    card = "6222021234567891234"
    assert "02123456789" not in mask_bank_card(card)
    assert "19900307" not in mask_id_number("110101199003071234")


def test_free_text_masking():
    from hpf.crypto.masking import mask_text

    text = "开户 110101199003071234 手机13812345678 卡 6222021234567891234 金额 1520.83 日期 20260630"
    assert mask_text(text) == ("开户 110101********1234 手机138****5678 卡 6222 **** **** 1234 "
                               "金额 1520.83 日期 20260630")
    assert mask_text("no digits") == "no digits"


def test_log_lines_are_masked():
    import json
    import logging

    from hpf.logs import JsonFormatter, TextFormatter

    record = logging.LogRecord("hpf.test", logging.INFO, __file__, 1, "person %s opened",
                               ("11010119900307123X",), None)
    record.request_id = "r1"
    record.phone = "13812345678"
    line = json.loads(JsonFormatter().format(record))
    assert line["msg"] == "person 110101********123X opened" and line["phone"] == "138****5678"
    assert "11010119900307123X" not in TextFormatter().format(record)
