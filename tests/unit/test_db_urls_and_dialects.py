"""URL forms, capability defaults and SQL of the adapters, without a server."""

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from hpf.domain.errors import ConfigError
from hpf_adapters.db import ADAPTERS, UnsupportedDatabaseURL, resolve_url
from hpf_adapters.db.capabilities import BulkLoad, LockStyle, UpsertStyle
from hpf_adapters.db.mysql import HpfMySQLDialect_pymysql
from hpf_adapters.db.opengauss import OpenGaussUpsert
from hpf_adapters.db.postgresql import HpfPGDialect_psycopg2
from hpf_adapters.db.versions import ServerInfo


@pytest.mark.parametrize("url, declared, driver", [
    ("sqlite:///var/hpf.sqlite3", "sqlite", "sqlite+pysqlite"),
    ("postgresql://u:p@h:5432/hpf", "postgresql", "hpf_postgresql+psycopg2"),
    ("postgres://u@h/hpf", "postgresql", "hpf_postgresql+psycopg2"),
    ("opengauss://gaussdb:Enmo%40123@h:5432/hpf", "opengauss", "hpf_postgresql+psycopg2"),
    ("opengauss+psycopg2://u@h/hpf", "opengauss", "hpf_postgresql+psycopg2"),
    ("mysql://root@h:3306/hpf", "mysql", "hpf_mysql+pymysql"),
    ("mariadb://root@h/hpf", "mariadb", "hpf_mysql+pymysql"),
    ("oceanbase://root%40test:@h:2881/hpf", "oceanbase", "hpf_mysql+pymysql"),
    ("mysql+oceanbase://root%40test@h:2881/hpf", "oceanbase", "hpf_mysql+pymysql"),
])
def test_accepted_url_forms(url, declared, driver):
    resolved = resolve_url(url)
    assert resolved.declared == declared
    assert resolved.url.drivername == driver


def test_oceanbase_tenant_user_survives_and_password_is_hidden():
    resolved = resolve_url("oceanbase://root%40test:s3cret@h:2881/hpf")
    assert resolved.url.username == "root@test"
    assert "s3cret" not in resolved.display and "***" in resolved.display
    assert resolved.display.startswith("oceanbase://")


@pytest.mark.parametrize("url", ["oracle://u@h/db", "db2://x", "justtext", "mssql+pyodbc://h/d"])
def test_unknown_scheme_names_the_supported_ones(url):
    with pytest.raises(UnsupportedDatabaseURL) as err:
        resolve_url(url)
    for scheme in ("sqlite://", "postgresql://", "opengauss://", "mysql://", "oceanbase://"):
        assert scheme in err.value.message


def test_url_without_database_name_is_refused():
    with pytest.raises(UnsupportedDatabaseURL, match="缺少数据库名"):
        resolve_url("postgresql://u@h:5432")


def info(product, version):
    return ServerInfo(product, version, "x", version)


@pytest.mark.parametrize("product, version, expect", [
    ("postgresql", (15, 2), dict(upsert=UpsertStyle.ON_CONFLICT, skip_locked=True,
                                 named_lock=LockStyle.ADVISORY, bulk_load=BulkLoad.COPY,
                                 returning=True, sequences=True)),
    ("opengauss", (5, 0, 2), dict(upsert=UpsertStyle.ON_DUPLICATE_KEY, skip_locked=True,
                                  named_lock=LockStyle.ADVISORY, bulk_load=BulkLoad.COPY)),
    ("opengauss", (2, 1, 0), dict(skip_locked=False)),
    ("mysql", (8, 0, 36), dict(upsert=UpsertStyle.ON_DUPLICATE_KEY, skip_locked=True,
                               named_lock=LockStyle.GET_LOCK, bulk_load=BulkLoad.MULTIROW,
                               returning=False, sequences=False)),
    ("mysql", (5, 7, 44), dict(skip_locked=False)),
    ("mariadb", (10, 11, 6), dict(skip_locked=True, returning=True, sequences=True)),
    ("mariadb", (10, 5, 20), dict(skip_locked=False, returning=True, sequences=True)),
    ("mariadb", (10, 2, 44), dict(skip_locked=False, returning=False, sequences=False)),
    ("oceanbase", (4, 4, 2, 0), dict(named_lock=LockStyle.TABLE, skip_locked=False,
                                     returning=False, sequences=False)),
    ("sqlite", (3, 40, 1), dict(upsert=UpsertStyle.ON_CONFLICT, returning=True,
                                named_lock=LockStyle.TABLE)),
    ("sqlite", (3, 22, 0), dict(upsert=UpsertStyle.EMULATED, returning=False)),
])
def test_capabilities_follow_product_and_version(product, version, expect):
    caps = ADAPTERS[product].default_capabilities(info(product, version))
    for key, value in expect.items():
        assert getattr(caps, key) == value, key


def test_opengauss_refuses_serializable():
    caps = ADAPTERS["opengauss"].default_capabilities(info("opengauss", (5, 0, 0)))
    assert "SERIALIZABLE" not in caps.isolation_levels


def test_capability_overrides():
    caps = ADAPTERS["postgresql"].default_capabilities(info("postgresql", (15,)))
    changed = caps.with_overrides("skip_locked=off, bulk_load=multirow,upsert=emulated")
    assert (changed.skip_locked, changed.bulk_load, changed.upsert) == (
        False, BulkLoad.MULTIROW, UpsertStyle.EMULATED)
    assert changed.named_lock is LockStyle.ADVISORY  # untouched


@pytest.mark.parametrize("spec, message", [
    ("skip_lock=off", "可用"),
    ("bulk_load=turbo", "copy, multirow, executemany"),
    ("returning=perhaps", "on 或 off"),
    ("max_bind_params=5", "可用"),
])
def test_bad_capability_overrides(spec, message):
    caps = ADAPTERS["postgresql"].default_capabilities(info("postgresql", (15,)))
    with pytest.raises(ConfigError, match=message):
        caps.with_overrides(spec)


def test_opengauss_upsert_sql():
    t = sa.table("acct", sa.column("no"), sa.column("balance"), sa.column("name"))
    stmt = OpenGaussUpsert(t, ["balance", "name"]).values([{"no": 1, "balance": 2, "name": "x"}])
    sql = str(stmt.compile(dialect=postgresql.psycopg2.dialect()))
    assert sql.startswith("INSERT INTO acct (no, balance, name) VALUES")
    assert sql.endswith("ON DUPLICATE KEY UPDATE balance = EXCLUDED.balance, "
                        "name = EXCLUDED.name")
    nothing = OpenGaussUpsert(t, []).values([{"no": 1, "balance": 2, "name": "x"}])
    assert str(nothing.compile(dialect=postgresql.psycopg2.dialect())).endswith(
        "ON DUPLICATE KEY UPDATE NOTHING")


class _FakeConnection:
    def __init__(self, version):
        self.version = version

    def exec_driver_sql(self, sql):
        assert "version()" in sql
        return self

    def scalar(self):
        return self.version


def test_pg_dialect_understands_opengauss_version():
    dialect = HpfPGDialect_psycopg2()
    text = "(openGauss 5.0.2 build 48a25b11) compiled at 2024-05-14 on x86_64"
    assert dialect._get_server_version_info(_FakeConnection(text)) == (9, 2, 4)
    assert dialect.hpf_server.label == "openGauss 5.0.2"


def test_mysql_dialect_reads_oceanbase_as_mysql_57():
    dialect = HpfMySQLDialect_pymysql()
    assert dialect._parse_server_version("5.7.25-OceanBase_CE-v4.4.2.0")[:3] == (5, 7, 25)
    assert not dialect.is_mariadb
    assert dialect.hpf_server.label == "OceanBase 4.4.2.0"
    assert dialect._parse_server_version("10.11.19-MariaDB-0+deb12u1")[:3] == (10, 11, 19)
    assert dialect.is_mariadb


@pytest.mark.parametrize("url, server, warned", [
    ("mysql://root@h/hpf", "10.11.19-MariaDB", None),             # mysql:// covers MariaDB
    ("mariadb://root@h/hpf", "10.11.19-MariaDB", None),
    ("mysql://root@h/hpf", "5.7.25-OceanBase_CE-v4.4.2.0", "请使用 oceanbase://"),
    ("mariadb://root@h/hpf", "8.0.36", "URL 声明为 mariadb"),
    ("opengauss://u@h/hpf", "PostgreSQL 15.2", "URL 声明为 opengauss"),
    ("postgresql://u@h/hpf", "(openGauss 5.0.2 build 1) compiled", None),  # same session setup
])
def test_doctor_compares_the_url_scheme_with_the_server(url, server, warned):
    from hpf.config import DatabaseSettings
    from hpf_adapters.db import Database
    from hpf_adapters.db.versions import parse_mysql_family, parse_postgresql_family

    resolved = resolve_url(url)
    parse = parse_mysql_family if "mysql" in resolved.url.drivername else parse_postgresql_family
    info_ = parse(server)
    cls = ADAPTERS[info_.product]
    db = Database(resolved, None, DatabaseSettings(), None)
    db._adapter = cls(None, info_, cls.default_capabilities(info_), None)
    findings = db.url_findings()
    if warned is None:
        assert findings == []
    else:
        assert len(findings) == 1 and warned in findings[0].message


def test_a_fast_path_the_product_lacks_is_a_configuration_error():
    from hpf_adapters.db.sqlite import SQLiteAdapter
    from hpf_adapters.db.versions import parse_sqlite

    server = parse_sqlite("3.40.1")
    adapter = SQLiteAdapter(None, server, SQLiteAdapter.default_capabilities(server), None)
    copy = adapter.with_capabilities("bulk_load=copy")
    with pytest.raises(ConfigError, match=r"SQLite 3\.40\.1 不支持 bulk_load=copy"):
        copy.bulk_insert(None, sa.table("t", sa.column("a")), [{"a": 1}])
    advisory = adapter.with_capabilities("named_lock=advisory")
    with pytest.raises(ConfigError, match="named_lock=advisory"), advisory.named_lock(None, "x"):
        pass
