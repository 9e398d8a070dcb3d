"""Personal data at rest: SM4-GCM column encryption and HMAC-SM3 blind indexes.

A column declared ``EncryptedString(18, context="person.id_number")`` holds
``<key id>$<base64(nonce ‖ ciphertext ‖ tag)>``: a fresh 12-byte nonce per write, the
data key named in clear so any version still in the keyring decrypts it, and the context
as GCM associated data so a ciphertext copied into another column does not decrypt.

Equality on such a column can never match (the nonce is random), so comparing it raises;
look rows up through the blind index column instead::

    select(Person).where(Person.id_number_bidx.in_(blind_index_candidates(
        session, "person.id_number", "110101199003071234")))
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.types import TypeDecorator

from hpf.crypto import core, keys
from hpf.crypto.errors import InvalidCiphertext, InvalidInput, StoredDataInvalid, UnknownKeyId

SEPARATOR = "$"
BLIND_INDEX_BYTES = 16
BLIND_INDEX_LENGTH = 24 + 1 + 2 * BLIND_INDEX_BYTES


def ciphertext_length(max_chars: int) -> int:
    raw = max_chars * 4 + core.GCM_NONCE_SIZE + core.GCM_TAG_SIZE  # UTF-8 is at most 4 bytes/char
    return 24 + 1 + 4 * math.ceil(raw / 3)


def encrypt_text(keyring: keys.Keyring, context: str, value: str) -> str:
    key = keyring.active("pii")
    nonce = core.random_bytes(core.GCM_NONCE_SIZE)
    sealed = core.sm4_gcm_encrypt(key.secret, nonce, value.encode("utf-8"), context.encode())
    return key.key_id + SEPARATOR + base64.b64encode(nonce + sealed).decode("ascii")


def decrypt_text(keyring: keys.Keyring, context: str, stored: str) -> str:
    key_id, sep, body = stored.partition(SEPARATOR)
    if not sep:
        raise InvalidCiphertext("加密字段格式错误（缺少密钥标识）")
    try:
        raw = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidCiphertext("加密字段不是合法的 Base64") from None
    if len(raw) < core.GCM_NONCE_SIZE + core.GCM_TAG_SIZE:
        raise InvalidCiphertext("加密字段过短（已截断）")
    key = keyring.get(key_id)
    plain = core.sm4_gcm_decrypt(key.secret, raw[:core.GCM_NONCE_SIZE], raw[core.GCM_NONCE_SIZE:],
                                 context.encode())
    return plain.decode("utf-8")


def key_id_of(stored: str) -> str:
    return stored.partition(SEPARATOR)[0]


class EncryptedString(TypeDecorator):
    """A string column encrypted with SM4-GCM under the ``pii`` data key."""

    impl = sa.String
    cache_ok = True

    def __init__(self, max_chars: int, *, context: str) -> None:
        super().__init__(ciphertext_length(max_chars))
        self.max_chars = max_chars
        self.context = context

    class comparator_factory(sa.String.Comparator):
        def operate(self, op, *other, **kwargs):
            if op in (sa.sql.operators.is_, sa.sql.operators.is_not):
                return super().operate(op, *other, **kwargs)
            raise TypeError("加密字段不能直接比较或排序：请使用盲索引列查询")

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if not isinstance(value, str):
            raise InvalidInput("加密字段只接受字符串")
        if len(value) > self.max_chars:
            raise InvalidInput(f"{self.context} 超过 {self.max_chars} 个字符")
        return encrypt_text(keys.for_dialect(dialect), self.context, value)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        try:
            return decrypt_text(keys.for_dialect(dialect), self.context, value)
        except (InvalidCiphertext, UnknownKeyId) as exc:
            # The stored row, not the request, is at fault: a 500-class error naming the
            # cause for operators; the specific class stays available as __cause__.
            raise StoredDataInvalid(internal=f"{self.context}: {type(exc).__name__}") from exc


# ---------------------------------------------------------------- blind indexes

def normalize_identifier(value: str) -> str:
    """ID numbers, phones, card numbers: no spaces or dashes, upper case (身份证 'x' → 'X')."""
    return "".join(ch for ch in value if ch not in " -\t").upper()


def blind_index_with(key: keys.DataKey, context: str, value: str,
                     normalize: Callable[[str], str] = normalize_identifier) -> str:
    digest = core.hmac_sm3(key.secret, context.encode() + b"\0" + normalize(value).encode("utf-8"))
    return key.key_id + SEPARATOR + digest[:BLIND_INDEX_BYTES].hex()


def blind_index(keyring: keys.Keyring, context: str, value: str,
                normalize: Callable[[str], str] = normalize_identifier) -> str:
    """The value to store: computed under the active blind-index key."""
    return blind_index_with(keyring.active("blind_index"), context, value, normalize)


def blind_index_candidates(bind, context: str, value: str,
                           normalize: Callable[[str], str] = normalize_identifier) -> list[str]:
    """Values to look for: one per live blind-index key, so look-ups keep working while a
    rotation is still recomputing rows. ``bind``: a Session, Connection or Engine."""
    keyring = _keyring_of(bind)
    return [blind_index_with(k, context, value, normalize) for k in keyring.live("blind_index")]


def _keyring_of(bind) -> keys.Keyring:
    if isinstance(bind, keys.Keyring):
        return bind
    get_bind = getattr(bind, "get_bind", None)
    engine = get_bind() if get_bind else bind
    return keys.for_dialect(engine.dialect)


def _fill_blind_indexes(mapper, connection, target) -> None:
    specs = getattr(target, "__blind_indexes__", None)
    if not specs:
        return
    keyring = keys.for_dialect(connection.dialect)
    for column, (source, context) in specs.items():
        value = getattr(target, source)
        setattr(target, column, None if value is None else blind_index(keyring, context, value))


def install_listeners(base) -> None:
    """Keep every ``__blind_indexes__ = {index_column: (source_attribute, context)}`` current."""
    event.listen(base, "before_insert", _fill_blind_indexes, propagate=True)
    event.listen(base, "before_update", _fill_blind_indexes, propagate=True)


def encrypted_columns(base) -> list[tuple[type, str, EncryptedString]]:
    out = []
    for mapper in base.registry.mappers:
        for column in mapper.columns:
            if isinstance(column.type, EncryptedString):
                out.append((mapper.class_, column.key, column.type))
    return out


def blind_index_specs(base) -> list[tuple[type, str, str, str]]:
    """(model, index column, source attribute, context) for every declared blind index."""
    out = []
    for mapper in base.registry.mappers:
        for index_col, (source, context) in (getattr(mapper.class_, "__blind_indexes__", None) or {}).items():
            out.append((mapper.class_, index_col, source, context))
    return out
