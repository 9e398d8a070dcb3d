"""The `hpf` command line, in process, on a SQLite file: commands and their bad inputs."""

import pytest
from click.testing import CliRunner

from hpf.cli import cli


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setenv("HPF_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("HPF_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    monkeypatch.setenv("HPF_LOG_FORMAT", "text")
    monkeypatch.delenv("HPF_CONFIG", raising=False)
    runner = CliRunner()

    def invoke(*args, env=None):
        return runner.invoke(cli, list(args), env=env, catch_exceptions=False)

    return invoke


def test_version(run):
    result = run("--version")
    assert result.exit_code == 0 and result.output.startswith("hpf 0.")


def test_db_upgrade_current_downgrade(run):
    assert "base (空库)" in run("db", "current").output
    result = run("db", "upgrade")
    assert result.exit_code == 0 and "结构版本: 0015 (最新 0015)" in result.output
    assert "(最新)" in run("db", "current").output
    assert run("db", "downgrade", "0003").exit_code == 0
    assert "落后，请执行 hpf db upgrade" in run("db", "current").output
    result = run("db", "downgrade", "base")
    assert result.exit_code == 0 and "结构版本: base" in result.output
    history = run("db", "history").output.splitlines()
    assert history[0].startswith("0001") and history[-1].startswith("0015")


def test_unknown_revision(run):
    result = run("db", "upgrade", "9999")
    assert result.exit_code == 1 and "未知的数据库结构版本 '9999'" in result.output


def test_unknown_url_scheme_exits_2_naming_supported(run):
    result = run("db", "current", env={"HPF_DATABASE_URL": "oracle://scott@db/orcl"})
    assert result.exit_code == 2
    assert "不支持的数据库 URL 协议 'oracle'" in result.output and "opengauss://" in result.output


def test_unreachable_database_is_one_line_and_exit_1(run):
    result = run("serve", env={"HPF_DATABASE_URL": "postgresql://u@127.0.0.1:1/hpf"})
    assert result.exit_code == 1
    assert result.output.startswith("错误: 无法连接数据库 postgresql://u@127.0.0.1:1/hpf")
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output


@pytest.mark.parametrize("args", [("db", "upgrade"), ("db", "downgrade", "base"),
                                  ("db", "current"), ("jobs", "history"), ("scheduler",)])
def test_every_database_command_reports_an_outage_in_one_line(run, args):
    result = run(*args, env={"HPF_DATABASE_URL": "mysql://root:pw@127.0.0.1:1/hpf"})
    assert result.exit_code == 1
    assert result.output.startswith("错误: 无法连接数据库 mysql://root:***@127.0.0.1:1/hpf")
    assert len(result.output.strip().splitlines()) == 1


def test_doctor_names_a_bad_capability_override(run):
    result = run("db", "doctor", env={"HPF_DATABASE_CAPABILITIES": "skip_locked=maybe"})
    assert result.exit_code == 1
    assert "[fatal] capabilities: 数据库能力 skip_locked 的值 'maybe' 无效" in result.output


def test_jobs_refuse_an_unmigrated_database(run):
    result = run("jobs", "run", "system.purge_job_history")
    assert result.exit_code == 1 and "hpf db upgrade" in result.output


def test_serve_and_scheduler_refuse_an_old_schema(run):
    run("db", "upgrade", "0004")
    for command in ("serve", "scheduler"):
        result = run(command)
        assert result.exit_code == 1
        assert "拒绝启动" in result.output and "hpf db upgrade" in result.output


def test_bad_config_file_exits_2(run, tmp_path):
    conf = tmp_path / "hpf.conf"
    conf.write_text("[server]\nworkerz = 4\n", encoding="utf-8")
    result = run("--config", str(conf), "db", "current")
    assert result.exit_code == 2 and "未知的配置项 server.workerz" in result.output


def test_unknown_job_in_config_is_refused(run, tmp_path):
    run("db", "upgrade")
    conf = tmp_path / "hpf.conf"
    conf.write_text("[jobs]\nsystem.nope = 0 1 * * *\n", encoding="utf-8")
    result = run("--config", str(conf), "jobs", "list")
    assert result.exit_code == 2 and "未知作业: system.nope" in result.output
    conf.write_text("[jobs]\nsystem.heartbeat = every minute\n", encoding="utf-8")
    result = run("--config", str(conf), "jobs", "list")
    assert result.exit_code == 2 and "cron 表达式" in result.output


def test_jobs_list_run_history(run):
    run("db", "upgrade")
    listing = run("jobs", "list").output
    assert "system.heartbeat" in listing and "清理作业运行记录" in listing
    first = run("jobs", "run", "system.purge_job_history", "--date", "2026-06-30")
    assert first.exit_code == 0 and "succeeded" in first.output and "deleted=0" in first.output
    again = run("jobs", "run", "system.purge_job_history", "--date", "2026-06-30")
    assert again.exit_code == 0 and "skipped" in again.output and "未重复执行" in again.output
    rerun = run("jobs", "run", "system.purge_job_history", "--date", "2026-06-30", "--rerun")
    assert "succeeded" in rerun.output
    history = run("jobs", "history", "--job", "system.purge_job_history").output.splitlines()
    assert len(history) == 2 and "2026-06-30" in history[0]


def test_jobs_run_bad_inputs(run):
    run("db", "upgrade")
    result = run("jobs", "run", "system.nope")
    assert result.exit_code == 1 and "未知的作业 system.nope" in result.output
    result = run("jobs", "run", "system.heartbeat", "--date", "2026-13-40")
    assert result.exit_code == 2


def test_demo_without_serving_is_repeatable(run, tmp_path):
    first = run("demo", "--no-serve")
    assert first.exit_code == 0, first.output
    assert "teller01" in first.output and "Demo@2026" in first.output
    assert "http://127.0.0.1:8000/" in first.output
    assert (tmp_path / "instance" / "hpf.sqlite3").is_file()
    second = run("demo", "--no-serve", "--bind", "0.0.0.0:9000")
    assert second.exit_code == 0 and "http://127.0.0.1:9000/" in second.output
