"""`hpf crypto …` and the power-on self-test, as operators and assessors use them."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys

import pytest
from click.testing import CliRunner

from hpf.cli import cli
from hpf.crypto.selftest import SIMULATE_ENV


@pytest.fixture
def db_file(tmp_path):
    return tmp_path / "cli.sqlite3"


@pytest.fixture
def run(tmp_path, monkeypatch, db_file):
    monkeypatch.setenv("HPF_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("HPF_DATABASE_URL", f"sqlite:///{db_file}")
    monkeypatch.setenv("HPF_LOG_FORMAT", "text")
    monkeypatch.delenv("HPF_CONFIG", raising=False)
    monkeypatch.delenv(SIMULATE_ENV, raising=False)
    runner = CliRunner()

    def invoke(*args, env=None):
        return runner.invoke(cli, list(args), env=env, catch_exceptions=False)

    return invoke


def test_selftest_on_every_provider(run):
    result = run("crypto", "selftest")
    assert result.exit_code == 0 and "全部通过" in result.output and "GB/T 32918.2 签名" in result.output
    result = run("crypto", "selftest", "--provider", "all", "--json")
    assert result.exit_code == 0
    out = json.loads(result.output)
    assert [p["provider"] for p in out] == ["native", "portable", "reference"]
    assert all(p["passed"] for p in out) and all(len(p["checks"]) == 15 for p in out)


def test_selftest_failure_exits_1(run):
    result = run("crypto", "selftest", env={SIMULATE_ENV: "sm4-gcm"})
    assert result.exit_code == 1 and "✗ sm4-gcm" in result.output and "自检失败" in result.output


def test_report_text_and_json(run):
    assert run("db", "upgrade").exit_code == 0
    text = run("crypto", "report")
    assert text.exit_code == 0
    for needle in ("密码应用报告", "重要数据存储机密性", "身份鉴别", "SM4-GCM", "主密钥 soft-", "pii1-"):
        assert needle in text.output
    data = json.loads(run("crypto", "report", "--json").output)
    assert data["self_test"]["passed"] and data["provider"]["engines"]["sm2"]["engine"] == "openssl-sm2"
    assert {k["purpose"] for k in data["key_hierarchy"]["data_keys"]} == {
        "pii", "blind_index", "integrity", "audit_signing", "document_signing"}
    assert "secret" not in json.dumps(data)
    offline = json.loads(run("crypto", "report", "--json", "--no-keys").output)
    assert "key_hierarchy" not in offline


def test_verify_integrity_finds_a_row_changed_in_sql(run, db_file):
    assert run("db", "upgrade").exit_code == 0
    ok = run("crypto", "verify-integrity")
    assert ok.exit_code == 0 and "全部一致" in ok.output
    with sqlite3.connect(db_file) as conn:
        conn.execute("UPDATE param_value SET value = '0.03' WHERE param_code = 'interest.rate.current_year' "
                     "AND value = '0.015'")
    bad = run("crypto", "verify-integrity")
    assert bad.exit_code == 1
    assert "✗ param_value [id=" in bad.output and "完整性校验值不匹配" in bad.output
    data = json.loads(run("crypto", "verify-integrity", "--json").output)
    assert data["ok"] is False and data["findings"][0]["table"] == "param_value"
    unknown = run("crypto", "verify-integrity", "--table", "nope")
    assert unknown.exit_code == 1 and "没有完整性保护的表" in unknown.output


def test_rotate_keys_then_destroy_the_old_ones(run):
    assert run("db", "upgrade").exit_code == 0
    before = json.loads(run("crypto", "keys", "--json").output)["keys"]
    result = run("crypto", "rotate-keys", "--batch", "5")
    assert result.exit_code == 0, result.output
    assert result.output.count("新数据密钥:") == 5 and "全部数据已由当前密钥保护" in result.output
    after = json.loads(run("crypto", "keys", "--json").output)["keys"]
    retired = [k for k in after if k["status"] == "retired"]
    assert {k["key_id"] for k in retired} == {k["key_id"] for k in before}
    assert all(k["references"] == 0 for k in retired)
    assert run("crypto", "destroy-key", retired[0]["key_id"]).exit_code == 0
    active = next(k for k in after if k["status"] == "active" and k["purpose"] == "integrity")
    refused = run("crypto", "destroy-key", active["key_id"])
    assert refused.exit_code == 1 and "仍在使用中" in refused.output
    assert run("crypto", "verify-integrity").exit_code == 0
    resumed = run("crypto", "rotate-keys", "--resume")
    assert resumed.exit_code == 0 and "新数据密钥" not in resumed.output


def test_rewrap_to_a_new_master_key_file(run, tmp_path):
    assert run("db", "upgrade").exit_code == 0
    new_key = tmp_path / "new-kek.key"
    new_key.write_text("000102030405060708090a0b0c0d0e0f\n")
    os.chmod(new_key, 0o600)
    result = run("crypto", "rewrap", "--to-source", "file", "--to-file", str(new_key))
    assert result.exit_code == 0 and "个数据密钥已由主密钥 soft-" in result.output
    old = run("crypto", "verify-integrity")  # the old instance key no longer opens them
    assert old.exit_code == 1 and "主密钥无法解开数据密钥" in old.output
    moved = run("crypto", "verify-integrity", env={"HPF_CRYPTO_KEK_FILE": str(new_key)})
    assert moved.exit_code == 0


def test_the_master_key_may_not_sit_in_the_config_file(run, tmp_path):
    conf = tmp_path / "hpf.conf"
    conf.write_text("[crypto]\nkek = 00112233445566778899aabbccddeeff\n")
    result = run("--config", str(conf), "crypto", "selftest")
    assert result.exit_code == 2 and "不得写入配置文件" in result.output
    assert "00112233" not in result.output


def _hpf(args, tmp_path, **env):
    environ = {**os.environ, "HPF_INSTANCE_PATH": str(tmp_path / "instance"), "HPF_LOG_FORMAT": "text",
               "HPF_DATABASE_URL": f"sqlite:///{tmp_path / 'p.sqlite3'}", **env}
    environ.pop("HPF_CONFIG", None)
    return subprocess.run([sys.executable, "-m", "hpf", *args], env=environ, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize("command", [["serve", "--bind", "127.0.0.1:0"], ["scheduler"]])
def test_server_and_scheduler_refuse_to_start_when_the_selftest_fails(tmp_path, command):
    assert _hpf(["db", "upgrade"], tmp_path).returncode == 0
    result = _hpf(command, tmp_path, **{SIMULATE_ENV: "sm2-verify"})
    assert result.returncode == 1
    assert "密码算法自检失败，拒绝启动：sm2-verify" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_unknown_provider_is_a_configuration_error(tmp_path):
    result = _hpf(["crypto", "selftest"], tmp_path, HPF_CRYPTO_PROVIDER="fastest")
    assert result.returncode == 2 and "crypto.provider" in result.stderr


def test_serve_refuses_to_start_with_the_wrong_master_key(tmp_path):
    right, wrong = "00112233445566778899aabbccddeeff", "ffeeddccbbaa99887766554433221100"
    assert _hpf(["db", "upgrade"], tmp_path, HPF_CRYPTO_KEK=right).returncode == 0
    result = _hpf(["serve", "--bind", "127.0.0.1:0"], tmp_path, HPF_CRYPTO_KEK=wrong)
    assert result.returncode == 1
    assert "主密钥无法解开数据密钥" in result.stderr and "ffeeddcc" not in result.stderr + result.stdout


def test_reseal_an_approved_correction(run, db_file):
    assert run("db", "upgrade").exit_code == 0
    with sqlite3.connect(db_file) as conn:
        row_id = conn.execute("SELECT id FROM param_value WHERE param_code = 'interest.rate.current_year' "
                              "AND value = '0.015'").fetchone()[0]
        conn.execute("UPDATE param_value SET source = source WHERE id = ?", (row_id,))
        conn.execute("UPDATE param_value SET value = '0.0150' WHERE id = ?", (row_id,))
    assert run("crypto", "verify-integrity").exit_code == 1
    missing_reason = run("crypto", "reseal", "param_value", str(row_id))
    assert missing_reason.exit_code == 2 and "--reason" in missing_reason.output
    done = run("crypto", "reseal", "param_value", str(row_id), "--reason", "工单 2026-118")
    assert done.exit_code == 0 and "已重新签发" in done.output
    assert run("crypto", "verify-integrity").exit_code == 0


def test_key_operations_are_audited_and_audit_verify_names_an_altered_record(run, db_file):
    assert run("db", "upgrade").exit_code == 0
    assert run("audit", "checkpoint").output.startswith("没有新的审计记录")
    with sqlite3.connect(db_file) as conn:
        row_id = conn.execute("SELECT id FROM param_value LIMIT 1").fetchone()[0]
    assert run("crypto", "reseal", "param_value", str(row_id), "--reason", "工单 2026-120").exit_code == 0
    assert run("crypto", "rotate-keys", "--purpose", "pii").exit_code == 0
    assert "已签发检查点：第 2 条" in run("audit", "checkpoint").output
    ok = run("audit", "verify")
    assert ok.exit_code == 0 and "审计记录 2 条" in ok.output and "审计链完整" in ok.output
    with sqlite3.connect(db_file) as conn:
        actions = conn.execute("SELECT action, summary FROM audit_event ORDER BY seq").fetchall()
        assert [a for a, _ in actions] == ["crypto.reseal", "crypto.rotate_keys"]
        assert "工单 2026-120" in actions[0][1]
        conn.execute("UPDATE audit_event SET summary = '无' WHERE seq = 1")
    bad = run("audit", "verify")
    assert bad.exit_code == 1 and "第 1 条审计记录内容被修改" in bad.output
