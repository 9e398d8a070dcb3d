"""Browser tests of the staff console: the real server, driven by the system Chromium.

One server for the whole session: ``hpf serve`` (gunicorn, two workers) in a subprocess on a
free 127.0.0.1 port, over a fresh SQLite database in a temporary instance folder, migrated
and loaded with the demo centre by ``hpf demo --no-serve``. Each test gets its own browser
context (cookies, storage) from one Chromium launched by Playwright's sync API with
``/usr/bin/chromium`` (Debian's package; Playwright never downloads a browser here).

Fixtures:
  console                 -> ConsoleServer: base, url(path), db_url, env, instance,
                             hpf(*args, check=True), sql(statement, **params), log()
  browser                 -> playwright Browser (session)
  context                 -> BrowserContext: 1366x768, zh-CN, base_url = console.base
  page                    -> Page in that context; a failed test leaves failed-<test>.png
  shot                    -> shot(page, name) -> Path: full-page PNG in test-artifacts/screenshots/

Without the playwright package or /usr/bin/chromium the suite is skipped, unless
HPF_REQUIRE_BROWSER=1 (CI), which turns the skip into a failure.

The demo users share this one server database: a test that locks a user (five wrong
passwords lock it for 30 minutes) must use a user no other browser test needs, and should
clear the lock afterwards (``console.sql("DELETE FROM login_throttle ...")``).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import requests
import sqlalchemy as sa

from tests.conftest import TEST_KEK

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu"]
VIEWPORT = {"width": 1366, "height": 768}
REQUIRE = "HPF_REQUIRE_BROWSER"
# Flask signs the session cookie with this; the server and CLI runs share it.
TEST_SECRET = "browser-tests-secret-key-0123456789abcdef"


def browser_missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[test]')"
    if not os.access(CHROMIUM, os.X_OK):
        return f"no Chromium at {CHROMIUM} (Debian/UOS/Kylin: apt-get install chromium)"
    return None


def browser_required() -> bool:
    return os.environ.get(REQUIRE, "") not in ("", "0")


def pytest_collection_modifyitems(config, items):
    # A conftest hook sees every collected item: touch only the ones in this folder.
    mine = [item for item in items if HERE in Path(str(item.path)).resolve().parents]
    reason = browser_missing()
    for item in mine:
        item.add_marker(pytest.mark.browser)
        if reason and not browser_required():
            item.add_marker(pytest.mark.skip(reason=f"browser tests skipped: {reason}"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)  # the page fixture screenshots failures
    return report


# ----- the server ------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class ConsoleServer:
    """The running console and what tests need to reach its database."""

    base: str  # http://127.0.0.1:<port>
    db_url: str  # sqlite:///<instance>/hpf.sqlite3
    env: dict[str, str]  # the complete environment of the server and of hpf() runs
    instance: Path
    log_path: Path
    proc: subprocess.Popen | None = None
    _engine: sa.Engine | None = field(default=None, repr=False)

    def url(self, path: str = "/") -> str:
        return self.base + path

    def hpf(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
        """Run an ``hpf`` command against the same database and settings as the server."""
        done = subprocess.run([sys.executable, "-m", "hpf", *args], env=self.env, cwd=self.instance,
                              capture_output=True, text=True, timeout=timeout, check=False)
        if check and done.returncode != 0:
            raise AssertionError(f"hpf {' '.join(args)} exited {done.returncode}:\n"
                                 f"{done.stdout}\n{done.stderr}")
        return done

    def sql(self, statement: str, **params) -> list[sa.Row]:
        """Run one SQL statement in its own transaction; the rows it returns, if any."""
        if self._engine is None:
            self._engine = sa.create_engine(self.db_url)
        with self._engine.begin() as conn:
            result = conn.execute(sa.text(statement), params)
            return list(result) if result.returns_rows else []

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    def start(self, timeout: float = 60) -> None:
        port = int(self.base.rsplit(":", 1)[1])
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "hpf", "serve", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
                env=self.env, cwd=self.instance, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"hpf serve exited {self.proc.returncode}:\n{self.log()}")
            try:
                if requests.get(self.url("/healthz"), timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"hpf serve did not answer /healthz within {timeout:.0f}s:\n{self.log()}")

    def stop(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)  # gunicorn: graceful shutdown
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="session")
def console(tmp_path_factory) -> ConsoleServer:
    """``hpf serve`` over a fresh demo database, for the whole session."""
    instance = tmp_path_factory.mktemp("browser-instance")
    db_url = f"sqlite:///{instance / 'hpf.sqlite3'}"  # = the demo's default file there
    # Nothing from the developer's shell (HPF_CONFIG, HPF_DATABASE_URL...) leaks in.
    env = {k: v for k, v in os.environ.items() if not k.startswith("HPF_")}
    env.update(HPF_INSTANCE_PATH=str(instance), HPF_DATABASE_URL=db_url, HPF_CRYPTO_KEK=TEST_KEK,
               HPF_SECRET_KEY=TEST_SECRET, HPF_LOG_FORMAT="text")
    server = ConsoleServer(base=f"http://127.0.0.1:{free_port()}", db_url=db_url, env=env,
                           instance=instance, log_path=instance / "server.log")
    server.hpf("demo", "--no-serve")  # migrate to head, create data keys, load the demo centre
    server.start()
    yield server
    server.stop()


# ----- the browser -----------------------------------------------------------------------
@pytest.fixture(scope="session")
def browser() -> Browser:
    reason = browser_missing()
    if reason:  # only reached with HPF_REQUIRE_BROWSER set: the collection hook skips otherwise
        pytest.fail(f"{REQUIRE} is set but the browser tests cannot run: {reason}", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser, console) -> BrowserContext:
    ctx = browser.new_context(viewport=VIEWPORT, locale="zh-CN", base_url=console.base)
    ctx.set_default_timeout(10_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context, request) -> Page:
    pg = context.new_page()
    yield pg
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed and not pg.is_closed():
        try:
            shot(pg, f"failed-{re.sub(r'[^A-Za-z0-9_.-]+', '_', request.node.name)}.png")
        except Exception as exc:  # the test's own failure is the one to report
            print(f"no failure screenshot: {exc}")


def shot(page: Page, name: str) -> Path:
    """Save a full-page PNG screenshot as test-artifacts/screenshots/<name>."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / (name if name.endswith(".png") else f"{name}.png")
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture(name="shot")
def shot_fixture():
    """``shot(page, name)`` for tests (fixtures are how tests reach conftest helpers)."""
    return shot
