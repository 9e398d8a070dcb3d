"""HTTP throughput and latency of the real server, against a bare Flask app on gunicorn.

The benchmark starts, in a temporary directory:

* the real HPF Core server: ``hpf demo --no-serve`` builds the demo SQLite database there,
  then ``hpf serve --bind 127.0.0.1:<port> --workers N`` serves it (production defaults:
  sync workers, JSON access log, Prometheus multiprocess metrics);
* the baseline: ``benchmarks/_bare_app.py`` (one JSON endpoint, nothing else) under gunicorn
  with the same workers, threads, timeouts, keep-alive and max-requests as ``hpf serve``.

Each endpoint is loaded for ``--seconds`` by ``--concurrency`` client processes, each with one
keep-alive ``requests.Session`` (after a short warm-up), in ``--repeat`` rounds; a round
visits every endpoint in turn so that noise on this shared machine spreads over all of them.
Reported: requests/s, p50/p95/p99 latency (medians over the rounds) and each endpoint's ratio
to the bare baseline measured in the same round. Nothing asserts a speed; JSON goes to
``benchmarks/results/http-<timestamp>.json``. Servers are stopped with SIGTERM (then SIGKILL
if they hang) on success, on errors and on Ctrl-C.

    .venv/bin/python benchmarks/http_bench.py                           # 10 s x 4 endpoints x 3
    .venv/bin/python benchmarks/http_bench.py --seconds 5 --concurrency 4 --repeat 2
    .venv/bin/python benchmarks/http_bench.py --url http://10.0.0.5:8000   # a running server
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import math
import multiprocessing as mp
import os
import queue
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import _results  # benchmarks/_results.py (scripts run with benchmarks/ on sys.path)
import requests

HERE = Path(__file__).resolve().parent
DEFAULT_PATHS = ("/healthz", "/readyz", "/api/v1/parameters")
BARE = "bare Flask (baseline)"


# ----- servers ------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def hpf_command() -> list[str]:
    script = Path(sys.executable).parent / "hpf"  # the venv's console script, if any
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-c", "from hpf.cli import main; main()"]


def clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without HPF_* settings (the temp instance is self-contained)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HPF_")}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env.update(extra)
    return env


class Server:
    """A server subprocess in its own session, so a Ctrl-C reaches it only through us."""

    def __init__(self, name: str, cmd: list[str], cwd: Path, env: dict[str, str],
                 base_url: str, ready_path: str, log: Path) -> None:
        self.name, self.cmd, self.cwd, self.env = name, cmd, cwd, env
        self.base_url, self.ready_path, self.log = base_url, ready_path, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> None:
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(self.cmd, cwd=self.cwd, env=self.env, stdout=out,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n"
                                   f"{self.log_tail()}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(self.base_url + self.ready_path, timeout=2).status_code == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not answering {self.ready_path} after {timeout:.0f} s:"
                           f"\n{self.log_tail()}")

    def stop(self, grace: float = 35.0) -> None:
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)  # gunicorn: graceful shutdown of the workers
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            print(f"{self.name}: no exit after SIGTERM, killing", file=sys.stderr)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # its own session: master and workers
            proc.wait(timeout=10)

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def demo_database(demo_output: str, instance: Path) -> Path:
    """The SQLite file ``hpf demo`` filled: the path it prints, else the instance's file."""
    for line in demo_output.splitlines():
        match = re.search(r"(/\S+\.sqlite3)\s*$", line)
        if match and Path(match[1]).is_file():
            return Path(match[1])
    found = sorted(instance.glob("*.sqlite3"), key=lambda p: p.stat().st_size, reverse=True)
    if not found:
        raise RuntimeError(f"hpf demo created no SQLite file in {instance}:\n{demo_output}")
    return found[0]


class ServerDied(RuntimeError):
    pass


def check_alive(servers: list[Server]) -> None:
    for server in servers:
        if server.proc is not None and server.proc.poll() is not None:
            raise ServerDied(f"{server.name} exited with {server.proc.returncode} during the "
                             f"run; last lines of its log:\n{server.log_tail()}")


def gunicorn_options(workers: int, threads: int, access_log: bool) -> list[str]:
    """The bare baseline's gunicorn flags, copied from ``hpf serve``'s production defaults."""
    import gunicorn.config

    from hpf.config import ServerSettings

    s = ServerSettings()
    opts = ["--workers", str(workers), "--threads", str(threads),
            "--worker-class", "gthread" if threads > 1 else "sync",
            "--timeout", str(s.timeout), "--graceful-timeout", str(s.graceful_timeout),
            "--keep-alive", str(s.keepalive), "--max-requests", str(s.max_requests),
            "--max-requests-jitter", str(s.max_requests_jitter), "--error-logfile", "-"]
    if access_log:
        opts += ["--access-logfile", "-"]
    if Path("/dev/shm").is_dir():
        opts += ["--worker-tmp-dir", "/dev/shm"]
    if "control_socket_disable" in gunicorn.config.Config().settings:  # gunicorn >= 25
        opts += ["--no-control-socket"]
    return opts


def start_servers(args: argparse.Namespace, tmp: Path,
                  servers: list[Server]) -> tuple[str | None, str | None, dict[str, object]]:
    """Start what this run needs; every started server is appended to ``servers`` at once."""
    info: dict[str, object] = {}
    hpf_url = bare_url = None
    if args.url:
        hpf_url = args.url.rstrip("/")
        info["hpf"] = {"url": hpf_url, "started_here": False}
    else:
        env = clean_env()
        print("preparing the demo database (hpf demo --no-serve) ...", file=sys.stderr)
        done = subprocess.run([*hpf_command(), "demo", "--no-serve"], cwd=tmp, env=env,
                              capture_output=True, text=True, timeout=300, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"hpf demo --no-serve failed ({done.returncode}):\n"
                               f"{done.stdout}{done.stderr}")
        db_file = demo_database(done.stdout, tmp / "instance")
        port = free_port()
        hpf_url = f"http://127.0.0.1:{port}"
        extra = {"HPF_DATABASE_URL": f"sqlite:///{db_file}"}
        if not args.access_log:
            extra["HPF_SERVER_ACCESS_LOG"] = ""
        cmd = [*hpf_command(), "serve", "--bind", f"127.0.0.1:{port}",
               "--workers", str(args.workers), "--threads", str(args.threads)]
        server = Server("hpf serve", cmd, tmp, clean_env(**extra), hpf_url, "/healthz",
                        tmp / "hpf-serve.log")
        servers.append(server)
        print(f"starting {' '.join(cmd)} ...", file=sys.stderr)
        server.start()
        info["hpf"] = {"url": hpf_url, "started_here": True, "command": cmd,
                       "database": extra["HPF_DATABASE_URL"]}
    if not args.no_baseline:
        port = free_port()
        bare_url = f"http://127.0.0.1:{port}"
        cmd = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
               *gunicorn_options(args.workers, args.threads, args.access_log),
               "--pythonpath", str(HERE), "_bare_app:app"]
        server = Server("bare gunicorn", cmd, tmp, clean_env(), bare_url, "/",
                        tmp / "bare-gunicorn.log")
        servers.append(server)
        print("starting the bare Flask baseline under gunicorn ...", file=sys.stderr)
        server.start()
        info["bare"] = {"url": bare_url, "command": cmd}
    return hpf_url, bare_url, info


# ----- load generator -----------------------------------------------------------------------

def client(url: str, warmup: float, seconds: float, barrier, results) -> None:
    """One keep-alive client: warm up, then record every request for ``seconds``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops us
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    session = requests.Session()
    barrier.wait()
    start = time.perf_counter()
    warm_end, end = start + warmup, start + warmup + seconds
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    errors = 0
    measured_from = None
    while True:
        t0 = time.perf_counter()
        if t0 >= end:
            break
        if measured_from is None and t0 >= warm_end:
            measured_from = t0
        try:
            response = session.get(url, timeout=30)
            _ = response.content
            status = response.status_code
        except requests.RequestException:
            status = 0
        t1 = time.perf_counter()
        if measured_from is None:
            continue
        if status == 0:
            errors += 1
            time.sleep(0.01)
            continue
        statuses[status] += 1
        if 200 <= status < 300:
            latencies.append(t1 - t0)
    elapsed = time.perf_counter() - (measured_from or end)
    results.put((latencies, dict(statuses), errors, elapsed))


def percentile(ordered: Sequence[float], q: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def load(url: str, concurrency: int, warmup: float, seconds: float) -> dict[str, object]:
    methods = mp.get_all_start_methods()
    ctx = mp.get_context("fork" if "fork" in methods else "spawn")
    barrier = ctx.Barrier(concurrency + 1)
    results = ctx.Queue()
    procs = [ctx.Process(target=client, args=(url, warmup, seconds, barrier, results),
                         daemon=True) for _ in range(concurrency)]
    try:
        for p in procs:
            p.start()
        barrier.wait(timeout=60)
        got = [results.get(timeout=warmup + seconds + 90) for _ in procs]
        for p in procs:
            p.join(timeout=10)
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()
    latencies = sorted(x for part in got for x in part[0])
    statuses: Counter[int] = Counter()
    for part in got:
        statuses.update({int(k): v for k, v in part[1].items()})
    errors = sum(part[2] for part in got)
    elapsed = statistics.mean(part[3] for part in got) or seconds
    ok = len(latencies)
    return {
        "requests_ok": ok,
        "non_2xx": sum(v for k, v in statuses.items() if not 200 <= k < 300),
        "connection_errors": errors,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "seconds": round(elapsed, 3),
        "rps": ok / elapsed if elapsed > 0 else 0.0,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p95_ms": percentile(latencies, 0.95) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
    }


# ----- the run ------------------------------------------------------------------------------

def preflight(url: str) -> str:
    """'' if the endpoint answers 200, else why it is skipped."""
    try:
        response = requests.get(url, timeout=10)
    except requests.RequestException as exc:
        reason = str(exc).rsplit(": ", 1)[-1].strip("'\")") if str(exc) else ""
        return f"unreachable: {type(exc).__name__} {reason}"[:160]
    if response.status_code != 200:
        return f"HTTP {response.status_code}: {response.text[:200]}"
    return ""


def machine_info() -> dict[str, object]:
    import gunicorn

    return _results.machine_info(flask=importlib.metadata.version("flask"),
                                 gunicorn=gunicorn.__version__, requests=requests.__version__)


def summarise(name: str, url: str, rounds: list[dict[str, object]],
              bare_rounds: list[dict[str, object]] | None) -> dict[str, object]:
    def med(key: str, source: list[dict[str, object]]) -> float:
        return statistics.median(float(r[key]) for r in source)

    out: dict[str, object] = {"name": name, "url": url, "rounds": rounds}
    for key in ("rps", "p50_ms", "p95_ms", "p99_ms"):
        out[key] = med(key, rounds)
    out["non_2xx"] = sum(int(r["non_2xx"]) for r in rounds)
    out["connection_errors"] = sum(int(r["connection_errors"]) for r in rounds)
    if bare_rounds:
        # paired: each round's endpoint against the bare run of the same round
        pairs = list(zip(rounds, bare_rounds, strict=True))
        out["rps_ratio_vs_bare"] = statistics.median(
            float(r["rps"]) / float(b["rps"]) for r, b in pairs if float(b["rps"]) > 0)
        out["p50_ratio_vs_bare"] = statistics.median(
            float(r["p50_ms"]) / float(b["p50_ms"]) for r, b in pairs if float(b["p50_ms"]) > 0)
    return out


def print_table(summaries: list[dict[str, object]], skipped: dict[str, str]) -> None:
    head = (f"{'endpoint':<26}{'req/s':>10}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
            f"{'errors':>8}{'req/s x bare':>14}{'p50 x bare':>12}")
    print()
    print(head)
    print("-" * len(head))
    for s in summaries:
        rr = s.get("rps_ratio_vs_bare")
        lr = s.get("p50_ratio_vs_bare")
        errors = int(s["non_2xx"]) + int(s["connection_errors"])
        print(f"{s['name']:<26}{s['rps']:>10,.1f}{s['p50_ms']:>9.2f}{s['p95_ms']:>9.2f}"
              f"{s['p99_ms']:>9.2f}{errors:>8}"
              f"{(f'{rr:.2f}' if rr is not None else '-'):>14}"
              f"{(f'{lr:.2f}' if lr is not None else '-'):>12}")
    for name, why in skipped.items():
        print(f"{name:<26}SKIPPED: {why}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per load")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds first")
    parser.add_argument("--concurrency", type=int, default=8, help="client processes")
    parser.add_argument("--repeat", type=int, default=3, help="rounds over all endpoints")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (both servers)")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads per worker (>1 = gthread, which honours keep-alive)")
    parser.add_argument("--path", action="append", default=[],
                        help=f"HPF path to load (repeatable); default {', '.join(DEFAULT_PATHS)}")
    parser.add_argument("--url", default="",
                        help="benchmark this running HPF server instead of starting one")
    parser.add_argument("--no-baseline", action="store_true",
                        help="do not start the bare Flask baseline (no ratios)")
    parser.add_argument("--no-access-log", dest="access_log", action="store_false",
                        help="switch the access log off on both servers (default: on, as in "
                             "production)")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (server logs)")
    parser.add_argument("--out", default="",
                        help="JSON file (default benchmarks/results/http-<timestamp>.json)")
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.warmup < 0 or min(args.concurrency, args.repeat,
                                                   args.workers, args.threads) < 1:
        parser.error("--seconds > 0, --warmup >= 0; concurrency, repeat, workers, threads >= 1")

    def terminate(signum, _frame):
        raise KeyboardInterrupt  # run the finally blocks: stop the servers

    signal.signal(signal.SIGTERM, terminate)
    started = datetime.now(UTC)
    tmp = Path(tempfile.mkdtemp(prefix="hpf-http-bench-"))
    servers: list[Server] = []
    machine = machine_info()
    paths = args.path or list(DEFAULT_PATHS)
    summaries: list[dict[str, object]] = []
    skipped: dict[str, str] = {}
    server_info: dict[str, object] = {}
    interrupted = False
    aborted = ""
    print(f"http_bench: {machine['machine']}, {machine['cpu_count']} CPUs, Python "
          f"{machine['python']}, gunicorn {machine['gunicorn']}; workers={args.workers} "
          f"threads={args.threads} concurrency={args.concurrency} seconds={args.seconds} "
          f"warmup={args.warmup} repeat={args.repeat}")
    try:
        hpf_url, bare_url, server_info = start_servers(args, tmp, servers)
        targets: list[tuple[str, str]] = []
        if bare_url:
            targets.append((BARE, bare_url + "/"))
        targets += [(p, hpf_url + p) for p in paths]
        for name, url in list(targets):
            why = preflight(url)
            if why:
                skipped[name] = why
                targets.remove((name, url))
        rounds: dict[str, list[dict[str, object]]] = {name: [] for name, _ in targets}
        try:
            for rep in range(args.repeat):
                for name, url in targets:
                    print(f"  round {rep + 1}/{args.repeat}: {name} ...", file=sys.stderr,
                          flush=True)
                    result = load(url, args.concurrency, args.warmup, args.seconds)
                    check_alive(servers)  # a load during which a server died is not kept
                    rounds[name].append(result)
        except KeyboardInterrupt:
            interrupted = True
            print("\ninterrupted: reporting complete rounds only", file=sys.stderr)
        except ServerDied as exc:
            aborted = str(exc)
            args.keep = True
            print(f"\nABORTED: {exc}\nreporting complete rounds only", file=sys.stderr)
        complete = min((len(r) for r in rounds.values()), default=0)
        bare_rounds = rounds.get(BARE, [])[:complete] or None
        for name, url in targets:
            if complete:
                summaries.append(summarise(name, url, rounds[name][:complete], bare_rounds))
        print_table(summaries, skipped)
    except KeyboardInterrupt:
        interrupted = True
        print("\ninterrupted", file=sys.stderr)
    except (RuntimeError, subprocess.SubprocessError, OSError, queue.Empty) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        for server in reversed(servers):
            server.stop()
        if args.keep:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    document = {
        "interrupted": interrupted,
        "aborted": aborted,
        "machine": machine,
        "parameters": {"seconds": args.seconds, "warmup": args.warmup,
                       "concurrency": args.concurrency, "repeat": args.repeat,
                       "workers": args.workers, "threads": args.threads,
                       "access_log": args.access_log, "paths": paths},
        "servers": server_info,
        "notes": ["rps, p50/p95/p99 are medians over the rounds; latencies of 2xx responses",
                  "ratios are paired per round against the bare baseline, then the median"],
        "endpoints": summaries,
        "skipped": skipped,
    }
    _results.write_results("http", started, document, args.out)
    return 130 if interrupted else (1 if aborted else 0)


if __name__ == "__main__":
    sys.exit(main())
