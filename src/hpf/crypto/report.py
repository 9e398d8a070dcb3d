"""The crypto application report (密码应用方案摘要): what runs where, and why.

The first document a GB/T 39786-2021 assessor asks for: active providers and libraries,
algorithms and key sizes, every place in HPF Core an algorithm is used with the
requirement it serves, the key hierarchy, and the self-test result.
"""

from __future__ import annotations

import platform
from dataclasses import asdict, dataclass

from hpf.crypto import keys, selftest
from hpf.crypto.providers import Provider, active


@dataclass(frozen=True)
class Usage:
    algorithm: str
    mode: str
    key_bits: int
    where: str
    data: str
    requirement: str  # GB/T 39786-2021 level 3: layer — item
    status: str       # 已实现 | 规划中 (which issue)


USAGES = (
    Usage("SM3", "PBKDF2-HMAC-SM3，每用户16字节随机盐，迭代次数可配置并随哈希保存", 0,
          "hpf.security.passwords（app_user.password_hash）", "工作人员登录口令",
          "应用和数据安全 — 身份鉴别（口令的安全存储）", "已实现"),
    Usage("SM4", "GCM，12字节随机 nonce，16字节认证标签，附加数据为“表.字段”", 128,
          "hpf.crypto.fields.EncryptedString（person.id_number / phone / bank_card）",
          "身份证件号码、手机号码、银行卡号",
          "应用和数据安全 — 重要数据存储机密性（含存储完整性）", "已实现"),
    Usage("HMAC-SM3", "盲索引，截取128位，与加密密钥分离的独立密钥", 256,
          "hpf.crypto.fields.blind_index（person.id_number_bidx / phone_bidx）",
          "密文字段的精确查询", "应用和数据安全 — 重要数据存储机密性（不解密即可查询）", "已实现"),
    Usage("HMAC-SM3", "行级完整性校验值（row_mac），覆盖表名与业务字段", 256,
          "hpf.crypto.integrity（individual_account、ledger_voucher、ledger_entry、param_value、"
          "app_user、person、role、role_permission、user_role、user_security、api_token、approval_policy、"
          "approval_request）",
          "账户余额、记账凭证与分录、业务参数（利率/上下限）、工作人员账号与口令哈希、个人身份信息、"
          "角色与授权、数据范围与动态口令设置、接口令牌、双人复核规则与待复核业务",
          "应用和数据安全 — 重要数据存储完整性；访问控制信息完整性", "已实现"),
    Usage("SM4", "GCM 数据密钥封装（主密钥 KEK 保护数据密钥 DEK），或密码设备内部密钥（GM/T 0018）", 128,
          "hpf.crypto.keys（crypto_key 表）", "数据密钥", "密钥管理 — 密钥存储保护", "已实现"),
    Usage("SM3", "HMAC-SM3 密钥校验值（KCV）", 256, "hpf.crypto.keys", "数据密钥",
          "密钥管理 — 密钥完整性", "已实现"),
    Usage("随机数", "操作系统 CSPRNG（getrandom / /dev/urandom）；使用密码设备时数据密钥"
          "由设备内主密钥封装", 0,
          "hpf.crypto.random_bytes", "盐值、nonce、密钥、SM2 随机数 k", "密钥管理 — 密钥生成", "已实现"),
    Usage("SM3", "审计记录哈希链：每条记录含前一条的 SM3 哈希；另有 HMAC-SM3 行级校验值", 0,
          "hpf.services.audit（audit_event、audit_chain）", "审计记录（登录、退出、失败、参数变更…）",
          "安全审计 — 审计记录的保护（防篡改、删除、插入）；日志完整性", "已实现"),
    Usage("SM2", "数字签名（含 Z 值，默认用户标识 1234567812345678）：审计链检查点，每小时签发", 256,
          "hpf.services.audit.checkpoint（audit_checkpoint），hpf audit verify 验证",
          "审计链链头", "应用和数据安全 — 不可否认性；日志完整性", "已实现"),
    Usage("SM4", "GCM（同上）", 128, "hpf.services.auth（user_security 动态口令种子列）",
          "动态口令（TOTP）种子",
          "应用和数据安全 — 身份鉴别（两种或两种以上组合的鉴别技术，管理员强制）", "已实现"),
    Usage("SM3", "接口令牌与会话令牌只存 SM3 摘要（256 位随机令牌）", 0,
          "hpf.services.tokens（api_token 摘要列）、hpf.services.auth（staff_session.id）",
          "程序接口令牌、登录会话", "应用和数据安全 — 身份鉴别（鉴别信息的安全存储）；会话可在服务端终止",
          "已实现"),
    Usage("SM2", "数字签名：审计归档登记（起止序号、末条哈希、文件 SM3）", 256,
          "hpf.services.audit.archive（audit_archive），hpf audit verify / verify-archive 验证",
          "超过保存期限后归档清理的审计记录", "安全审计 — 审计记录的保护与留存（不少于六个月）", "已实现"),
    Usage("SM2/SM4/SM3", "TLCP（GB/T 38636-2020）ECC_SM4_CBC_SM3 / ECC_SM4_GCM_SM3", 256,
          "hpf serve --tlcp 与合作方客户端（issue 6）", "网络传输数据",
          "网络和通信安全 — 身份鉴别、重要数据传输机密性与完整性", "规划中（issue 6）"),
)


def build(provider: Provider | None = None, keyring: keys.Keyring | None = None) -> dict:
    p = provider or active()
    results = selftest.run(p)
    report = {
        "system": "HPF Core 住房公积金综合业务平台",
        "platform": {"machine": platform.machine(), "python": platform.python_version(),
                     "system": platform.system()},
        "provider": {
            "name": p.name,
            "engines": {alg: {"engine": e.name, "library": e.library} for alg, e in p.engines().items()},
            "fallbacks": p.fallbacks,
        },
        "algorithms": [
            {"name": "SM2", "standard": "GB/T 32918", "key_bits": 256, "curve": "sm2p256v1",
             "default_user_id": "1234567812345678",
             "encodings": "签名 DER 或 r‖s；密文 C1C3C2 / C1C2C3 / GM/T 0009 ASN.1；公钥 04‖x‖y、压缩、x‖y"},
            {"name": "SM3", "standard": "GB/T 32905", "digest_bits": 256},
            {"name": "SM4", "standard": "GB/T 32907", "key_bits": 128, "modes": "ECB、CBC(PKCS#7)、CTR、GCM"},
        ],
        "usages": [asdict(u) for u in USAGES],
        "self_test": {"passed": all(r.passed for r in results), "checks": len(results),
                      "failed": [r.name for r in results if not r.passed]},
    }
    if keyring is not None:
        master = keyring.master
        report["key_hierarchy"] = {
            "master_key": {"id": master.kek_id, "source": master.description, "algorithm": "SM4-128"},
            "data_keys": [{"key_id": k.key_id, "purpose": k.purpose, "use": keys.PURPOSES[k.purpose].use,
                           "algorithm": k.algorithm, "version": k.version, "status": k.status}
                          for k in keyring.all_keys() if k.purpose in keys.PURPOSES],
        }
    return report
