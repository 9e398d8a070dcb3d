"""Server identification from version strings.

Stock SQLAlchemy dialects misread the domestic databases: the PostgreSQL dialect raises
"Could not determine version" on ``(openGauss 5.0.2 build 48a25b11) compiled at ...``
(sqlalchemy#9943), and the MySQL dialect takes ``5.7.25-OceanBase_CE-v4.4.2.0`` for a
MySQL 5.7.25. These functions return both the real product/version (for capabilities and
the doctor) and the compatibility version SQLAlchemy should use for SQL generation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# openGauss 2.x-7.x kernels descend from PostgreSQL 9.2.4; SQLAlchemy must generate SQL for
# that level (no IDENTITY columns etc.), whatever number openGauss puts on its own release.
OPENGAUSS_PG_COMPAT = (9, 2, 4)

_PG_DERIVATIVES = ("openGauss", "MogDB", "GaussDB", "Vastbase", "PanWeiDB")
_PG_DERIVED = re.compile(
    r"\((?P<flavor>(?:" + "|".join(_PG_DERIVATIVES) + r")[\w-]*)(?: Kernel)?\s+V?(?P<ver>\d+(?:\.\d+)*)"
)
_PG = re.compile(r"PostgreSQL\s+(?P<ver>\d+(?:\.\d+)*)")
_OB = re.compile(r"^(?P<compat>\d+(?:\.\d+)*)-(?P<flavor>OceanBase[\w]*)-v(?P<ver>\d+(?:\.\d+)*)")
_MARIADB = re.compile(r"(?:^5\.5\.5-)?(?P<ver>\d+(?:\.\d+)*)-MariaDB")
_MYSQL = re.compile(r"^(?P<ver>\d+(?:\.\d+)*)")


@dataclass(frozen=True)
class ServerInfo:
    product: str                  # sqlite | postgresql | opengauss | mysql | mariadb | oceanbase
    version: tuple[int, ...]      # the product's own release number
    version_string: str
    compat_version: tuple[int, ...]  # what SQLAlchemy should believe it talks to
    flavor: str = ""              # e.g. openGauss-lite, MogDB, OceanBase_CE

    @property
    def version_text(self) -> str:
        return ".".join(str(n) for n in self.version)

    @property
    def label(self) -> str:
        names = {"sqlite": "SQLite", "postgresql": "PostgreSQL", "opengauss": "openGauss",
                 "mysql": "MySQL", "mariadb": "MariaDB", "oceanbase": "OceanBase"}
        name = self.flavor if self.flavor and self.product == "opengauss" else names[self.product]
        return f"{name} {self.version_text}"


def _nums(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".") if part.isdigit())


def parse_postgresql_family(version_string: str) -> ServerInfo:
    """Parse ``SELECT version()`` of PostgreSQL, openGauss and its derivatives."""
    derived = _PG_DERIVED.search(version_string)
    if derived:
        return ServerInfo("opengauss", _nums(derived["ver"]), version_string,
                          OPENGAUSS_PG_COMPAT, derived["flavor"])
    match = _PG.search(version_string)
    if not match:
        raise ValueError(f"无法识别的 PostgreSQL 协议数据库版本: {version_string!r}")
    version = _nums(match["ver"])
    return ServerInfo("postgresql", version, version_string, version)


def parse_mysql_family(version_string: str) -> ServerInfo:
    """Parse ``SELECT VERSION()`` of MySQL, MariaDB and OceanBase (MySQL mode)."""
    ob = _OB.search(version_string)
    if ob:
        return ServerInfo("oceanbase", _nums(ob["ver"]), version_string,
                          _nums(ob["compat"]), ob["flavor"])
    maria = _MARIADB.search(version_string)
    if maria:
        version = _nums(maria["ver"])
        return ServerInfo("mariadb", version, version_string, version)
    match = _MYSQL.search(version_string)
    if not match:
        raise ValueError(f"无法识别的 MySQL 协议数据库版本: {version_string!r}")
    version = _nums(match["ver"])
    return ServerInfo("mysql", version, version_string, version)


def parse_oceanbase_version(ob_version: str, mysql_version_string: str) -> ServerInfo:
    """OBProxy can fake ``mysql_version``; then ``SELECT OB_VERSION()`` tells the truth."""
    compat = _MYSQL.search(mysql_version_string)
    return ServerInfo("oceanbase", _nums(ob_version.strip()),
                      f"{mysql_version_string} (OB_VERSION {ob_version.strip()})",
                      _nums(compat["ver"]) if compat else (5, 7, 25), "OceanBase")


def parse_sqlite(version_string: str) -> ServerInfo:
    version = _nums(version_string)
    return ServerInfo("sqlite", version, version_string, version)
