"""``hpf certs``: a test SM2 PKI for TLCP (CA, double certificates) and certificate inspection.

Works on files only: no settings, no database (``state.preflight()`` is deliberately not
called), so it runs on a machine that has nothing but the package installed.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from hpf.crypto.errors import CryptoError
from hpf.crypto.sm2 import SM2PrivateKey
from hpf.crypto.x509 import (
    OID_SM2_WITH_SM3,
    Certificate,
    CertificateError,
    Name,
    issue,
    load_pem_chain,
    verify_chain,
)
from hpf.domain.calendar import BUSINESS_TZ
from hpf.domain.errors import BadRequest, Conflict

# GmSSL refuses certificates valid for more than 3653 days; stay below it.
MAX_DAYS = 3650
SIGN_USAGE = ("digitalSignature", "nonRepudiation")
ENC_USAGE = ("keyEncipherment", "dataEncipherment", "keyAgreement")
_DNS = re.compile(
    r"(\*\.)?([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
)


@click.group()
def certs() -> None:
    """国密 SM2 证书：生成测试 CA 与 TLCP 双证书（签名/加密），查看并校验证书"""


def _days(ctx, param, value: int) -> int:
    if not 1 <= value <= MAX_DAYS:
        raise click.BadParameter(f"有效期必须在 1 到 {MAX_DAYS} 天之间（GmSSL 拒绝有效期超过 3653 天的证书）")
    return value


def _ips(ctx, param, values: tuple[str, ...]) -> tuple[str, ...]:
    for value in values:
        try:
            ipaddress.ip_address(value)
        except ValueError:
            raise click.BadParameter(f"不是合法的 IP 地址：{value}") from None
    return values


def _dns(ctx, param, values: tuple[str, ...]) -> tuple[str, ...]:
    for value in values:
        if not _DNS.fullmatch(value):
            raise click.BadParameter(f"不是合法的域名：{value}（中文域名请先转换为 xn-- 形式）")
    return values


def _check_targets(paths: list[Path], force: bool) -> None:
    existing = [str(p) for p in paths if p.exists()]
    if existing and not force:
        raise Conflict(f"文件已存在：{', '.join(existing)}；如需覆盖请加 --force")


def _write(path: Path, text: str, *, secret: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if secret:
        # Create with 0600 from the start (no window where the key is world-readable).
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(text)
        os.chmod(path, 0o600)  # an overwritten file keeps its old mode otherwise
    else:
        path.write_text(text, encoding="ascii")


def _load_ca(directory: str, password: str | None = None) -> tuple[Certificate, SM2PrivateKey]:
    folder = Path(directory)
    cert_file, key_file = folder / "ca.crt", folder / "ca.key"
    for f in (cert_file, key_file):
        if not f.is_file():
            raise BadRequest(f"找不到 CA 文件：{f}（请先执行 hpf certs make-ca）")
    ca = Certificate.from_pem(cert_file.read_bytes())
    try:
        key = SM2PrivateKey.from_pem(key_file.read_bytes(), password)
    except CryptoError as exc:
        raise BadRequest(f"{key_file}: {exc.message}（已加密的 CA 私钥请用 --key-password-env）") from None
    if key.public_key() != ca.public_key:
        raise BadRequest(f"{key_file} 与 {cert_file} 不是同一密钥对")
    if not ca.is_ca:
        raise BadRequest(f"{cert_file} 不是 CA 证书")
    return ca, key


def _issue_pair(
    ca: Certificate,
    ca_key: SM2PrivateKey,
    out: Path,
    cn: str,
    days: int,
    eku: str,
    dns: tuple[str, ...],
    ips: tuple[str, ...],
    force: bool,
    password: str | None = None,
) -> None:
    targets = [out / n for n in ("sign.crt", "sign.key", "enc.crt", "enc.key", "chain.pem")]
    _check_targets(targets, force)
    org = ca.subject.get("O")
    # One subject for both certificates: GmSSL refuses a TLCP pair whose subjects (or SANs) differ.
    subject = Name.build([("C", "CN"), *([("O", org)] if org else []), ("CN", cn)])
    pems = {}
    for role, usage in (("sign", SIGN_USAGE), ("enc", ENC_USAGE)):
        key = SM2PrivateKey.generate()
        cert = issue(
            subject,
            key.public_key(),
            issuer=ca,
            issuer_key=ca_key,
            days=days,
            key_usage=usage,
            extended_key_usage=(eku,),
            dns_names=dns,
            ip_addresses=ips,
        )
        pems[role] = cert.to_pem()
        _write(out / f"{role}.key", key.to_pem(password), secret=True)
        _write(out / f"{role}.crt", pems[role])
    # The order of the TLCP Certificate message: signature cert, encryption cert, then CAs.
    _write(out / "chain.pem", pems["sign"] + pems["enc"] + ca.to_pem())
    if ca.not_after < datetime.now(UTC) + timedelta(days=days):
        click.echo("注意：证书有效期超过了 CA 证书的有效期", err=True)
    for name in ("sign.crt", "sign.key", "enc.crt", "enc.key", "chain.pem"):
        click.echo(f"已生成 {out / name}")


def _days_option(default: int):
    return click.option(
        "--days",
        type=int,
        default=default,
        callback=_days,
        show_default=True,
        help=f"有效期（天），不超过 {MAX_DAYS}",
    )


_force_option = click.option("--force", is_flag=True, help="覆盖已存在的文件")
_out_option = click.option(
    "--out", "out_dir", required=True, type=click.Path(file_okay=False), help="输出目录"
)
_ca_option = click.option(
    "--ca",
    "ca_dir",
    required=True,
    type=click.Path(file_okay=False, exists=True),
    help="CA 目录（含 ca.crt、ca.key）",
)


def _password(ctx, param, name: str | None) -> str | None:
    """The key password from the named environment variable (never a command-line argument,
    which other users see in the process list)."""
    if not name:
        return None
    value = os.environ.get(name, "")
    if not value:
        raise click.BadParameter(f"环境变量 {name} 未设置或为空", ctx=ctx, param=param)
    return value


_password_option = click.option(
    "--key-password-env",
    "password",
    metavar="VAR",
    default=None,
    callback=_password,
    help="私钥口令所在的环境变量名：写出的私钥用 PBKDF2-HMAC-SM3 + SM4-CBC 加密（GmSSL 格式），"
    "也用于打开已加密的 CA 私钥",
)


@certs.command("make-ca")
@_out_option
@click.option("--cn", default="HPF 测试根CA", show_default=True, help="CA 名称（CN）")
@click.option("--org", default="HPF Core", show_default=True, help="组织名称（O）")
@_days_option(MAX_DAYS)
@_force_option
@_password_option
def make_ca(out_dir: str, cn: str, org: str, days: int, force: bool, password: str | None) -> None:
    """生成自签名 SM2 根 CA：ca.crt 与 ca.key（私钥文件权限 0600）"""
    out = Path(out_dir)
    _check_targets([out / "ca.crt", out / "ca.key"], force)
    key = SM2PrivateKey.generate()
    cert = issue(
        Name.build(C="CN", O=org, CN=cn),
        key.public_key(),
        issuer=None,
        issuer_key=key,
        days=days,
        is_ca=True,
        key_usage=("keyCertSign", "cRLSign"),
    )
    _write(out / "ca.key", key.to_pem(password), secret=True)
    _write(out / "ca.crt", cert.to_pem())
    click.echo(f"已生成 {out / 'ca.crt'}")
    click.echo(f"已生成 {out / 'ca.key'}")
    click.echo(f"SM3 指纹: {cert.fingerprint()}")


@certs.command("make-server")
@_ca_option
@_out_option
@click.option("--cn", default="localhost", show_default=True, help="证书主体名称（CN）")
@click.option(
    "--dns",
    multiple=True,
    default=("localhost",),
    show_default=True,
    callback=_dns,
    help="主体备用名称中的域名，可重复",
)
@click.option(
    "--ip",
    "ips",
    multiple=True,
    default=("127.0.0.1",),
    show_default=True,
    callback=_ips,
    help="主体备用名称中的 IP 地址，可重复",
)
@_days_option(365)
@_force_option
@_password_option
def make_server(
    ca_dir: str,
    out_dir: str,
    cn: str,
    dns: tuple[str, ...],
    ips: tuple[str, ...],
    days: int,
    force: bool,
    password: str | None,
) -> None:
    """为 TLCP 服务端签发双证书：sign.crt/sign.key、enc.crt/enc.key 与 chain.pem（签名‖加密‖CA）"""
    ca, ca_key = _load_ca(ca_dir, password)
    _issue_pair(ca, ca_key, Path(out_dir), cn, days, "serverAuth", dns, ips, force, password)


@certs.command("make-client")
@_ca_option
@_out_option
@click.option("--cn", required=True, help="客户端名称（CN）")
@_days_option(365)
@_force_option
@_password_option
def make_client(ca_dir: str, out_dir: str, cn: str, days: int, force: bool, password: str | None) -> None:
    """为 TLCP 客户端签发双证书（ECDHE 套件需要）：sign/enc 证书与私钥及 chain.pem"""
    ca, ca_key = _load_ca(ca_dir, password)
    _issue_pair(ca, ca_key, Path(out_dir), cn, days, "clientAuth", (), (), force, password)


def _read_certs(path: Path) -> list[Certificate]:
    data = path.read_bytes()
    if b"-----BEGIN" in data:
        return load_pem_chain(data)
    return [Certificate.from_der(data)]


def _beijing(at: datetime) -> str:
    return at.astimezone(BUSINESS_TZ).strftime("%Y-%m-%d %H:%M:%S") + "（北京时间）"


def _describe(cert: Certificate) -> dict:
    return {
        "subject": str(cert.subject),
        "issuer": str(cert.issuer),
        "serial": f"{cert.serial:x}",
        "version": cert.version,
        "not_before": _beijing(cert.not_before),
        "not_after": _beijing(cert.not_after),
        "key_usage": sorted(cert.key_usage) if cert.key_usage is not None else None,
        "extended_key_usage": list(cert.extended_key_usage),
        "dns_names": list(cert.dns_names),
        "ip_addresses": list(cert.ip_addresses),
        "is_ca": cert.is_ca,
        "path_len": cert.path_len,
        "signature_algorithm": cert.signature_algorithm
        + (" (SM2-with-SM3)" if cert.signature_algorithm == OID_SM2_WITH_SM3 else ""),
        "sm3_fingerprint": cert.fingerprint(),
    }


_LABELS = {
    "subject": "主体",
    "issuer": "签发者",
    "serial": "序列号",
    "version": "版本",
    "not_before": "生效时间",
    "not_after": "失效时间",
    "key_usage": "密钥用法",
    "extended_key_usage": "扩展密钥用法",
    "dns_names": "域名",
    "ip_addresses": "IP 地址",
    "is_ca": "CA 证书",
    "path_len": "路径长度限制",
    "signature_algorithm": "签名算法",
    "sm3_fingerprint": "SM3 指纹",
}


def _show(value) -> str:
    if value is None:
        return "（无）"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return ", ".join(value) if value else "（无）"
    return str(value)


@certs.command("inspect")
@click.argument("file", type=click.Path(dir_okay=False, exists=True))
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@click.option(
    "--ca",
    "ca_file",
    type=click.Path(dir_okay=False, exists=True),
    help="受信任的 CA 证书（PEM，可含多张）；给出时校验证书链，失败退出码为 1",
)
@click.option(
    "--role", type=click.Choice(["sign", "enc"]), help="按签名证书或加密证书校验密钥用法（仅对非 CA 证书）"
)
@click.option("--hostname", help="校验证书中的域名/IP 是否与此主机名相符（仅对非 CA 证书）")
def inspect_cmd(
    file: str, as_json: bool, ca_file: str | None, role: str | None, hostname: str | None
) -> None:
    """查看证书（PEM 可含多张，逐张显示）：主体、签发者、有效期、密钥用法、指纹等"""
    certificates = _read_certs(Path(file))
    anchors = _read_certs(Path(ca_file)) if ca_file else None
    out, failed = [], False
    for index, cert in enumerate(certificates):
        item = _describe(cert)
        if anchors is not None:
            others = [c for i, c in enumerate(certificates) if i != index]
            try:
                verify_chain(
                    cert,
                    others,
                    anchors,
                    role="ca" if cert.is_ca else role,
                    hostname=None if cert.is_ca else hostname,
                )
                item["verification"] = {"ok": True}
            except CertificateError as exc:
                failed = True
                item["verification"] = {
                    "ok": False,
                    "reason": exc.reason,
                    "message": exc.message,
                    "detail": exc.internal,
                }
        out.append(item)
    if as_json:
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        for index, item in enumerate(out):
            if len(out) > 1:
                click.echo(f"证书 {index + 1}/{len(out)}")
            for key, label in _LABELS.items():
                click.echo(f"  {label}: {_show(item[key])}")
            check = item.get("verification")
            if check is not None:
                if check["ok"]:
                    click.echo("  校验结果: 校验通过")
                else:
                    detail = f"（{check['detail']}）" if check["detail"] else ""
                    click.echo(f"  校验结果: 校验失败 [{check['reason']}] {check['message']}{detail}")
    if failed:
        raise click.exceptions.Exit(1)
