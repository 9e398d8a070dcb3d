"""Personal data encrypted at rest, blind-index look-ups, row MACs, key rotation — on
every database."""

from __future__ import annotations

import contextlib
import dataclasses
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from hpf.crypto import fields, keys
from hpf.crypto.errors import (
    CryptoError,
    IntegrityViolation,
    InvalidCiphertext,
    InvalidTag,
    KeyManagementError,
    StoredDataInvalid,
)
from hpf.repositories.models import (
    IndividualAccount,
    LedgerEntry,
    LedgerVoucher,
    ParamValue,
    Person,
    User,
)
from hpf.services import crypto as service
from hpf.services.crypto import verify_integrity

ID = "110101199003071234"


@pytest.fixture
def session(database):
    keys.for_engine(database.engine).refresh_if_stale()
    with Session(database.engine, expire_on_commit=False) as s:
        yield s
        s.rollback()
    with database.engine.begin() as conn:  # leave the shared database as found
        conn.execute(LedgerEntry.__table__.delete())
        conn.execute(LedgerVoucher.__table__.delete())
        conn.execute(IndividualAccount.__table__.delete())
        conn.execute(Person.__table__.delete())


def add_person(session, n=0, id_number=ID, **extra) -> Person:
    """Insert a person and an account; commit. The returned object keeps its loaded values
    (expire_on_commit=False) and the session holds no transaction afterwards, so raw SQL
    on another connection does not wait for it (SQLite has one writer)."""
    person = Person(name=f"张{n}", id_type="01", id_number=id_number, phone=f"1381234{n:04d}",
                    bank_card="6222021234567891234", **extra)
    session.add(person)
    session.flush()
    account = IndividualAccount(account_no=f"GR{n:08d}", person_id=person.id, status="01",
                                balance=Decimal("1520.83"), opened_on=date(2026, 7, 1))
    session.add(account)
    session.commit()
    person.account = account
    return person


def read(session, fn):
    """Run a read through the session, then end its transaction."""
    try:
        return fn()
    finally:
        session.commit()


def raw_row(database, table, pk):
    with database.engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT * FROM {table} WHERE id = :id"), {"id": pk}).mappings().one()


@contextlib.contextmanager
def staff_user(database, username, **fields):
    """A staff user (and its organisation) created through the ORM, removed afterwards."""
    from hpf.repositories.models import OrgUnit

    keys.for_engine(database.engine).refresh_if_stale()
    code = username[:16].upper()
    with Session(database.engine) as s:
        org = OrgUnit(code=code, name="测试机构", kind="centre")
        s.add(org)
        s.flush()
        s.add(User(username=username, display_name="测试", org_id=org.id, **fields))
        s.commit()
    try:
        yield
    finally:
        with database.engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM user_security WHERE user_id IN "
                                 "(SELECT id FROM app_user WHERE username = :u)"), {"u": username})
            conn.execute(sa.text("DELETE FROM app_user WHERE username = :u"), {"u": username})
            conn.execute(sa.text("DELETE FROM org_unit WHERE code = :c"), {"c": code})


def test_personal_data_is_ciphertext_in_the_database(database, session):
    person = add_person(session)
    raw = raw_row(database, "person", person.id)
    for column, plain in (("id_number", ID), ("phone", "13812340000"), ("bank_card", "6222021234567891234")):
        assert plain not in raw[column]
        assert raw[column].startswith("pii1-") and len(raw[column]) < Person.__table__.c[column].type.length
    assert raw["id_number_bidx"].startswith("bidx1-") and ID not in raw["id_number_bidx"]
    session.expire_all()
    loaded = read(session, lambda: session.get(Person, person.id))
    assert (loaded.id_number, loaded.phone, loaded.bank_card) == (ID, "13812340000", "6222021234567891234")


def test_same_value_encrypts_differently_but_indexes_alike(database, session):
    a, b = add_person(session, 1), add_person(session, 2)
    ra, rb = raw_row(database, "person", a.id), raw_row(database, "person", b.id)
    assert ra["id_number"] != rb["id_number"]  # a fresh nonce every time
    assert ra["id_number_bidx"] == rb["id_number_bidx"]


def test_lookup_by_blind_index(session):
    add_person(session, 1)
    add_person(session, 2, id_number="11010119900307999X")
    wanted = fields.blind_index_candidates(session, "person.id_number", "11010119900307999x")  # lower x
    found = read(session, lambda: session.scalars(
        sa.select(Person).where(Person.id_number_bidx.in_(wanted))).all())
    assert [p.id_number for p in found] == ["11010119900307999X"]
    by_phone = fields.blind_index_candidates(session, "person.phone", "138 1234 0001")
    assert read(session, lambda: session.scalars(
        sa.select(Person.name).where(Person.phone_bidx.in_(by_phone))).all()) == ["张1"]


def test_comparing_an_encrypted_column_is_refused(session):
    with pytest.raises(TypeError, match="盲索引"):
        sa.select(Person).where(Person.id_number == ID)


def load_error(session, model, pk) -> type | None:
    """Load a row; return the class of the cause when it raised StoredDataInvalid (the
    error a request sees: the stored data, not the client, is at fault)."""
    session.expire_all()
    try:
        session.get(model, pk)
    except StoredDataInvalid as exc:
        kind = type(exc.__cause__)
    else:
        kind = None
    session.rollback()
    return kind


def test_ciphertext_moved_to_another_column_or_altered_does_not_decrypt(database, session):
    pid = add_person(session).id
    raw = raw_row(database, "person", pid)
    with database.engine.begin() as conn:  # an insider copies the phone ciphertext over the ID
        conn.execute(sa.text("UPDATE person SET id_number = :v WHERE id = :id"),
                     {"v": raw["phone"], "id": pid})
    assert load_error(session, Person, pid) is InvalidTag
    key_id, _, body = raw["id_number"].partition("$")
    for bad in (f"{key_id}${body[:-4]}AAAA", f"{key_id}$!!!", f"{key_id}$QUJD", "no-separator"):
        with database.engine.begin() as conn:
            conn.execute(sa.text("UPDATE person SET id_number = :v WHERE id = :id"), {"v": bad, "id": pid})
        assert issubclass(load_error(session, Person, pid), InvalidCiphertext)


def refused(session) -> type | None:
    """Commit; return the class of what it raised (the exception is dropped here)."""
    try:
        session.commit()
    except Exception as exc:
        kind = type(exc)
    else:
        kind = None
    session.rollback()
    return kind


def test_an_account_state_tampered_in_sql_is_reported(database, session):
    """(The balance is proven by `hpf ledger check` against the sealed vouchers and the
    detail, not by the row's MAC: it moves set-based; see migration 0013.)"""
    person = add_person(session)
    account = person.account
    assert account.row_mac.startswith("mac1-")
    assert verify_integrity(database).ok
    with database.engine.begin() as conn:
        conn.execute(sa.text("UPDATE individual_account SET status = '05' WHERE id = :id"),
                     {"id": account.id})
    report = verify_integrity(database)
    assert not report.ok
    assert [(f.table, f.key, f.reason) for f in report.findings] == [
        ("individual_account", {"id": account.id}, "完整性校验值不匹配（数据在应用之外被修改）")]
    # Business on the tampered row is refused: re-sealing it would bless the change.
    account_id = account.id
    session.expire(account)
    account.status = "02"
    assert refused(session) is IntegrityViolation
    # The remedy: restore the true value (from the backup or the audit trail) ...
    with database.engine.begin() as conn:
        conn.execute(sa.text("UPDATE individual_account SET status = '01' WHERE id = :id"),
                     {"id": account_id})
    assert verify_integrity(database).ok
    # ... after which business goes on, and the MAC follows every change made through it.
    account = read(session, lambda: session.get(IndividualAccount, account_id))
    account.balance = Decimal("1600.00")
    account.status = "02"
    session.commit()
    assert verify_integrity(database).ok


def test_an_approved_correction_is_resealed_explicitly(database, session):
    account_id = add_person(session).account.id
    with database.engine.begin() as conn:  # an authorised emergency fix made in SQL
        conn.execute(sa.text("UPDATE individual_account SET status = '02' WHERE id = :id"),
                     {"id": account_id})
    assert not verify_integrity(database).ok
    service.reseal_row(database, "individual_account", account_id, reason="工单 2026-118 核准")
    assert verify_integrity(database).ok
    with pytest.raises(CryptoError, match="没有完整性保护的表"):
        service.reseal_row(database, "person_x", 1, reason="x")
    with pytest.raises(CryptoError, match="不存在"):
        service.reseal_row(database, "individual_account", 987654, reason="x")
    with pytest.raises(CryptoError, match="原因"):
        service.reseal_row(database, "individual_account", account_id, reason=" ")


def test_rows_swapped_or_unsealed_are_reported(database, session):
    a, b = add_person(session, 1), add_person(session, 2)
    with database.engine.begin() as conn:
        macs = dict(conn.execute(sa.text("SELECT person_id, row_mac FROM individual_account")).all())
        # Copy one account's (valid) MAC onto another: the MAC covers the account number.
        conn.execute(sa.text("UPDATE individual_account SET row_mac = :m WHERE person_id = :p"),
                     {"m": macs[a.id], "p": b.id})
        conn.execute(sa.text("UPDATE param_value SET row_mac = NULL "
                             "WHERE param_code = 'interest.rate.current_year'"))
    report = verify_integrity(database)
    reasons = sorted({f.reason for f in report.findings})
    assert reasons == ["完整性校验值不匹配（数据在应用之外被修改）", "缺少完整性校验值"]
    assert {f.table for f in report.findings} == {"individual_account", "param_value"}
    only = verify_integrity(database, ["individual_account"])
    assert {t.table for t in only.tables} == {"individual_account"}
    service.prepare(database)  # the operator re-seals the migrated reference rows
    with database.engine.begin() as conn:
        conn.execute(sa.text("UPDATE individual_account SET row_mac = :m WHERE person_id = :p"),
                     {"m": macs[b.id], "p": b.id})
    assert verify_integrity(database).ok


def test_user_and_parameter_rows_are_sealed(database):
    with Session(database.engine) as s:
        macs = s.scalars(sa.select(ParamValue.row_mac)).all()
        assert macs and all(macs)
    with database.engine.begin() as conn:  # a DBA lowers the interest rate
        conn.execute(sa.text("UPDATE param_value SET value = '0.001' "
                             "WHERE param_code = 'interest.rate.current_year' AND value = '0.015'"))
    report = verify_integrity(database, ["param_value"])
    assert len(report.findings) == 1 and report.findings[0].table == "param_value"
    with database.engine.begin() as conn:
        conn.execute(sa.text("UPDATE param_value SET value = '0.015' "
                             "WHERE param_code = 'interest.rate.current_year' AND value = '0.001'"))
    assert verify_integrity(database).ok
    assert User.__integrity__ == ("username", "org_id", "password_hash", "active")


def test_unknown_table_is_a_clear_error(database):
    with pytest.raises(CryptoError, match="没有完整性保护的表"):
        verify_integrity(database, ["nope"])


def test_rotation_keeps_old_data_readable_then_rewrites_it(database, session):
    ring = keys.for_engine(database.engine)
    people = [add_person(session, n) for n in range(7)]
    old_pii = ring.active("pii").key_id
    report = service.rotate_keys(database, ["pii", "blind_index", "integrity"], new_keys=True, batch=3)
    assert len(report.new_keys) == 3 and not report.refused and report.remaining == {}
    assert report.rewritten["person.id_number"] == 7
    new_pii = ring.active("pii").key_id
    assert new_pii != old_pii and ring.get(old_pii).status == "retired"
    raw = raw_row(database, "person", people[0].id)
    assert raw["id_number"].startswith(new_pii + "$")
    session.expire_all()
    assert read(session, lambda: session.get(Person, people[3].id).id_number) == ID
    assert read(session, lambda: session.scalars(sa.select(Person).where(Person.id_number_bidx.in_(
        fields.blind_index_candidates(session, "person.id_number", ID)))).all())
    assert verify_integrity(database).ok
    # Nothing refers to the old keys any more: they can be destroyed.
    assert service.references(database, old_pii) == 0
    service.destroy_retired_key(database, old_pii)
    with pytest.raises(KeyManagementError, match="仍在使用"):
            service.destroy_retired_key(database, new_pii)


def test_old_ciphertexts_stay_readable_until_rotated(database, session):
    ring = keys.for_engine(database.engine)
    person = add_person(session)
    old = ring.active("pii").key_id
    ring.rotate(["pii"])  # a new key, data not yet re-encrypted
    session.expire_all()
    assert read(session, lambda: session.get(Person, person.id).id_number) == ID
    assert raw_row(database, "person", person.id)["id_number"].startswith(old + "$")
    with pytest.raises(KeyManagementError, match="仍有"):
            service.destroy_retired_key(database, old)
    assert service.pending_rows(database) == {"person.id_number": 1, "person.phone": 1, "person.bank_card": 1}
    service.rotate_keys(database, ["pii"], new_keys=False)
    assert service.pending_rows(database) == {}


def test_rotation_refuses_to_reseal_a_tampered_row(database, session):
    add_person(session, 1)
    with database.engine.begin() as conn:
        conn.execute(sa.text("UPDATE individual_account SET status = '05' WHERE account_no = 'GR00000001'"))
    report = service.rotate_keys(database, ["integrity"])
    assert [f.reason for f in report.refused] == ["完整性校验值不匹配（数据在应用之外被修改）"]
    assert not verify_integrity(database).ok  # still reported, not laundered by the new key
    with database.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM individual_account WHERE account_no = 'GR00000001'"))


def test_wrong_master_key_is_a_clear_error(database, tmp_path):
    from hpf.config import CryptoSettings

    wrong = keys.Keyring(database.engine, lambda: keys.SoftwareMasterKey(bytes(16), "测试"))
    with pytest.raises(KeyManagementError, match="主密钥无法解开数据密钥"):
        wrong.reload()
    with pytest.raises(KeyManagementError, match="主密钥文件不存在"):
        keys.load_master_key(CryptoSettings(kek_source="file", kek_file=str(tmp_path / "none")),
                             str(tmp_path))
    bad = tmp_path / "bad.key"
    bad.write_text("not hex")
    with pytest.raises(KeyManagementError, match="无效"):
        keys.load_master_key(CryptoSettings(kek_file=str(bad)), str(tmp_path))
    with pytest.raises(KeyManagementError, match="HPF_CRYPTO_KEK"):
        keys.load_master_key(CryptoSettings(kek_source="env"), str(tmp_path))


def test_rewrap_under_a_new_master_key(database, session):
    ring = keys.for_engine(database.engine)
    person = add_person(session)
    old_master = ring.master
    new_master = keys.SoftwareMasterKey(bytes(range(16)), "测试新主密钥")
    try:
        assert ring.rewrap(new_master) >= 3
        fresh = keys.Keyring(database.engine, lambda: new_master)
        fresh.reload()
        assert {k.key_id for k in fresh.all_keys()} == {k.key_id for k in ring.all_keys()}
        session.expire_all()
        assert read(session, lambda: session.get(Person, person.id).id_number) == ID
    finally:
        ring.rewrap(old_master)


def test_keys_are_created_once_even_when_asked_twice(database):
    ring = keys.for_engine(database.engine)
    assert ring.ensure() == []
    other = keys.Keyring(database.engine, lambda: ring.master)
    assert other.ensure() == []
    assert {k.purpose for k in other.all_keys()} == set(keys.PURPOSES)


def test_settings_choose_the_master_key_source(tmp_path):
    from hpf.config import CryptoSettings

    env = keys.load_master_key(CryptoSettings(kek="00112233445566778899aabbccddeeff"), str(tmp_path))
    assert env.description == "环境变量 HPF_CRYPTO_KEK"
    generated = keys.load_master_key(CryptoSettings(), str(tmp_path))
    assert (tmp_path / "kek.key").stat().st_mode & 0o777 == 0o600
    again = keys.load_master_key(CryptoSettings(), str(tmp_path))
    assert generated.kek_id == again.kek_id != env.kek_id
    assert dataclasses.replace(CryptoSettings(), sdf_library="").kek_source == "auto"


def test_a_default_filled_field_is_covered_by_the_mac(database):
    """``active`` is left to its column default; the MAC must cover the value stored."""
    with staff_user(database, "mac-test", password_hash="x"):
        assert verify_integrity(database, ["app_user"]).ok


def test_unknown_key_id_is_a_clear_error(database, session):
    from hpf.crypto.errors import UnknownKeyId

    pid = add_person(session).id
    raw = raw_row(database, "person", pid)
    body = raw["id_number"].partition("$")[2]
    with database.engine.begin() as conn:
        conn.execute(sa.text("UPDATE person SET id_number = :v WHERE id = :id"),
                     {"v": f"pii9-abcdef${body}", "id": pid})
    assert load_error(session, Person, pid) is UnknownKeyId


def test_login_rehashes_an_old_password_hash_and_keeps_the_row_sealed(database):
    from datetime import UTC, datetime

    from hpf.repositories.uow import UnitOfWork
    from hpf.security import passwords
    from hpf.services.auth import authenticate

    old = passwords.hash_password("Old@2026", iterations=10_000)
    with staff_user(database, "rehash-test", active=True, password_hash=old):
        authenticate(UnitOfWork(database), "rehash-test", "Old@2026", datetime.now(UTC))
        with database.engine.connect() as conn:
            stored = conn.execute(sa.text("SELECT password_hash FROM app_user WHERE username = 'rehash-test'")
                                  ).scalar_one()
        assert stored.startswith(f"pbkdf2_sm3${passwords.current_iterations()}$")
        assert verify_integrity(database, ["app_user"]).ok


def post_remittance(session, account, voucher_no="V2026110001", amount=Decimal("1520.83")):
    """A balanced voucher as the collection module will post it: Dr 101 / Cr 201."""
    voucher = LedgerVoucher(voucher_no=voucher_no, business_date=date(2026, 11, 20), business_type="01",
                            summary="汇缴 2026-11", created_by="teller01")
    session.add(voucher)
    session.flush()
    session.add_all([
        LedgerEntry(voucher_id=voucher.id, line_no=1, subject_code="101", debit=amount),
        LedgerEntry(voucher_id=voucher.id, line_no=2, subject_code="201", credit=amount,
                    account_id=account.id),
    ])
    session.commit()
    return voucher


def test_ledger_entries_tampered_in_sql_are_reported(database, session):
    person = add_person(session)
    voucher = post_remittance(session, person.account)
    assert verify_integrity(database, ["ledger_voucher", "ledger_entry"]).ok
    with database.engine.begin() as conn:
        conn.execute(sa.text("UPDATE ledger_entry SET credit = 15208.30 "
                             "WHERE voucher_id = :v AND line_no = 2"),
                     {"v": voucher.id})
        conn.execute(sa.text("UPDATE ledger_voucher SET business_date = :d WHERE id = :v"),
                     {"d": date(2026, 10, 31), "v": voucher.id})
    report = verify_integrity(database, ["ledger_voucher", "ledger_entry"])
    assert sorted(f.table for f in report.findings) == ["ledger_entry", "ledger_voucher"]
    assert all(f.reason == "完整性校验值不匹配（数据在应用之外被修改）" for f in report.findings)


def test_set_based_writes_are_sealed_with_seal_rows(database, session):
    from hpf.crypto.integrity import seal_rows

    person = add_person(session)
    voucher = post_remittance(session, person.account, "V2026110002")
    rows = [{"voucher_id": voucher.id, "line_no": n, "subject_code": "41101",
             "debit": Decimal("0.01") * n, "credit": Decimal("0"), "account_id": None} for n in range(3, 503)]
    adapter = database.adapter  # detected outside the transaction (SQLite: one connection writes)
    with database.engine.begin() as conn:
        adapter.bulk_insert(conn, LedgerEntry.__table__, seal_rows(conn, LedgerEntry, rows))
    report = verify_integrity(database, ["ledger_entry"])
    assert report.ok and next(t for t in report.tables if t.table == "ledger_entry").rows == 502


def test_a_password_hash_swapped_in_sql_does_not_let_anyone_in(database):
    from datetime import UTC, datetime

    from hpf.repositories.uow import UnitOfWork
    from hpf.security import passwords
    from hpf.services.auth import authenticate

    good = passwords.hash_password("Good@2026", iterations=10_000)
    with staff_user(database, "swap-test", active=True, password_hash=good):
        with database.engine.begin() as conn:  # an insider plants a hash of a password they know
            conn.execute(sa.text("UPDATE app_user SET password_hash = :h WHERE username = 'swap-test'"),
                         {"h": passwords.hash_password("Evil@2026", iterations=10_000)})
        with pytest.raises(IntegrityViolation):
            authenticate(UnitOfWork(database), "swap-test", "Evil@2026", datetime.now(UTC))
        findings = verify_integrity(database, ["app_user"]).findings
        assert [f.reason for f in findings] == ["完整性校验值不匹配（数据在应用之外被修改）"]


def test_an_undecryptable_person_is_a_finding_not_an_abort(database, session):
    pid = add_person(session, 1).id
    add_person(session, 2)
    raw = raw_row(database, "person", pid)
    with database.engine.begin() as conn:  # the phone ciphertext copied over the ID number
        conn.execute(sa.text("UPDATE person SET id_number = :v WHERE id = :id"),
                     {"v": raw["phone"], "id": pid})
    report = verify_integrity(database)
    assert [(f.table, f.key, f.reason) for f in report.findings] == [
        ("person", {"id": pid}, "加密字段 id_number 无法解密（InvalidTag）")]
    assert {t.table for t in report.tables} >= {"person", "individual_account", "app_user"}
    rotation = service.rotate_keys(database, ["integrity"])
    assert [f.key for f in rotation.refused] == [{"id": pid}]
    with database.engine.begin() as conn:  # restored from the backup
        conn.execute(sa.text("UPDATE person SET id_number = :v WHERE id = :id"),
                     {"v": raw["id_number"], "id": pid})
    assert verify_integrity(database).ok
