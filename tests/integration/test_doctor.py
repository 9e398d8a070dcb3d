"""`hpf db doctor` against each real database, including misconfigured ones."""

import dataclasses
import json

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from hpf.cli import cli
from hpf.repositories.database import open_app_database
from hpf.services import system
from tests.conftest import TEST_KEK


def test_doctor_reports_server_adapter_and_capabilities(database, settings):
    report = system.doctor(database, settings)
    assert not report.fatal, report.findings
    assert report.server == database.adapter.server.label
    assert report.adapter == database.adapter.product
    assert set(report.capabilities) >= {"upsert", "skip_locked", "named_lock", "bulk_load",
                                        "returning", "sequences"}
    checks = {f.check: f.level for f in report.findings}
    assert checks["connection"] == "ok" and checks["migrations"] == "ok"
    if database.adapter.product != "sqlite":
        assert checks["session_time_zone"] == "ok"


def test_doctor_cli_json_and_exit_code(database, tmp_path, monkeypatch):
    monkeypatch.setenv("HPF_DATABASE_URL", database.resolved.raw)
    monkeypatch.setenv("HPF_CRYPTO_KEK", TEST_KEK)
    monkeypatch.setenv("HPF_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("HPF_DATABASE_CAPABILITIES", "bulk_load=executemany")
    result = CliRunner().invoke(cli, ["db", "doctor", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["fatal"] is False and report["capabilities"]["bulk_load"] == "executemany"
    assert any(f["check"] == "capabilities" for f in report["findings"])


@pytest.fixture
def misconfigured_database(database, settings):
    """A sibling database created with a non-UTF-8 encoding on the same server."""
    family = database.engine.dialect.name
    if family == "sqlite":
        pytest.skip("n/a: SQLite files are always UTF-8 here")
    name = "hpf_test_badenc"
    create = {"postgresql": f"CREATE DATABASE {name} ENCODING 'SQL_ASCII' LC_COLLATE 'C' "
                            f"LC_CTYPE 'C' TEMPLATE template0",
              "mysql": f"CREATE DATABASE {name} CHARACTER SET latin1"}[family]
    admin = sa.create_engine(database.engine.url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
            conn.exec_driver_sql(create)
    except sa.exc.DBAPIError as exc:
        pytest.skip(f"n/a: cannot create a database here: {exc.orig}")
    url = sa.make_url(database.resolved.raw).set(database=name)
    bad = open_app_database(settings, url.render_as_string(hide_password=False))
    yield bad
    bad.dispose()
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
    admin.dispose()


def test_doctor_fails_on_a_non_utf8_database(misconfigured_database, settings):
    report = system.doctor(misconfigured_database, settings)
    assert report.fatal
    fatal = [f for f in report.findings if f.level == "fatal"]
    assert {f.check for f in fatal} & {"server_encoding", "charset"}
    behind = next(f for f in report.findings if f.check == "migrations")
    assert behind.level == "warning" and "hpf db upgrade" in behind.message


def test_doctor_warns_about_a_generated_secret(database, settings):
    report = system.doctor(database, dataclasses.replace(settings, secret_key_generated=True))
    assert any(f.check == "secret_key" and f.level == "warning" for f in report.findings)


def test_doctor_checks_the_crypto_provider_selftest_and_keys(database, settings, monkeypatch):
    report = system.doctor(database, settings)
    found = {(f.check, f.level) for f in report.findings}
    assert {("crypto_provider", "ok"), ("crypto_selftest", "ok"), ("data_keys", "ok")} <= found
    assert ("master_key", "warning") in found  # the settings use the evaluation key file
    env_settings = dataclasses.replace(settings, crypto=dataclasses.replace(settings.crypto, kek=TEST_KEK))
    assert not any(f.check == "master_key" for f in system.doctor(database, env_settings).findings)
    monkeypatch.setenv("HPF_CRYPTO_SELFTEST_SIMULATE_FAILURE", "sm3-abc")
    failing = system.doctor(database, settings)
    assert failing.fatal and any(f.check == "crypto_selftest" and "sm3-abc" in f.message
                                 for f in failing.findings)
