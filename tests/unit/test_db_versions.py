import pytest

from hpf_adapters.db.versions import (
    OPENGAUSS_PG_COMPAT,
    parse_mysql_family,
    parse_oceanbase_version,
    parse_postgresql_family,
)


@pytest.mark.parametrize("text, product, version, flavor", [
    ("PostgreSQL 15.20 (Debian 15.20-0+deb12u1) on x86_64-pc-linux-gnu, compiled by gcc",
     "postgresql", (15, 20), ""),
    ("PostgreSQL 9.6.24 on aarch64-unknown-linux-gnu", "postgresql", (9, 6, 24), ""),
    # openGauss 5.x: no "PostgreSQL" at all - stock SQLAlchemy raises on this (sqlalchemy#9943)
    ("(openGauss 5.0.2 build 48a25b11) compiled at 2024-05-14 10:26:01 commit 0 last mr  on "
     "x86_64-unknown-linux-gnu, compiled by g++ (GCC) 7.3.0, 64-bit",
     "opengauss", (5, 0, 2), "openGauss"),
    ("(openGauss-lite 7.0.0-RC3 build ) compiled at 2025-01-01", "opengauss", (7, 0, 0),
     "openGauss-lite"),
    # older openGauss and derivatives put the PostgreSQL kernel version first
    ("PostgreSQL 9.2.4 (openGauss 3.0.0 build 02c14696) compiled at 2022-04-01",
     "opengauss", (3, 0, 0), "openGauss"),
    ("PostgreSQL 9.2.4 (MogDB 3.0.4 build cc068866) compiled at 2023", "opengauss", (3, 0, 4),
     "MogDB"),
    ("gaussdb (GaussDB Kernel 505.1.0 build 1e3b7e9c) compiled at 2024", "opengauss",
     (505, 1, 0), "GaussDB"),
])
def test_postgresql_protocol_servers(text, product, version, flavor):
    info = parse_postgresql_family(text)
    assert (info.product, info.version, info.flavor) == (product, version, flavor)
    if product == "opengauss":
        # SQL is generated for the PostgreSQL 9.2.4 kernel, whatever the release number
        assert info.compat_version == OPENGAUSS_PG_COMPAT
    else:
        assert info.compat_version == version


@pytest.mark.parametrize("text, product, version, compat", [
    ("10.11.19-MariaDB-0+deb12u1", "mariadb", (10, 11, 19), (10, 11, 19)),
    ("5.5.5-10.11.6-MariaDB", "mariadb", (10, 11, 6), (10, 11, 6)),
    ("8.0.36-0ubuntu0.22.04.1", "mysql", (8, 0, 36), (8, 0, 36)),
    ("8.4.2", "mysql", (8, 4, 2), (8, 4, 2)),
    # OceanBase reports a MySQL 5.7 face and its own engine version
    ("5.7.25-OceanBase_CE-v4.4.2.0", "oceanbase", (4, 4, 2, 0), (5, 7, 25)),
    ("5.7.25-OceanBase-v3.2.4.1", "oceanbase", (3, 2, 4, 1), (5, 7, 25)),
])
def test_mysql_protocol_servers(text, product, version, compat):
    info = parse_mysql_family(text)
    assert (info.product, info.version, info.compat_version) == (product, version, compat)


def test_oceanbase_behind_a_proxy_that_fakes_mysql_8():
    info = parse_oceanbase_version("4.3.5.1", "8.0.30")
    assert info.product == "oceanbase" and info.version == (4, 3, 5, 1)
    assert info.compat_version == (8, 0, 30)
    assert info.label == "OceanBase 4.3.5.1"


@pytest.mark.parametrize("parse, text", [
    (parse_postgresql_family, "SomethingElse 1.0"),
    (parse_mysql_family, "not-a-version"),
])
def test_unrecognised_version_strings_are_errors(parse, text):
    with pytest.raises(ValueError, match="无法识别"):
        parse(text)
