"""Health, readiness, system information and the database doctor (系统运行状态)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from hpf import __version__
from hpf.config import Settings
from hpf.domain.errors import ConfigError, HpfError
from hpf.domain.jobs import SCHEDULER_LEASE
from hpf.repositories import schema
from hpf.services import jobs
from hpf_adapters.db import Database, Finding

CLOCK_SKEW_LIMIT = 5.0  # seconds between an application node and the database


@dataclass(frozen=True)
class Readiness:
    ready: bool
    checks: dict[str, str]


@dataclass(frozen=True)
class DoctorReport:
    database: str
    server: str = ""
    adapter: str = ""
    capabilities: dict[str, object] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    @property
    def fatal(self) -> bool:
        return any(f.level == "fatal" for f in self.findings)


def readiness(database: Database) -> Readiness:
    """Ready = the database answers and its schema is at the code's head revision."""
    try:
        database.check_connection()
    except HpfError as exc:
        return Readiness(False, {"database": exc.message, "migrations": "未检查"})  # no URL
    state = schema.state(database)
    if not state.at_head:
        return Readiness(False, {"database": "ok", "migrations":
                                 f"数据库结构版本 {state.current or '空'}，最新 {state.head}"})
    return Readiness(True, {"database": "ok", "migrations": "ok"})


def info(database: Database) -> dict[str, object]:
    adapter = database.adapter
    state = schema.state(database)
    lease = adapter.lease_holder(SCHEDULER_LEASE)
    heartbeat = jobs.last_success(database, "system.heartbeat")
    return {
        "version": __version__,
        "database": {"url": database.display_url, "server": adapter.server.label,
                     "adapter": adapter.product, "capabilities": adapter.caps.as_dict()},
        "schema": {"current": state.current, "head": state.head, "at_head": state.at_head},
        "scheduler": {"leader": lease[0] if lease else None,
                      "lease_expires_at": lease[1] if lease else None,
                      "last_heartbeat_at": heartbeat.started_at if heartbeat else None},
    }


def doctor(database: Database, settings: Settings) -> DoctorReport:
    """Everything an operator must know before serving: server, capabilities, misconfiguration."""
    try:
        database.check_connection()
    except HpfError as exc:
        return DoctorReport(database.display_url,
                            findings=[Finding("fatal", "connection", exc.for_operator)])
    findings = [Finding("ok", "connection", "数据库可连接")]
    try:
        adapter = database.adapter
    except ConfigError as exc:  # e.g. a bad [database] capabilities override
        return DoctorReport(database.display_url,
                            findings=[*findings, Finding("fatal", "capabilities", exc.message)])
    findings.extend(database.url_findings())
    if settings.database.capabilities:
        findings.append(Finding("info", "capabilities",
                                f"已按配置覆盖数据库能力: {settings.database.capabilities}"))
    with database.engine.connect() as conn:
        findings.extend(adapter.doctor(conn))
        skew = abs((adapter.db_now(conn) - datetime.now(UTC)).total_seconds())
    findings.append(Finding("ok", "clock", f"应用与数据库时钟相差 {skew:.1f} 秒")
                    if skew <= CLOCK_SKEW_LIMIT else
                    Finding("warning", "clock", f"应用与数据库时钟相差 {skew:.1f} 秒，请配置 NTP"))
    state = schema.state(database)
    findings.append(Finding("ok", "migrations", f"数据库结构为最新版本 {state.head}")
                    if state.at_head else
                    Finding("warning", "migrations",
                            f"数据库结构版本 {state.current or '空'}，最新 {state.head}；"
                            "请执行: hpf db upgrade"))
    if settings.secret_key_generated:
        findings.append(Finding("warning", "secret_key",
                                "未配置 HPF_SECRET_KEY，使用实例目录中自动生成的密钥 (仅限评估)"))
    findings.extend(crypto_findings(database, settings, at_head=state.at_head))
    return DoctorReport(database.display_url, adapter.server.label, adapter.product,
                        adapter.caps.as_dict(), findings)


def crypto_findings(database: Database, settings: Settings, *, at_head: bool) -> list[Finding]:
    """Provider, self-test, master key and data keys: what an assessor and an operator check."""
    import os
    from pathlib import Path

    from hpf.crypto import selftest
    from hpf.crypto.errors import CryptoError
    from hpf.crypto.providers import active

    out: list[Finding] = []
    provider = active()
    engines = ", ".join(f"{a.upper()}={e.name}" for a, e in provider.engines().items())
    out.append(Finding("ok", "crypto_provider", f"密码服务提供者 {provider.name}: {engines}"))
    for algorithm, reason in provider.fallbacks.items():
        out.append(Finding("warning", "crypto_provider", f"{algorithm.upper()} 未使用原生实现: {reason}"))
    failed = [r.name for r in selftest.run(provider) if not r.passed]
    out.append(Finding("fatal", "crypto_selftest", f"密码算法自检失败: {', '.join(failed)}") if failed
               else Finding("ok", "crypto_selftest", "密码算法自检通过 (SM2/SM3/SM4 已知答案测试)"))
    crypto = settings.crypto
    if crypto.kek_source in ("auto", "file") and not crypto.kek and not crypto.sdf_library:
        path = Path(crypto.kek_file) if crypto.kek_file else Path(settings.instance_path) / "kek.key"
        if not crypto.kek_file:
            out.append(Finding("warning", "master_key",
                               f"主密钥使用实例目录中的密钥文件 {path} (仅限评估；生产环境请使用"
                               "密码设备、HPF_CRYPTO_KEK 或 crypto.kek_file)"))
        if path.is_file() and os.stat(path).st_mode & 0o077:
            out.append(Finding("warning", "master_key", f"主密钥文件 {path} 的权限过宽，应为 0600"))
    if not at_head:
        return out
    from hpf.services.crypto import check_keys

    try:
        ring = check_keys(database)
    except CryptoError as exc:
        out.append(Finding("fatal", "data_keys", exc.for_operator))
        return out
    live = ring.all_keys()
    out.append(Finding("ok", "data_keys", f"主密钥 {ring.master.kek_id} 可解开全部 {len(live)} 个数据密钥"))
    retired = [k.key_id for k in live if k.status == "retired"]
    if retired:
        out.append(Finding("info", "data_keys", f"已退役但仍可解密的数据密钥: {', '.join(retired)}"
                                                "（轮换完成后可用 hpf crypto destroy-key 销毁）"))
    return out
