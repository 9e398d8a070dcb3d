"""Shared fixtures: settings in a temp instance folder, and real databases by URL.

``HPF_TEST_DATABASE_URLS`` (comma-separated) lists the databases for tests that take the
``database`` fixture; the word ``sqlite`` stands for a fresh file. Default: SQLite plus the
local PostgreSQL and MariaDB. ``HPF_REQUIRE_DATABASES=postgresql,mysql`` makes the run fail
when no test passed on those families or any was skipped (CI uses it: a silently skipped
database is a failed database).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import defaultdict

import pytest
import sqlalchemy as sa

from hpf.config import load_settings
from hpf.repositories.database import open_app_database
from hpf.repositories.models import metadata
from hpf.services.crypto import upgrade_database
from hpf_adapters.db import resolve_url

DEFAULT_URLS = ("sqlite,postgresql://postgres@127.0.0.1:5432/hpf_test,"
                "mysql://root@127.0.0.1:3306/hpf_test")
UNREACHABLE = "database not reachable"
# The master key of the shared test databases, so servers and CLI processes started by a
# test read the data keys the fixture created (HPF_CRYPTO_KEK; never a production value).
TEST_KEK = "00112233445566778899aabbccddeeff"
FAMILY = {"sqlite": "sqlite", "postgresql": "postgresql", "opengauss": "postgresql",
          "mysql": "mysql", "mariadb": "mysql", "oceanbase": "mysql"}


def database_urls() -> list[str]:
    raw = os.environ.get("HPF_TEST_DATABASE_URLS", DEFAULT_URLS)
    return [u.strip() for u in raw.split(",") if u.strip()]


def family(url: str) -> str:
    return "sqlite" if url == "sqlite" else FAMILY[resolve_url(url).declared]


def pytest_generate_tests(metafunc):
    if "db_url" in metafunc.fixturenames:
        urls = database_urls()
        ids, seen = [], defaultdict(int)
        for url in urls:
            fam = family(url)
            seen[fam] += 1
            ids.append(fam if seen[fam] == 1 else f"{fam}{seen[fam]}")
        metafunc.parametrize("db_url", urls, ids=ids, indirect=True, scope="session")


@pytest.fixture(scope="session")
def db_url(request, tmp_path_factory):
    url = request.param
    if url == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'hpf-test.sqlite3'}"
    return url


@pytest.fixture
def settings(tmp_path):
    return load_settings(environ={}, overrides={"instance_path": str(tmp_path / "instance"),
                                                "log.format": "text"})


@pytest.fixture(scope="session")
def database(db_url, tmp_path_factory):
    """A migrated database at head, emptied of anything an earlier run left behind."""
    settings = load_settings(environ={}, overrides={
        "instance_path": str(tmp_path_factory.mktemp("instance")), "log.format": "text",
        "crypto.kek": TEST_KEK})
    db = open_app_database(settings, db_url)
    try:
        create_if_missing(db)
        db.check_connection()
    except Exception as exc:
        pytest.skip(f"{UNREACHABLE}: {db.display_url}: {exc}")
    reset_schema(db)
    upgrade_database(db)
    yield db
    db.dispose()


def create_if_missing(db) -> None:
    """Create the test database on a local server when it does not exist yet."""
    url, family = db.engine.url, db.engine.dialect.name
    if family == "sqlite":
        return
    try:
        db.check_connection()
        return
    except Exception:
        pass
    server_level = (url._replace(database=None) if family == "mysql"
                    else url.set(database="postgres"))
    admin = sa.create_engine(server_level, isolation_level="AUTOCOMMIT")
    ddl = (f"CREATE DATABASE {url.database} CHARACTER SET utf8mb4"
           if family == "mysql"
           else f"CREATE DATABASE {url.database} ENCODING 'UTF8' TEMPLATE template0")
    if db.resolved.declared == "opengauss":
        ddl += " DBCOMPATIBILITY 'PG'"  # A (Oracle) mode would turn '' into NULL
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(ddl)
    finally:
        admin.dispose()


def reset_schema(db) -> None:
    with db.engine.begin() as conn:
        metadata.drop_all(conn)
        conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))


# ----- "the database tests really ran" --------------------------------------------------
_families: dict[str, str] = {}
_outcomes: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))


def pytest_collection_modifyitems(items):
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec and "db_url" in callspec.params:
            _families[item.nodeid] = family(callspec.params["db_url"])


def pytest_runtest_logreport(report):
    fam = _families.get(report.nodeid)
    if fam is None:
        return
    if report.skipped:
        # Only a database that could not be reached counts; a variant that does not apply
        # to a server (COPY on MariaDB) skips with "n/a" and is fine.
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        if UNREACHABLE in reason:
            _outcomes[fam]["skipped"] += 1
    elif report.when == "call" and report.passed:
        _outcomes[fam]["passed"] += 1


def pytest_sessionfinish(session, exitstatus):
    required = [f.strip() for f in os.environ.get("HPF_REQUIRE_DATABASES", "").split(",")
                if f.strip()]
    problems = []
    for fam in required:
        seen = _outcomes.get(fam, {})
        if not seen.get("passed"):
            problems.append(f"no database test passed on {fam}")
        if seen.get("skipped"):
            problems.append(f"{seen['skipped']} database test(s) skipped on {fam}")
    summary = {fam: dict(v) for fam, v in _outcomes.items()}
    if required:
        print(f"\ndatabase test outcomes: {summary}")
    if problems:
        print("REQUIRED DATABASES NOT TESTED: " + "; ".join(problems))
        session.exitstatus = 1


# ----- the application over SQLite (HTTP behaviour that does not depend on the database) --
@pytest.fixture
def app(settings):
    from hpf.app import create_app
    from hpf.repositories.uow import UnitOfWork
    from hpf.services.demo import load_demo_centre

    application = create_app(settings)
    database = application.extensions["hpf"].database
    upgrade_database(database)
    load_demo_centre(UnitOfWork(database))
    application.config["TESTING"] = True
    yield application
    database.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


def login(client, username="teller01", password="Demo@2026"):
    """Sign in over the API; an administrator's second factor is enrolled (first time) and
    answered with a code computed from the secret kept per application."""
    response = client.post("/api/v1/session", json={"username": username, "password": password})
    if response.status_code == 202:
        response = client.post("/api/v1/session/otp", json={"code": otp_code(client.application, username,
                                                                              response.get_json())})
    assert response.status_code == 200, response.json
    return response


def api_login(http, base: str, username: str, password: str = "Demo@2026", secrets: dict | None = None):
    """Sign in to a real server with ``requests``; administrators enrol (or answer) the TOTP
    second factor. ``secrets`` keeps enrolled secrets between calls."""
    import time

    from hpf.domain import totp

    response = http.post(base + "/api/v1/session", json={"username": username, "password": password})
    if response.status_code == 202:
        enrolment = response.json()["enrolment"]
        kept = secrets if secrets is not None else {}
        if enrolment:
            kept[username] = enrolment["secret"]
        assert username in kept, f"{username} enrolled earlier; pass the secrets dict"
        response = http.post(base + "/api/v1/session/otp",
                             json={"code": totp.code_at(kept[username], time.time())})
    assert response.status_code == 200, response.text
    return response


def otp_code(app, username: str, step_body: dict | None = None) -> str:
    """A fresh TOTP code for ``username`` (each code is accepted once: use the next step when
    this one was used already)."""
    import time

    from hpf.domain import totp

    kept = app.extensions.setdefault("test_otp", {})
    enrolment = (step_body or {}).get("enrolment")
    if enrolment:
        kept[username] = {"secret": enrolment["secret"], "step": None}
    entry = kept[username]
    clock = app.extensions["hpf"].clock
    step = totp.step_of(clock.now().timestamp())
    if entry["step"] is not None and step <= entry["step"]:
        step = entry["step"] + 1
        if step > totp.step_of(clock.now().timestamp()) + 1:  # both codes in the window used
            assert not hasattr(clock, "at"), "advance the fixed clock by 30 s between administrator logins"
            time.sleep(totp.STEP_SECONDS - time.time() % totp.STEP_SECONDS + 0.1)
            step = totp.step_of(clock.now().timestamp())
    entry["step"] = step
    return totp.code_at(entry["secret"], step * totp.STEP_SECONDS)


CSRF_FIELD = r'name="csrf_token" value="([^"]+)"'


def console_csrf(client, path: str = "/login") -> str:
    """The CSRF token of the console form on ``path`` (the session's token)."""
    import re

    return re.search(CSRF_FIELD, client.get(path).get_data(as_text=True)).group(1)


def console_login(client, username: str = "teller01", password: str = "Demo@2026", next_path: str = ""):
    """Sign in through the console's forms: the password, then for administrators the
    one-time code (enrolling the first time, with the secret read from the page). Returns
    the last response: a redirect to ``next_path`` (or the password page) on success."""
    import re
    from urllib.parse import quote

    target = "/login" + (f"?next={quote(next_path)}" if next_path else "")
    response = client.post(target, data={"username": username, "password": password,
                                         "csrf_token": console_csrf(client)})
    body = response.get_data(as_text=True)
    if response.status_code == 200 and 'name="code"' in body:  # enrolment: the secret is shown once
        step_body = {"enrolment": {"secret": re.search(r"secret=([A-Z2-7]+)", body).group(1)}}
    elif response.status_code == 302 and response.headers["Location"].endswith("/login/otp"):
        body, step_body = client.get("/login/otp").get_data(as_text=True), None
    else:
        return response
    code = otp_code(client.application, username, step_body)
    return client.post("/login/otp", data={"code": code, "csrf_token": re.search(CSRF_FIELD, body).group(1)})


# ----- the slow known-answer test, in parallel with the rest of the suite ----------------
_SLOW_KAT = ("from hpf.crypto import providers, selftest; "
             "print(providers.GmsslSm4().ecb_iterate(selftest.SM4_KEY, selftest.SM4_KEY, 1_000_000).hex())")
_slow: dict[str, subprocess.Popen] = {}


def pytest_sessionstart(session):
    if not os.environ.get("HPF_SKIP_SLOW_KAT"):
        _slow["sm4"] = subprocess.Popen([sys.executable, "-c", _SLOW_KAT], stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True)


@pytest.fixture
def slow_sm4_kat():
    """GB/T 32907 A.2 (SM4, 1,000,000 rounds) on the pure-Python engine, run in a process
    started with the session; the fixture waits for its answer."""
    proc = _slow.get("sm4")
    if proc is None:
        pytest.skip("n/a: HPF_SKIP_SLOW_KAT is set")

    def result() -> str:
        out, _ = proc.communicate(timeout=900)
        assert proc.returncode == 0, out
        return out.strip()

    return result


def pytest_unconfigure(config):
    proc = _slow.pop("sm4", None)
    if proc is not None and proc.poll() is None:
        proc.kill()
