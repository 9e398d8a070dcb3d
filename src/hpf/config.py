"""Configuration: defaults < config file (INI or TOML) < environment variables.

The file is named by ``HPF_CONFIG`` (or ``hpf --config``); e.g. ``/etc/hpf/hpf.conf``.
Sections map to the dataclasses below; an environment variable ``HPF_<SECTION>_<KEY>``
overrides ``[section] key`` (``HPF_DATABASE_URL`` -> ``[database] url``). Unknown keys are
errors, so that a typo in an operator's file is reported instead of silently ignored.
Secrets never live in the repository: the secret key comes from the environment, a key
file, or is generated once into the instance folder for evaluation.
"""

from __future__ import annotations

import configparser
import dataclasses
import os
import secrets
import tomllib
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from hpf.domain.errors import ConfigError

DEFAULT_SQLITE = "hpf.sqlite3"  # the embedded evaluation database, in the instance folder


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = ""  # empty -> SQLite file in the instance folder
    pool_size: int = 10
    max_overflow: int = 10
    pool_timeout: int = 30
    pool_recycle: int = 1800
    connect_timeout: int = 10
    # Capability overrides, e.g. "skip_locked=off,bulk_load=multirow" (see docs/operations.md)
    capabilities: str = ""
    # OceanBase: per-session query/transaction timeouts in seconds (its defaults are 10 s/100 s)
    ob_query_timeout: int = 600
    ob_trx_timeout: int = 3600
    echo: bool = False


@dataclass(frozen=True)
class ServerSettings:
    bind: str = "127.0.0.1:8000"
    workers: int = 0  # 0 -> 2 x CPU + 1, capped at 16
    threads: int = 1
    timeout: int = 60
    graceful_timeout: int = 30
    keepalive: int = 5
    max_requests: int = 5000
    max_requests_jitter: int = 500
    access_log: str = "-"
    pid_file: str = ""
    # Behind a reverse proxy (Nginx/TLCP gateway): how many proxies set X-Forwarded-*
    proxy_count: int = 0


@dataclass(frozen=True)
class SchedulerSettings:
    lease_ttl: int = 30  # seconds a leader keeps the lease without renewing
    timezone: str = "Asia/Shanghai"
    max_workers: int = 4


@dataclass(frozen=True)
class LogSettings:
    level: str = "INFO"
    format: str = "json"  # json | text


@dataclass(frozen=True)
class CryptoSettings:
    provider: str = "auto"  # auto | native | portable | reference (HPF_CRYPTO_PROVIDER)
    # Where the master key (KEK) comes from: auto = env if HPF_CRYPTO_KEK is set, else the
    # SDF device if sdf_library is set, else kek_file (generated for evaluation if absent).
    kek_source: str = "auto"  # auto | file | env | sdf
    kek_file: str = ""  # default <instance>/kek.key
    kek: str = ""  # 32 hex digits; only ever through the environment (HPF_CRYPTO_KEK)
    sdf_library: str = ""  # the vendor's GM/T 0018 library, e.g. /opt/sansec/libswsds.so
    sdf_kek_index: int = 1
    password_iterations: int = 200_000  # PBKDF2-HMAC-SM3; stored per hash, may only rise
    key_refresh_seconds: int = 60  # how soon other nodes see a rotated data key
    rotate_batch_size: int = 500


@dataclass(frozen=True)
class SecuritySettings:
    # 登录失败处理 (GB/T 22239 身份鉴别): consecutive failures before the username is locked,
    # and for how long. Unknown usernames are counted alike, so the lock reveals nothing.
    lockout_threshold: int = 5
    lockout_minutes: int = 30
    password_min_length: int = 8
    password_min_classes: int = 3  # of 4: lower, upper, digit, other
    password_history: int = 5  # a new password may not repeat one of the last N
    password_max_age_days: int = 90
    session_idle_minutes: int = 30  # 登录超时: signed out after this long without a request
    session_absolute_hours: int = 8  # and after this long in any case
    token_max_days: int = 90  # the longest an API token may be issued for


@dataclass(frozen=True)
class AuditSettings:
    # 审计记录留存: the Cybersecurity Law (art. 21) and GB/T 22239 require network logs to be
    # kept at least six months, so less than 180 days is refused. Older records are moved
    # to signed archive files (hpf audit archive, job audit.archive), never just deleted.
    retention_days: int = 180
    archive_dir: str = ""  # default <instance>/audit-archive


TLCP_DEFAULT_SUITES = "ECC_SM4_GCM_SM3,ECC_SM4_CBC_SM3,ECDHE_SM4_GCM_SM3,ECDHE_SM4_CBC_SM3"
TLCP_FILES = ("sign_cert", "sign_key", "enc_cert", "enc_key", "chain")
_TLCP_DEFAULT_NAMES = {"sign_cert": "sign.crt", "sign_key": "sign.key", "enc_cert": "enc.crt",
                       "enc_key": "enc.key", "chain": "chain.pem"}


@dataclass(frozen=True)
class TlcpSettings:
    """TLCP (GB/T 38636, 国密 SSL) served by the workers themselves (``hpf serve --tlcp``)."""

    enabled: bool = False
    bind: str = "127.0.0.1:8443"
    # Double certificates (PEM). Empty -> <instance>/tlcp/{sign.crt,sign.key,enc.crt,enc.key,chain.pem}
    sign_cert: str = ""
    sign_key: str = ""
    enc_cert: str = ""
    enc_key: str = ""
    chain: str = ""  # optional: the CA chain sent after the two certificates
    # Password of ENCRYPTED PRIVATE KEY files (hpf certs --key-password-env); only ever through
    # the environment (HPF_TLCP_KEY_PASSWORD), never the config file.
    key_password: str = ""
    ca_file: str = ""  # trust anchors for client certificates (needed unless client_auth = none)
    client_auth: str = "none"  # none | optional | required
    cipher_suites: str = TLCP_DEFAULT_SUITES  # server preference order
    # CertificateVerify forms accepted from clients: "hash" (GB/T 38636, Tongsuo) and "raw" (GmSSL 3.x)
    cert_verify_forms: str = "hash,raw"
    handshake_timeout: float = 10.0  # seconds for the whole handshake, from accept
    session_cache_size: int = 20000  # sessions kept for resumption; 0 disables it
    session_store: str = "shared"  # shared (all workers, sealed files on /dev/shm) | worker
    session_ttl: int = 3600
    # Standard TLS (Python ssl, TLS >= 1.2) on another port for browsers; "" = off
    tls_bind: str = ""
    tls_cert: str = ""
    tls_key: str = ""
    plain_http: bool = True  # keep serving plain HTTP on [server] bind alongside

    @property
    def suites(self) -> tuple[str, ...]:
        return tuple(n.strip() for n in self.cipher_suites.split(",") if n.strip())


@dataclass(frozen=True)
class Settings:
    instance_path: str = ""
    secret_key: str = ""
    secret_key_file: str = ""
    session_cookie_secure: bool = False
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    server: ServerSettings = field(default_factory=ServerSettings)
    scheduler: SchedulerSettings = field(default_factory=SchedulerSettings)
    log: LogSettings = field(default_factory=LogSettings)
    crypto: CryptoSettings = field(default_factory=CryptoSettings)
    security: SecuritySettings = field(default_factory=SecuritySettings)
    audit: AuditSettings = field(default_factory=AuditSettings)
    tlcp: TlcpSettings = field(default_factory=TlcpSettings)
    # job name -> cron expression (5 fields, or 6 with seconds first); "off" disables
    jobs: Mapping[str, str] = field(default_factory=dict)
    config_file: str = ""
    secret_key_generated: bool = False

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite:///{Path(self.instance_path) / DEFAULT_SQLITE}"


_SECTIONS: dict[str, type] = {
    "database": DatabaseSettings,
    "server": ServerSettings,
    "scheduler": SchedulerSettings,
    "log": LogSettings,
    "crypto": CryptoSettings,
    "security": SecuritySettings,
    "audit": AuditSettings,
    "tlcp": TlcpSettings,
}
_TOP_KEYS = ("instance_path", "secret_key", "secret_key_file", "session_cookie_secure")
# Lower bounds where a smaller value would make the system silently misbehave.
_MINIMUM = {
    "database.pool_size": 1, "database.pool_timeout": 1, "database.connect_timeout": 1,
    "database.ob_query_timeout": 10, "database.ob_trx_timeout": 10,
    "server.threads": 1, "server.timeout": 1,
    "scheduler.lease_ttl": 3,  # renewed every ttl/3 s, and at least once a second
    "scheduler.max_workers": 1,
    "crypto.password_iterations": 10_000, "crypto.key_refresh_seconds": 1,
    "crypto.rotate_batch_size": 1, "crypto.sdf_kek_index": 1,
    "security.lockout_threshold": 1, "security.lockout_minutes": 1,
    "security.password_min_length": 6, "security.password_min_classes": 1, "security.password_history": 0,
    "security.password_max_age_days": 1, "security.session_idle_minutes": 1,
    "security.session_absolute_hours": 1, "security.token_max_days": 1,
    "audit.retention_days": 180,
    "tlcp.session_ttl": 1,
}
# Why a bound exists, where the operator needs to know (appended to the error).
_MINIMUM_REASON = {"audit.retention_days": "网络日志留存不少于六个月（《网络安全法》第二十一条）"}
SECRET_MIN_LENGTH = 32


def load_settings(
    environ: Mapping[str, str] | None = None,
    config_file: str | None = None,
    overrides: Mapping[str, typing.Any] | None = None,
) -> Settings:
    """Build the settings; ``overrides`` (for tests and the CLI) win over everything."""
    env = os.environ if environ is None else environ
    path = config_file or env.get("HPF_CONFIG", "")
    raw: dict[str, dict[str, typing.Any]] = {name: {} for name in (*_SECTIONS, "hpf", "jobs")}
    if path:
        _merge(raw, _read_file(path))
        if raw["crypto"].get("kek"):
            raise ConfigError("主密钥（crypto.kek）不得写入配置文件：请用环境变量 HPF_CRYPTO_KEK、"
                              "密钥文件 crypto.kek_file 或密码设备")
        if raw["tlcp"].get("key_password"):
            raise ConfigError("TLCP 私钥口令（tlcp.key_password）不得写入配置文件："
                              "请用环境变量 HPF_TLCP_KEY_PASSWORD")
    _merge(raw, _from_env(env))
    if overrides:
        _merge(raw, _nest(overrides))

    top = {k: _coerce("", k, v, _type_of(Settings, k)) for k, v in raw["hpf"].items()}
    sections = {
        name: _build(cls, name, raw[name]) for name, cls in _SECTIONS.items()
    }
    jobs = {str(k): str(v).strip() for k, v in raw["jobs"].items()}
    settings = Settings(**top, **sections, jobs=jobs, config_file=path)
    return _resolve_paths_and_secret(settings)


def _read_file(path: str) -> dict[str, dict[str, typing.Any]]:
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"配置文件不存在或不可读: {path}")
    try:
        if p.suffix == ".toml":
            data = tomllib.loads(p.read_text(encoding="utf-8"))
            out: dict[str, dict[str, typing.Any]] = {"hpf": {}}
            for key, value in data.items():
                if isinstance(value, dict):
                    out[key] = dict(value)
                else:
                    out["hpf"][key] = value
            return out
        # Comments may follow a value after whitespace: "workers = 8  # two per core".
        parser = configparser.ConfigParser(interpolation=None,
                                           inline_comment_prefixes=("#", ";"))
        parser.optionxform = str  # keep job names' case
        parser.read_string(p.read_text(encoding="utf-8"), source=str(p))
        return {s: dict(parser.items(s)) for s in parser.sections()}
    except (tomllib.TOMLDecodeError, configparser.Error, UnicodeDecodeError) as exc:
        raise ConfigError(f"配置文件 {path} 格式错误: {exc}") from exc


def _from_env(env: Mapping[str, str]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {"hpf": {}}
    for key in _TOP_KEYS:
        name = f"HPF_{key.upper()}"
        if name in env:
            out["hpf"][key] = env[name]
    for section, cls in _SECTIONS.items():
        for f in dataclasses.fields(cls):
            name = f"HPF_{section.upper()}_{f.name.upper()}"
            if name in env:
                out.setdefault(section, {})[f.name] = env[name]
    return out


def _nest(flat: Mapping[str, typing.Any]) -> dict[str, dict[str, typing.Any]]:
    out: dict[str, dict[str, typing.Any]] = {}
    for key, value in flat.items():
        section, _, name = key.rpartition(".")
        out.setdefault(section or "hpf", {})[name] = value
    return out


def _merge(into: dict[str, dict[str, typing.Any]], new: Mapping[str, Mapping[str, typing.Any]]):
    for section, values in new.items():
        if section not in into:
            known = ", ".join(sorted(k for k in into if k != "hpf"))
            raise ConfigError(f"未知的配置节 [{section}]；可用的配置节: {known}")
        into[section].update(values)


def _build(cls: type, section: str, values: Mapping[str, typing.Any]):
    known = {f.name for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in values.items():
        if key not in known:
            raise ConfigError(
                f"未知的配置项 {section}.{key}；可用: {', '.join(sorted(known))}"
            )
        kwargs[key] = _coerce(section, key, value, _type_of(cls, key))
    return cls(**kwargs)


def _type_of(cls: type, name: str) -> type:
    hints = typing.get_type_hints(cls)
    if name not in hints:
        raise ConfigError(f"未知的配置项 {name}")
    return hints[name]


def _coerce(section: str, key: str, value: typing.Any, kind: type) -> typing.Any:
    label = f"{section}.{key}" if section else key
    if kind is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off", ""):
            return False
        raise ConfigError(f"配置项 {label} 的值 {value!r} 无效: 应为 true 或 false")
    if kind is int:
        try:
            number = int(str(value).strip())
        except ValueError:
            raise ConfigError(f"配置项 {label} 的值 {value!r} 无效: 应为整数") from None
        if number < _MINIMUM.get(label, 0):
            reason = f"（{_MINIMUM_REASON[label]}）" if label in _MINIMUM_REASON else ""
            raise ConfigError(f"配置项 {label} 的值 {value!r} 无效: "
                              f"不能小于 {_MINIMUM.get(label, 0)}{reason}")
        return number
    if kind is float:
        try:
            number = float(str(value).strip())
        except ValueError:
            raise ConfigError(f"配置项 {label} 的值 {value!r} 无效: 应为数字") from None
        if not number > 0 or number == float("inf"):
            raise ConfigError(f"配置项 {label} 的值 {value!r} 无效: 应为正数")
        return number
    return str(value)


def _resolve_paths_and_secret(settings: Settings) -> Settings:
    instance = Path(settings.instance_path or Path.cwd() / "instance").resolve()
    settings = dataclasses.replace(settings, instance_path=str(instance))
    if not settings.audit.archive_dir:
        settings = dataclasses.replace(settings, audit=dataclasses.replace(
            settings.audit, archive_dir=str(instance / "audit-archive")))
    if settings.log.format not in ("json", "text"):
        raise ConfigError(f"配置项 log.format 的值 {settings.log.format!r} 无效: 应为 json 或 text")
    _check_crypto(settings.crypto)
    settings = resolve_tlcp(settings)
    if settings.secret_key:
        if len(settings.secret_key) < SECRET_MIN_LENGTH:
            raise ConfigError(f"HPF_SECRET_KEY 过短 (至少 {SECRET_MIN_LENGTH} 个字符)")
        return settings
    if settings.secret_key_file:
        try:
            key = Path(settings.secret_key_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"无法读取密钥文件 {settings.secret_key_file}: {exc.strerror}") from None
        if len(key) < SECRET_MIN_LENGTH:
            raise ConfigError(f"密钥文件 {settings.secret_key_file} 中的密钥过短 "
                              f"(至少 {SECRET_MIN_LENGTH} 个字符)")
        return dataclasses.replace(settings, secret_key=key)
    return dataclasses.replace(
        settings, secret_key=_instance_secret(instance), secret_key_generated=True
    )


def _check_crypto(crypto: CryptoSettings) -> None:
    from hpf.crypto.providers import PROVIDER_NAMES

    if crypto.provider not in PROVIDER_NAMES:
        raise ConfigError(f"配置项 crypto.provider 的值 {crypto.provider!r} 无效: "
                          f"应为 {'、'.join(PROVIDER_NAMES)} 之一")
    if crypto.kek_source not in ("auto", "file", "env", "sdf"):
        raise ConfigError(f"配置项 crypto.kek_source 的值 {crypto.kek_source!r} 无效: "
                          "应为 auto、file、env 或 sdf")
    if crypto.kek:
        try:
            ok = len(bytes.fromhex(crypto.kek)) == 16
        except ValueError:
            ok = False
        if not ok:  # never echo the value: it is the master key
            raise ConfigError("HPF_CRYPTO_KEK 无效: 应为32位十六进制数（16字节 SM4 主密钥）")


def resolve_tlcp(settings: Settings) -> Settings:
    """Check [tlcp] and fill in the certificate paths. Names and modes are always checked; the
    files only when TLCP is enabled (``hpf serve --tlcp`` enables it and calls this again), so a
    missing certificate stops the start, not the first connection."""
    from hpf.tlcp.constants import suite_by_name

    tlcp = settings.tlcp
    if tlcp.client_auth not in ("none", "optional", "required"):
        raise ConfigError(f"配置项 tlcp.client_auth 的值 {tlcp.client_auth!r} 无效: "
                          "应为 none、optional 或 required")
    if tlcp.session_store not in ("shared", "worker"):
        raise ConfigError(f"配置项 tlcp.session_store 的值 {tlcp.session_store!r} 无效: "
                          "应为 shared 或 worker")
    forms = tuple(f.strip() for f in tlcp.cert_verify_forms.split(",") if f.strip())
    if not forms or not set(forms) <= {"hash", "raw"}:
        raise ConfigError(f"配置项 tlcp.cert_verify_forms 的值 {tlcp.cert_verify_forms!r} 无效: "
                          "应为 hash、raw 或 hash,raw")
    if not tlcp.suites:
        raise ConfigError("配置项 tlcp.cipher_suites 不能为空：至少配置一个密码套件")
    for name in tlcp.suites:
        try:
            suite_by_name(name)
        except ValueError:
            raise ConfigError(
                f"配置项 tlcp.cipher_suites 中的密码套件 {name!r} 无效: 可用 ECC_SM4_GCM_SM3、"
                "ECC_SM4_CBC_SM3、ECDHE_SM4_GCM_SM3、ECDHE_SM4_CBC_SM3") from None
    for key in ("bind", "tls_bind"):
        value = getattr(tlcp, key)
        if value and ":" not in value and not value.startswith("unix:"):
            raise ConfigError(f"配置项 tlcp.{key} 的值 {value!r} 无效: 应为 HOST:PORT")
    if not tlcp.enabled:
        return settings
    folder = Path(settings.instance_path) / "tlcp"
    paths: dict[str, str] = {}
    for key in TLCP_FILES:
        value = getattr(tlcp, key)
        if not value:
            default = folder / _TLCP_DEFAULT_NAMES[key]
            if key == "chain":
                value = str(default) if default.is_file() else ""
            elif default.is_file():
                value = str(default)
            else:
                raise ConfigError(
                    f"TLCP 已启用，但未配置 tlcp.{key}，默认文件 {default} 也不存在；"
                    f"请先签发服务端双证书: hpf certs make-server --ca <CA目录> --out {folder}"
                    "（或在 [tlcp] 中配置 sign_cert、sign_key、enc_cert、enc_key）")
        paths[key] = value
    if tlcp.ca_file:
        paths["ca_file"] = tlcp.ca_file
    elif tlcp.client_auth != "none":
        raise ConfigError(f"tlcp.client_auth = {tlcp.client_auth} 需要配置 tlcp.ca_file"
                          "（校验客户端证书的 CA 证书）")
    if tlcp.tls_bind:
        if not (tlcp.tls_cert and tlcp.tls_key):
            raise ConfigError("配置了 tlcp.tls_bind 时须同时配置 tlcp.tls_cert 与 tlcp.tls_key")
        paths["tls_cert"], paths["tls_key"] = tlcp.tls_cert, tlcp.tls_key
    for key, value in paths.items():
        if value and not Path(value).is_file():
            hint = ("；请先执行 hpf certs make-server 签发服务端双证书"
                    if key in TLCP_FILES else "")
            raise ConfigError(f"配置项 tlcp.{key} 指向的文件不存在或不可读: {value}{hint}")
    return dataclasses.replace(settings, tlcp=dataclasses.replace(tlcp, **paths))


def _instance_secret(instance: Path) -> str:
    """For evaluation only: a random key kept in the instance folder (mode 0600)."""
    path = instance / "secret_key"
    if path.is_file():
        return path.read_text(encoding="utf-8").strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker won the race; use its key
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(key)
    return key
