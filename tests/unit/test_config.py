import os
import stat

import pytest

from hpf.config import load_settings
from hpf.domain.errors import ConfigError


def test_defaults_use_sqlite_in_instance_folder(tmp_path):
    s = load_settings(environ={}, overrides={"instance_path": str(tmp_path)})
    assert s.database_url == f"sqlite:///{tmp_path / 'hpf.sqlite3'}"
    assert s.server.bind == "127.0.0.1:8000"
    assert s.log.format == "json"


def test_ini_file_then_environment_override(tmp_path):
    conf = tmp_path / "hpf.conf"
    conf.write_text("[database]\nurl = postgresql://u@db/hpf\npool_size = 20\n"
                    "[server]\nworkers = 4\n[jobs]\nsystem.heartbeat = off\n", encoding="utf-8")
    env = {"HPF_CONFIG": str(conf), "HPF_SERVER_WORKERS": "6",
           "HPF_INSTANCE_PATH": str(tmp_path)}
    s = load_settings(environ=env)
    assert s.database.url == "postgresql://u@db/hpf"
    assert s.database.pool_size == 20
    assert s.server.workers == 6  # the environment wins over the file
    assert s.jobs == {"system.heartbeat": "off"}


def test_toml_file(tmp_path):
    conf = tmp_path / "hpf.toml"
    conf.write_text(f'instance_path = "{tmp_path}"\n[database]\nurl = "mysql://root@db/hpf"\n'
                    '[log]\nlevel = "DEBUG"\n[jobs]\n"system.purge_job_history" = "0 3 * * *"\n',
                    encoding="utf-8")
    s = load_settings(environ={}, config_file=str(conf))
    assert s.database.url == "mysql://root@db/hpf"
    assert s.log.level == "DEBUG"
    assert s.jobs["system.purge_job_history"] == "0 3 * * *"


@pytest.mark.parametrize("content, message", [
    ("[databse]\nurl = x\n", "未知的配置节 [databse]"),
    ("[database]\npoolsize = 3\n", "未知的配置项 database.poolsize"),
    ("[server]\nworkers = many\n", "server.workers 的值 'many' 无效: 应为整数"),
    ("[server]\nworkers = -1\n", "不能小于 0"),
    ("[scheduler]\nlease_ttl = 1\n", "scheduler.lease_ttl 的值 '1' 无效: 不能小于 3"),
    ("[database]\npool_size = 0\n", "不能小于 1"),
    ("[database]\necho = maybe\n", "应为 true 或 false"),
    ("[log]\nformat = xml\n", "log.format"),
    ("not an ini file", "格式错误"),
])
def test_bad_configuration_is_named(tmp_path, content, message):
    conf = tmp_path / "bad.conf"
    conf.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_settings(environ={"HPF_INSTANCE_PATH": str(tmp_path)}, config_file=str(conf))
    assert message in err.value.message


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="配置文件不存在"):
        load_settings(environ={}, config_file=str(tmp_path / "nope.conf"))


def test_secret_key_generated_once_with_private_mode(tmp_path):
    first = load_settings(environ={}, overrides={"instance_path": str(tmp_path)})
    second = load_settings(environ={}, overrides={"instance_path": str(tmp_path)})
    assert first.secret_key == second.secret_key and len(first.secret_key) >= 32
    assert first.secret_key_generated
    mode = stat.S_IMODE(os.stat(tmp_path / "secret_key").st_mode)
    assert mode == 0o600


def test_inline_comments_in_ini(tmp_path):
    conf = tmp_path / "hpf.conf"
    conf.write_text("[server]\nworkers = 8  # two per core\n[jobs]\n"
                    "system.purge_job_history = 0 3 * * *  ; at night\n", encoding="utf-8")
    s = load_settings(environ={"HPF_INSTANCE_PATH": str(tmp_path)}, config_file=str(conf))
    assert s.server.workers == 8 and s.jobs["system.purge_job_history"] == "0 3 * * *"


def test_short_secret_key_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="HPF_SECRET_KEY 过短"):
        load_settings(environ={"HPF_SECRET_KEY": "changeme", "HPF_INSTANCE_PATH": str(tmp_path)})


def test_secret_key_from_environment_or_file(tmp_path):
    s = load_settings(environ={"HPF_SECRET_KEY": "k" * 40, "HPF_INSTANCE_PATH": str(tmp_path)})
    assert s.secret_key == "k" * 40 and not s.secret_key_generated
    key_file = tmp_path / "key"
    key_file.write_text("short")
    with pytest.raises(ConfigError, match="过短"):
        load_settings(environ={"HPF_SECRET_KEY_FILE": str(key_file),
                               "HPF_INSTANCE_PATH": str(tmp_path)})
    key_file.write_text("s" * 48)
    s = load_settings(environ={"HPF_SECRET_KEY_FILE": str(key_file),
                               "HPF_INSTANCE_PATH": str(tmp_path)})
    assert s.secret_key == "s" * 48
