"""Database adapters: URL forms, engines, server detection, capabilities, portable SQL paths.

Use ``open_database(url, settings)``; it returns a ``Database`` whose ``adapter`` is chosen
from the server actually reached (a ``postgresql://`` URL that turns out to be openGauss
gets the openGauss adapter, and the doctor says so).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import registry
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from hpf.domain.errors import ConfigError, ServiceUnavailable
from hpf_adapters.db.base import Adapter, Finding, LockTimeout
from hpf_adapters.db.capabilities import BulkLoad, Capabilities, LockStyle, UpsertStyle
from hpf_adapters.db.mysql import MariaDBAdapter, MySQLAdapter
from hpf_adapters.db.oceanbase import OceanBaseAdapter
from hpf_adapters.db.opengauss import OpenGaussAdapter
from hpf_adapters.db.postgresql import PostgreSQLAdapter
from hpf_adapters.db.sqlite import SQLiteAdapter
from hpf_adapters.db.support import NAMING_CONVENTION, SupportTables, UtcDateTime
from hpf_adapters.db.versions import ServerInfo, parse_oceanbase_version, parse_sqlite

__all__ = [
    "NAMING_CONVENTION", "Adapter", "BulkLoad", "Capabilities", "Database", "Finding",
    "LockStyle", "LockTimeout", "ServerInfo", "SupportTables", "UnsupportedDatabaseURL",
    "UpsertStyle", "UtcDateTime", "first_line", "open_database", "resolve_url",
]

registry.register("hpf_postgresql.psycopg2", "hpf_adapters.db.postgresql", "HpfPGDialect_psycopg2")
registry.register("hpf_mysql.pymysql", "hpf_adapters.db.mysql", "HpfMySQLDialect_pymysql")

_PG = "hpf_postgresql+psycopg2"
_MY = "hpf_mysql+pymysql"
# scheme as written by the operator -> (declared product, SQLAlchemy driver name)
SCHEMES: dict[str, tuple[str, str]] = {
    "sqlite": ("sqlite", "sqlite+pysqlite"),
    "sqlite+pysqlite": ("sqlite", "sqlite+pysqlite"),
    "postgresql": ("postgresql", _PG),
    "postgres": ("postgresql", _PG),
    "postgresql+psycopg2": ("postgresql", _PG),
    "opengauss": ("opengauss", _PG),
    "opengauss+psycopg2": ("opengauss", _PG),
    "mysql": ("mysql", _MY),
    "mysql+pymysql": ("mysql", _MY),
    "mariadb": ("mariadb", _MY),
    "mariadb+pymysql": ("mariadb", _MY),
    "oceanbase": ("oceanbase", _MY),
    "oceanbase+pymysql": ("oceanbase", _MY),
    "mysql+oceanbase": ("oceanbase", _MY),  # the form sqlalchemy-oceanbase documents
}
ADAPTERS: dict[str, type[Adapter]] = {
    "sqlite": SQLiteAdapter,
    "postgresql": PostgreSQLAdapter,
    "opengauss": OpenGaussAdapter,
    "mysql": MySQLAdapter,
    "mariadb": MariaDBAdapter,
    "oceanbase": OceanBaseAdapter,
}
# Schemes that name a wire protocol rather than one product (mysql:// serves MariaDB too).
PROTOCOL_SCHEMES = {"mysql", "postgresql"}
SUPPORTED = "sqlite://, postgresql://, opengauss://, mysql://, mariadb://, oceanbase://"


class UnsupportedDatabaseURL(ConfigError):
    code = "unsupported_database_url"


class DatabaseUnreachable(ServiceUnavailable):
    code = "database_unavailable"
    message = "数据库暂不可用，请稍后重试"


@dataclass(frozen=True)
class ResolvedURL:
    url: URL            # what SQLAlchemy connects with
    declared: str       # product named by the scheme
    display: str        # for logs and messages: the password hidden
    raw: str            # as the operator wrote it (holds the password: never log it)


def resolve_url(raw: str) -> ResolvedURL:
    """Map an operator's URL to a driver URL; unknown schemes name the supported ones."""
    scheme = raw.split("://", 1)[0].lower() if "://" in raw else ""
    if scheme not in SCHEMES:
        shown = scheme or raw[:20]
        raise UnsupportedDatabaseURL(f"不支持的数据库 URL 协议 '{shown}'；支持: {SUPPORTED}")
    declared, driver = SCHEMES[scheme]
    try:
        url = make_url(raw).set(drivername=driver)
    except ArgumentError as exc:
        raise UnsupportedDatabaseURL(f"数据库 URL 格式错误: {exc}") from None
    if declared != "sqlite" and not url.database:
        raise UnsupportedDatabaseURL("数据库 URL 缺少数据库名，例如 postgresql://user@host:5432/hpf")
    display = url.set(drivername=scheme).render_as_string(hide_password=True)
    return ResolvedURL(url, declared, display, raw)


class Database:
    """An engine plus the adapter of the server it reaches (detected on first use)."""

    def __init__(self, resolved: ResolvedURL, engine: Engine, settings: Any,
                 support: SupportTables | None) -> None:
        self.resolved = resolved
        self.engine = engine
        self._settings = settings
        self._support = support
        self._adapter: Adapter | None = None
        self._lock = threading.Lock()

    @property
    def display_url(self) -> str:
        return self.resolved.display

    @property
    def adapter(self) -> Adapter:
        if self._adapter is None:
            with self._lock:
                if self._adapter is None:
                    self._adapter = self._detect()
        return self._adapter

    @property
    def caps(self) -> Capabilities:
        return self.adapter.caps

    def url_findings(self) -> list[Finding]:
        """Doctor findings about the URL scheme against the server actually reached."""
        declared, server = self.resolved.declared, self.adapter.server
        if declared == server.product:
            return []
        # The engine was set up for the declared product; the server's own adapter may want
        # another session setup (OceanBase's timeouts), which only its own scheme turns on.
        if (ADAPTERS[declared].engine_options(self._settings)
                != ADAPTERS[server.product].engine_options(self._settings)):
            return [Finding("warning", "url_scheme",
                            f"服务器为 {server.label}，请使用 {server.product}:// URL 以启用其会话设置")]
        if declared not in PROTOCOL_SCHEMES:  # a product-specific scheme, another product
            return [Finding("warning", "url_scheme",
                            f"URL 声明为 {declared}，实际服务器为 {server.label}")]
        return []

    def check_connection(self) -> None:
        """Raise ``DatabaseUnreachable`` with a one-line reason if the server can't be used."""
        try:
            # A declared reader: on SQLite it must not wait for the write lock, since the
            # first use of ``adapter`` may come in the middle of another connection's
            # transaction (a unit of work's first repository that needs the adapter).
            with self.engine.connect().execution_options(hpf_read_only=True) as conn:
                conn.exec_driver_sql("SELECT 1")
        except DBAPIError as exc:
            raise DatabaseUnreachable(
                internal=f"无法连接数据库 {self.display_url}: {first_line(exc)}") from None

    def _detect(self) -> Adapter:
        self.check_connection()
        with self.engine.connect().execution_options(hpf_read_only=True) as conn:
            server = _server_info(conn, self.resolved.declared)
        cls = ADAPTERS[server.product]
        caps = cls.default_capabilities(server)
        if self._settings.capabilities:
            caps = caps.with_overrides(self._settings.capabilities)
        return cls(self.engine, server, caps, self._support)

    def dispose(self) -> None:
        self.engine.dispose()


def open_database(raw_url: str, settings: Any, support: SupportTables | None = None) -> Database:
    """Create the engine for ``raw_url``; nothing connects until first use."""
    resolved = resolve_url(raw_url)
    cls = ADAPTERS[resolved.declared]
    options: dict[str, Any] = {"echo": settings.echo, "pool_pre_ping": True}
    if resolved.declared != "sqlite":
        options.update(pool_size=settings.pool_size, max_overflow=settings.max_overflow,
                       pool_timeout=settings.pool_timeout, pool_recycle=settings.pool_recycle)
    options.update(cls.engine_options(settings))
    try:
        engine = sa.create_engine(resolved.url, **options)
    except ModuleNotFoundError as exc:
        extra = "postgresql" if resolved.url.drivername == _PG else "mysql"
        raise ConfigError(f"缺少数据库驱动 {exc.name}；请安装: pip install 'hpf-core[{extra}]'") from None
    cls.install_session_setup(engine, settings)
    return Database(resolved, engine, settings, support)


def _server_info(conn: sa.Connection, declared: str) -> ServerInfo:
    dialect = conn.dialect
    if dialect.name == "sqlite":
        return parse_sqlite(conn.exec_driver_sql("SELECT sqlite_version()").scalar())
    info: ServerInfo = dialect.hpf_server  # set by our dialects while connecting
    if declared == "oceanbase" and info.product != "oceanbase":
        # OBProxy may present a faked MySQL version; OB_VERSION() tells the truth.
        try:
            ob = conn.exec_driver_sql("SELECT OB_VERSION()").scalar()
        except DBAPIError:
            return info
        return parse_oceanbase_version(str(ob), info.version_string)
    return info


def first_line(exc: DBAPIError) -> str:
    """The driver's own message, first line only (no SQL, no parameters)."""
    text = str(exc.orig) if exc.orig is not None else str(exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc.orig).__name__
