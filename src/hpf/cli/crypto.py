"""``hpf crypto``: self-test, compliance report, integrity scan, key rotation."""

from __future__ import annotations

import json

import click

from hpf.cli.context import CliState
from hpf.crypto import build_provider, keys, report, selftest
from hpf.crypto.errors import ProviderUnavailable, SelfTestFailed
from hpf.crypto.providers import PROVIDER_NAMES, active
from hpf.services import audit as audit_service
from hpf.services import crypto as service


@click.group()
def crypto() -> None:
    """国密算法：自检、密码应用报告、完整性校验、密钥轮换"""


def _dump(data) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


@crypto.command("selftest")
@click.option("--full", is_flag=True, help="同时运行 SM4 一百万次迭代测试（较慢）")
@click.option("--provider", "provider_name", type=click.Choice(["active", *PROVIDER_NAMES, "all"]),
              default="active", show_default=True, help="要自检的密码服务提供者")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@click.pass_obj
def selftest_cmd(state: CliState, full: bool, provider_name: str, as_json: bool) -> None:
    """运行已知答案测试（GB/T 32905/32907/32918、RFC 8998）；失败时退出码为 1"""
    state.settings  # noqa: B018 - activates the configured provider
    names = ["native", "portable", "reference"] if provider_name == "all" else [provider_name]
    out, failed = [], False
    for name in names:
        try:
            p = active() if name == "active" else build_provider(name)
        except ProviderUnavailable as exc:
            if provider_name != "all":
                raise
            out.append({"provider": name, "engines": {}, "passed": None, "unavailable": exc.message,
                        "checks": []})
            continue
        results = selftest.run(p, full=full)
        failed |= not all(r.passed for r in results)
        out.append({"provider": p.name, "engines": {a: e.name for a, e in p.engines().items()},
                    "passed": all(r.passed for r in results),
                    "checks": [r.__dict__ for r in results]})
    if as_json:
        _dump(out)
    else:
        for item in out:
            if item.get("unavailable"):
                click.echo(f"密码服务提供者 {item['provider']}: 本机不可用（{item['unavailable']}）")
                continue
            engines = ", ".join(f"{a.upper()}={e}" for a, e in item["engines"].items())
            click.echo(f"密码服务提供者 {item['provider']} ({engines})")
            for c in item["checks"]:
                mark = "✓" if c["passed"] else "✗"
                click.echo(f"  {mark} {c['name']:<18} {c['standard']:<28} {c['seconds'] * 1000:8.1f} ms"
                           + (f"  {c['error']}" if c["error"] else ""))
            click.echo("  结论: " + ("全部通过" if item["passed"] else "自检失败"))
    if failed:
        raise SelfTestFailed()


@crypto.command("report")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@click.option("--no-keys", is_flag=True, help="不连接数据库（不列出密钥体系）")
@click.pass_obj
def report_cmd(state: CliState, as_json: bool, no_keys: bool) -> None:
    """密码应用报告：提供者、算法与密钥长度、使用位置及对应的 GB/T 39786 要求"""
    state.settings  # noqa: B018
    ring = None if no_keys else service.keyring(state.connected())
    data = report.build(active(), ring)
    if as_json:
        _dump(data)
        return
    p = data["provider"]
    click.echo(f"{data['system']} — 密码应用报告")
    plat = data["platform"]
    click.echo(f"平台: {plat['system']} {plat['machine']}，Python {plat['python']}")
    click.echo(f"密码服务提供者: {p['name']}")
    for alg, e in p["engines"].items():
        click.echo(f"  {alg.upper()}: {e['engine']} — {e['library']}")
    for alg, why in p["fallbacks"].items():
        click.echo(f"  ! {alg.upper()} 未使用 OpenSSL 实现，改用 {p['engines'][alg]['engine']}: {why}")
    click.echo("算法:")
    for a in data["algorithms"]:
        size = a.get("key_bits") or a.get("digest_bits")
        click.echo(f"  {a['name']} ({a['standard']}) {size} 位" + (f"，{a['modes']}" if "modes" in a else ""))
    click.echo("使用位置:")
    for u in data["usages"]:
        click.echo(f"  [{u['status']}] {u['algorithm']} — {u['mode']}")
        click.echo(f"      位置: {u['where']}；数据: {u['data']}")
        click.echo(f"      满足: {u['requirement']}")
    if "key_hierarchy" in data:
        kh = data["key_hierarchy"]
        click.echo(f"密钥体系: 主密钥 {kh['master_key']['id']}（{kh['master_key']['source']}）")
        for k in kh["data_keys"]:
            click.echo(f"  {k['key_id']:<14} {k['algorithm']:<9} {k['status']:<8} {k['use']}")
    st = data["self_test"]
    click.echo(f"自检: {'通过' if st['passed'] else '失败 ' + ', '.join(st['failed'])}（{st['checks']} 项）")


@crypto.command("verify-integrity")
@click.option("--table", "tables", multiple=True, help="只检查指定的表（可重复）")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@click.pass_obj
def verify_integrity(state: CliState, tables: tuple[str, ...], as_json: bool) -> None:
    """重算每一行的 HMAC-SM3 完整性校验值，列出在应用之外被修改的行；发现问题时退出码为 1"""
    result = service.verify_integrity(state.connected(), list(tables) or None)
    if as_json:
        _dump({"ok": result.ok,
               "tables": [t.__dict__ for t in result.tables],
               "findings": [{"table": f.table, "key": f.key, "reason": f.reason} for f in result.findings]})
    else:
        for t in result.tables:
            click.echo(f"  {'✓' if not t.bad else '✗'} {t.table:<22} {t.rows:>9} 行  不符 {t.bad} 行")
        for f in result.findings:
            key = ", ".join(f"{k}={v}" for k, v in f.key.items())
            click.echo(f"  ✗ {f.table} [{key}]: {f.reason}")
        click.echo("结论: " + ("全部一致" if result.ok else f"发现 {len(result.findings)} 行完整性校验失败"))
    if not result.ok:
        raise SystemExit(1)


@crypto.command("reseal")
@click.argument("table")
@click.argument("row_id")
@click.option("--reason", required=True, help="核准依据，如工单号（记入日志）")
@click.pass_obj
def reseal(state: CliState, table: str, row_id: str, reason: str) -> None:
    """经核查确认在系统外所做的修改（如核准的紧急修数）后，为该行重新签发完整性校验值"""
    state.settings  # noqa: B018
    selftest.require()
    service.reseal_row(state.connected(), table, row_id, reason=reason, who=state.who("crypto.reseal"))
    click.echo(f"{table} 主键 {row_id} 已重新签发完整性校验值（原因：{reason.strip()}）")


@crypto.command("rotate-keys")
@click.option("--purpose", "purposes", multiple=True, type=click.Choice(service.ROTATABLE),
              help="只轮换指定用途的数据密钥（可重复；默认全部）")
@click.option("--resume", is_flag=True, help="不生成新密钥，只把仍由旧密钥保护的数据改写到当前密钥")
@click.option("--batch", type=click.IntRange(1, 100_000), default=None, help="每批行数")
@click.pass_obj
def rotate_keys(state: CliState, purposes: tuple[str, ...], resume: bool, batch: int | None) -> None:
    """生成新版本数据密钥并分批重新加密/重建索引/重签校验值（系统可照常运行）"""
    state.settings  # noqa: B018 - activates the configured provider
    selftest.require()
    result = service.rotate_keys(state.connected(), list(purposes) or list(service.ROTATABLE),
                                 new_keys=not resume,
                                 batch=batch or state.settings.crypto.rotate_batch_size,
                                 progress=lambda msg: click.echo(f"  {msg}"), who=state.who("crypto"))
    for key_id in result.new_keys:
        click.echo(f"新数据密钥: {key_id}")
    for label, n in result.rewritten.items():
        click.echo(f"  {label}: 改写 {n} 行")
    for f in result.refused:
        key = ", ".join(f"{k}={v}" for k, v in f.key.items())
        click.echo(f"  ✗ 未改写 {f.table} [{key}]: {f.reason}")
    if result.remaining:
        click.echo("仍由旧密钥保护: " + ", ".join(f"{k}={v}" for k, v in result.remaining.items()))
        if result.refused:
            click.echo("其中未改写的行完整性校验失败或无法解密：请先用 hpf crypto verify-integrity 核查处理")
        else:
            click.echo("可能是其他节点尚未刷新密钥时写入的：稍后执行 hpf crypto rotate-keys --resume")
    else:
        click.echo("全部数据已由当前密钥保护；旧密钥可用 hpf crypto destroy-key 销毁")
    if result.refused:
        raise SystemExit(1)


@crypto.command("keys")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@click.pass_obj
def list_keys(state: CliState, as_json: bool) -> None:
    """列出数据密钥（不含密钥值）及仍由其保护的数据量"""
    database = state.connected()
    ring = service.keyring(database)
    rows = [{"key_id": k.key_id, "purpose": k.purpose, "algorithm": k.algorithm, "version": k.version,
             "status": k.status, "references": service.references(database, k.key_id)}
            for k in ring.all_keys()]
    if as_json:
        _dump({"master_key": ring.master.kek_id, "keys": rows})
        return
    click.echo(f"主密钥: {ring.master.kek_id}（{ring.master.description}）")
    for r in rows:
        click.echo(f"  {r['key_id']:<14} {r['purpose']:<12} {r['algorithm']:<9} v{r['version']:<3} "
                   f"{r['status']:<8} 引用 {r['references']}")


@crypto.command("destroy-key")
@click.argument("key_id")
@click.pass_obj
def destroy_key(state: CliState, key_id: str) -> None:
    """销毁一个已退役且不再被任何数据引用的数据密钥"""
    service.destroy_retired_key(state.connected(), key_id, state.who("crypto"))
    click.echo(f"数据密钥 {key_id} 已销毁")


@crypto.command("rewrap")
@click.option("--to-source", type=click.Choice(["file", "env", "sdf"]), required=True,
              help="新主密钥来源（按配置文件与环境变量中对应的设置）")
@click.option("--to-file", default="", help="新主密钥文件（--to-source file 时）")
@click.pass_obj
def rewrap(state: CliState, to_source: str, to_file: str) -> None:
    """主密钥轮换/迁移到密码设备：用新主密钥重新封装全部数据密钥（数据本身不变）"""
    import dataclasses

    settings = state.settings.crypto
    selftest.require()
    target = dataclasses.replace(settings, kek_source=to_source, kek_file=to_file or settings.kek_file)
    new_master = keys.load_master_key(target, state.settings.instance_path)
    ring = service.keyring(state.connected())
    old = ring.master.kek_id
    n = ring.rewrap(new_master)
    audit_service.record_now(state.database, state.who("crypto"), "crypto.rewrap",
                             target=f"{old}->{new_master.kek_id}", summary=f"keys={n}")
    click.echo(f"{n} 个数据密钥已由主密钥 {old} 改为由 {new_master.kek_id} 保护；"
               "请同步更新配置 [crypto] kek_source")
