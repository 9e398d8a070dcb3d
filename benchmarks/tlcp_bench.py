"""TLCP (GB/T 38636) on loopback: handshakes per second and bulk HTTP throughput, against plain TCP.

Measured in one run, with the server in its own process (``multiprocessing``: client and
server never share a GIL) and a thread per accepted connection:

* **handshakes**: per cipher suite, ``--clients`` client processes (each ``--client-threads``
  threads) connect, handshake, exchange one byte and close, for ``--seconds``; first with full
  handshakes, then resumed ones (each client offers the session of its previous full
  handshake). Reported: count, handshakes/s, median and p95 latency (connect to echo), and the
  server process's CPU time per handshake, from which ``capacity/core`` = the handshakes one
  server core could do if the clients ran elsewhere (the clients, not the server, are the
  heavier side of a TLCP handshake: two chain checks, a signature check and an SM2 encryption).
* **bulk HTTP**: a minimal WSGI app returning ``--size`` bytes (in ``--chunk`` pieces) served
  over (a) plain HTTP, (b) TLCP ECC_SM4_CBC_SM3 and (c) TLCP ECC_SM4_GCM_SM3 by the same
  server code, fetched by a client reading with ``recv_into`` into a bytearray; variants
  alternate fetch by fetch for ``3 x --seconds`` so noise hits them alike. MB/s is the median
  over the fetches (timed from the request to the last byte, after the handshake);
  ``x plain`` is TLCP ÷ plain of the same run.

The server is gunicorn with ``hpf.tlcp.server.TlcpSyncWorker`` when that module exists and
``--server gunicorn`` is asked for; otherwise (default ``auto`` falls back to it) a threaded
``wsgiref`` server whose accepted sockets are wrapped by ``TLCPContext.wrap_socket`` (the
handshake runs in the connection's thread). The output names which one ran.

Targets (printed, never asserted): ≥ 200 full handshakes/s with the fast (OpenSSL) crypto
provider, resumed ≥ 5x full, TLCP bulk ≥ 50 % of plain. JSON goes to
``benchmarks/results/tlcp-<timestamp>.json``.

    .venv/bin/python benchmarks/tlcp_bench.py                       # 5 s phases, 16 MiB body
    .venv/bin/python benchmarks/tlcp_bench.py --quick               # 1 s phases, 2 MiB body (smoke)
    .venv/bin/python benchmarks/tlcp_bench.py --suite ECC_SM4_GCM_SM3 --clients 4 --seconds 10
    HPF_CRYPTO_PROVIDER=portable .venv/bin/python benchmarks/tlcp_bench.py --no-bulk
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing as mp
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import wsgiref.simple_server
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import _results  # benchmarks/_results.py (scripts run with benchmarks/ on sys.path)

from hpf.crypto import providers, x509
from hpf.crypto.sm2 import SM2PrivateKey
from hpf.tlcp import Credentials, TLCPContext, suite_by_name
from hpf.tlcp.constants import MAX_PLAINTEXT
from hpf.tlcp.record import CbcProtection, GcmProtection

DEFAULT_SUITES = ("ECC_SM4_CBC_SM3", "ECC_SM4_GCM_SM3", "ECDHE_SM4_GCM_SM3")
BULK_VARIANTS = ("plain", "ECC_SM4_CBC_SM3", "ECC_SM4_GCM_SM3")
MiB = 1 << 20
PLAIN = "plain TCP (baseline)"
HERE = Path(__file__).resolve().parent


# ----- PKI (made once in the parent, handed to the processes as PEM) ------------------------


def make_pki() -> dict[str, object]:
    ca_key = SM2PrivateKey.generate()
    ca = x509.issue(
        x509.Name.build(CN="TLCP bench CA"),
        ca_key.public_key(),
        issuer=None,
        issuer_key=ca_key,
        is_ca=True,
        key_usage=["keyCertSign", "cRLSign"],
        days=30,
    )

    def pair(cn: str, eku: str) -> dict[str, str]:
        out = {}
        for role, usage in (
            ("sign", ["digitalSignature", "nonRepudiation"]),
            ("enc", ["keyEncipherment", "dataEncipherment", "keyAgreement"]),
        ):
            key = SM2PrivateKey.generate()
            cert = x509.issue(
                x509.Name.build(CN=cn),
                key.public_key(),
                issuer=ca,
                issuer_key=ca_key,
                key_usage=usage,
                extended_key_usage=[eku],
                dns_names=["localhost"],
                days=30,
            )
            out[f"{role}_cert"], out[f"{role}_key"] = cert.to_pem(), key.to_pem()
        return out

    return {
        "ca": ca.to_pem(),
        "server": pair("localhost", "serverAuth"),
        "client": pair("client", "clientAuth"),
    }


def credentials(pki: dict[str, object], who: str) -> Credentials:
    p = pki[who]
    ca = x509.Certificate.from_pem(pki["ca"])
    return Credentials(
        x509.Certificate.from_pem(p["sign_cert"]),
        SM2PrivateKey.from_pem(p["sign_key"]),
        x509.Certificate.from_pem(p["enc_cert"]),
        SM2PrivateKey.from_pem(p["enc_key"]),
        (ca,),
    )


def server_context(pki: dict[str, object], suite: str | None) -> TLCPContext:
    suites = [suite_by_name(suite)] if suite else None
    return TLCPContext(
        server_side=True,
        credentials=credentials(pki, "server"),
        suites=suites,
        trust_anchors=[x509.Certificate.from_pem(pki["ca"])],
    )


def client_context(pki: dict[str, object], suite: str) -> TLCPContext:
    chosen = suite_by_name(suite)
    return TLCPContext(
        server_side=False,
        credentials=credentials(pki, "client") if chosen.ecdhe else None,
        suites=[chosen],
        trust_anchors=[x509.Certificate.from_pem(pki["ca"])],
    )


def provider_info() -> dict[str, object]:
    p = providers.active()
    engines = {alg: {"engine": e.name, "library": e.library} for alg, e in p.engines().items()}
    fast = all(e.name.startswith("openssl") for e in p.engines().values())
    return {"name": p.name, "engines": engines, "fallbacks": p.fallbacks, "fast": fast}


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def mp_context():
    return mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")


# ----- the server process -------------------------------------------------------------------


def body_app(size: int, chunk: int):
    piece = os.urandom(min(chunk, size)) if size else b""

    def app(environ, start_response):
        start_response(
            "200 OK", [("Content-Type", "application/octet-stream"), ("Content-Length", str(size))]
        )
        full, rest = divmod(size, len(piece)) if piece else (0, 0)
        return [piece] * full + ([piece[:rest]] if rest else [])

    return app


_WSGI_APP = None


def wsgi_app(environ, start_response):
    """What ``gunicorn tlcp_bench:wsgi_app`` serves: ``TLCP_BENCH_SIZE`` bytes."""
    global _WSGI_APP
    if _WSGI_APP is None:
        _WSGI_APP = body_app(int(os.environ["TLCP_BENCH_SIZE"]), int(os.environ["TLCP_BENCH_CHUNK"]))
    return _WSGI_APP(environ, start_response)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class GunicornServer:
    """``python -m gunicorn -k hpf.tlcp.server.TlcpSyncWorker`` (1 worker) on a plain HTTP bind and a
    TLCP bind, configured like ``hpf serve --tlcp`` through HPF_* variables; the app is ``wsgi_app``."""

    def __init__(self, pki: dict[str, object], size: int, chunk: int, folder: Path) -> None:
        files = {}
        for name, text in (
            ("sign_cert", pki["server"]["sign_cert"]),
            ("sign_key", pki["server"]["sign_key"]),
            ("enc_cert", pki["server"]["enc_cert"]),
            ("enc_key", pki["server"]["enc_key"]),
            ("chain", pki["ca"]),
        ):
            files[name] = folder / f"{name}.pem"
            files[name].write_text(text, encoding="utf-8")
        self.ports = [free_port(), free_port()]
        plain, tlcp = (f"127.0.0.1:{p}" for p in self.ports)
        env = {k: v for k, v in os.environ.items() if not k.startswith("HPF_")}
        env.update(
            {
                "HPF_INSTANCE_PATH": str(folder),
                "HPF_SECRET_KEY": "tlcp-bench-" + "x" * 40,
                "HPF_SERVER_BIND": plain,
                "HPF_TLCP_ENABLED": "true",
                "HPF_TLCP_BIND": tlcp,
                **{f"HPF_TLCP_{k.upper()}": str(v) for k, v in files.items()},
                "TLCP_BENCH_SIZE": str(size),
                "TLCP_BENCH_CHUNK": str(chunk),
            }
        )
        if "HPF_CRYPTO_PROVIDER" in os.environ:
            env["HPF_CRYPTO_PROVIDER"] = os.environ["HPF_CRYPTO_PROVIDER"]
        self.cmd = [
            sys.executable, "-m", "gunicorn", "-k", "hpf.tlcp.server.TlcpSyncWorker", "--workers", "1",
            "--bind", plain, "--bind", tlcp, "--no-sendfile", "--timeout", "120",
            "--pythonpath", str(HERE), "tlcp_bench:wsgi_app",
        ]  # fmt: skip
        self.log = folder / "gunicorn.log"
        self.env, self.proc = env, None

    def __enter__(self) -> GunicornServer:
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                self.cmd, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}: {self.tail()}")
            try:
                for port in self.ports:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.2)
        self.__exit__()
        raise RuntimeError(f"gunicorn not listening after 60 s: {self.tail()}")

    def tail(self) -> str:
        return "\n".join(self.log.read_text(encoding="utf-8", errors="replace").splitlines()[-15:])

    def stats(self) -> dict[str, float]:
        return {"errors": 0}

    def __exit__(self, *exc) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)


class _QuietHandler(wsgiref.simple_server.WSGIRequestHandler):
    def log_message(self, *args) -> None:  # no access log: it would be the bottleneck
        pass


def serve_http(
    listener: socket.socket, ctx: TLCPContext | None, app, stop: threading.Event, stats: dict
) -> None:
    """A threaded wsgiref server on ``listener``; TLCP when ``ctx`` is given."""

    class Server(wsgiref.simple_server.WSGIServer):
        daemon_threads = True

        def server_bind(self) -> None:  # the listener is already bound
            self.server_address = listener.getsockname()
            self.server_name, self.server_port = "localhost", self.server_address[1]
            self.setup_environ()

        def server_activate(self) -> None:
            pass

        def get_request(self):
            sock, addr = self.socket.accept()
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if ctx is not None:
                sock = ctx.wrap_socket(sock, do_handshake=False)  # handshake in the handler thread
            return sock, addr

        def process_request(self, request, client_address) -> None:
            threading.Thread(
                target=self.process_request_thread, args=(request, client_address), daemon=True
            ).start()

        def process_request_thread(self, request, client_address) -> None:
            try:
                self.finish_request(request, client_address)
            except Exception:
                stats["errors"] += 1
            finally:
                self.shutdown_request(request)
            stats["requests"] += 1

        def handle_error(self, request, client_address) -> None:
            stats["errors"] += 1

    server = Server(("127.0.0.1", 0), _QuietHandler, bind_and_activate=False)
    server.socket.close()
    server.socket = listener
    server.server_bind()
    server.set_app(app)
    threading.Thread(target=lambda: (stop.wait(), server.shutdown()), daemon=True).start()
    server.serve_forever(poll_interval=0.1)


def serve_handshakes(listener: socket.socket, ctx: TLCPContext, stop: threading.Event, stats: dict) -> None:
    """Accept, handshake, echo one byte, close; a thread per connection."""

    def handle(sock: socket.socket) -> None:
        conn = None
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = ctx.wrap_socket(sock) if ctx else sock
            if conn.recv(1):
                conn.sendall(b"y")
            stats["resumed" if getattr(conn, "session_reused", False) else "full"] += 1
        except Exception:
            stats["errors"] += 1
        finally:
            with contextlib.suppress(Exception):
                (conn or sock).close()

    listener.settimeout(0.1)
    while not stop.is_set():
        try:
            sock, _ = listener.accept()
        except TimeoutError:
            continue
        except OSError:
            break
        sock.settimeout(None)
        threading.Thread(target=handle, args=(sock,), daemon=True).start()


def server_main(pki: dict[str, object], specs: list[dict[str, object]], pipe) -> None:
    """Serve every listener of ``specs``; answer "stats" and "stop" on ``pipe``."""
    try:
        stop = threading.Event()
        stats = {"full": 0, "resumed": 0, "errors": 0, "requests": 0}
        ports, threads = [], []
        for spec in specs:
            listener = socket.socket()
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", 0))
            listener.listen(512)
            ports.append(listener.getsockname()[1])
            ctx = server_context(pki, spec.get("suite")) if spec["tlcp"] else None
            if spec["kind"] == "handshake":
                target, args = serve_handshakes, (listener, ctx, stop, stats)
            else:
                app = body_app(spec["size"], spec["chunk"])
                target, args = serve_http, (listener, ctx, app, stop, stats)
            threads.append(threading.Thread(target=target, args=args, daemon=True))
        for t in threads:
            t.start()
        pipe.send({"ports": ports, "provider": provider_info()})
        while True:
            command = pipe.recv()
            if command == "stats":
                pipe.send({**stats, "cpu": cpu_seconds(), "wall": time.monotonic()})
            elif command == "stop":
                stop.set()
                for t in threads:
                    t.join(timeout=5)
                pipe.send("stopped")
                return
    except Exception:
        pipe.send({"error": traceback.format_exc()})


class ServerProcess:
    def __init__(self, pki: dict[str, object], specs: list[dict[str, object]]) -> None:
        ctx = mp_context()
        self.pipe, child = ctx.Pipe()
        self.proc = ctx.Process(target=server_main, args=(pki, specs, child), daemon=True)

    def __enter__(self) -> ServerProcess:
        self.proc.start()
        if not self.pipe.poll(60):
            raise RuntimeError("server process did not start")
        hello = self.pipe.recv()
        if "error" in hello:
            raise RuntimeError(f"server process failed:\n{hello['error']}")
        self.ports, self.provider = hello["ports"], hello["provider"]
        return self

    def stats(self) -> dict[str, float]:
        self.pipe.send("stats")
        return self.pipe.recv()

    def __exit__(self, *exc) -> None:
        with contextlib.suppress(Exception):
            self.pipe.send("stop")
            if self.pipe.poll(10):
                self.pipe.recv()
        self.proc.join(timeout=5)
        if self.proc.is_alive():
            self.proc.terminate()
            self.proc.join(timeout=5)


# ----- handshake clients --------------------------------------------------------------------


def one_handshake(ctx: TLCPContext, port: int, session):
    started = time.perf_counter()
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    conn = ctx.wrap_socket(sock, server_hostname="localhost", session=session) if ctx else sock
    conn.sendall(b"x")
    if conn.recv(1) != b"y":
        raise RuntimeError("no echo")
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed, getattr(conn, "session", None), getattr(conn, "session_reused", False)


def handshake_client(pki, suite, port, resume, threads, barrier, seconds, results) -> None:
    ctx = client_context(pki, suite) if suite != PLAIN else None
    out: list[tuple[float, bool]] = []
    errors: list[str] = []
    lock = threading.Lock()
    try:
        sessions = [one_handshake(ctx, port, None)[1] for _ in range(threads)]  # warm-up + session
    except Exception as exc:
        barrier.abort()
        results.put({"latencies": [], "reused": 0, "errors": [repr(exc)], "span": (0.0, 0.0)})
        return
    barrier.wait()
    deadline = time.monotonic() + seconds

    def loop(session) -> None:
        while time.monotonic() < deadline:
            try:
                latency, new_session, reused = one_handshake(ctx, port, session if resume else None)
            except Exception as exc:
                with lock:
                    errors.append(repr(exc))
                continue
            with lock:
                out.append((latency, reused))
            if resume and not reused:
                session = new_session

    started = time.monotonic()
    workers = [threading.Thread(target=loop, args=(s,)) for s in sessions]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    results.put(
        {
            "latencies": [lat for lat, _ in out],
            "reused": sum(1 for _, r in out if r),
            "errors": errors[:5],
            "error_count": len(errors),
            "span": (started, time.monotonic()),
        }
    )


def percentile(ordered: Sequence[float], q: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def handshake_phase(pki, server: ServerProcess, suite: str, resume: bool, args) -> dict[str, object]:
    ctx = mp_context()
    barrier = ctx.Barrier(args.clients + 1)
    results = ctx.Queue()
    procs = [
        ctx.Process(
            target=handshake_client,
            args=(
                pki,
                suite,
                server.ports[1 if suite == PLAIN else 0],
                resume,
                args.client_threads,
                barrier,
                args.seconds,
                results,
            ),
        )
        for _ in range(args.clients)
    ]
    for p in procs:
        p.start()
    with contextlib.suppress(threading.BrokenBarrierError):
        barrier.wait(timeout=120)  # every client has warmed up (one handshake each, not counted)
    before = server.stats()
    parts = [results.get(timeout=args.seconds + 120) for _ in procs]
    after = server.stats()
    for p in procs:
        p.join(timeout=10)
    latencies = sorted(lat for part in parts for lat in part["latencies"])
    spans = [part["span"] for part in parts if part["span"][1] > part["span"][0]]
    wall = (max(e for _, e in spans) - min(s for s, _ in spans)) if spans else float("nan")
    count = len(latencies)
    served = (after["full"] - before["full"]) + (after["resumed"] - before["resumed"])
    server_cpu = after["cpu"] - before["cpu"]
    reused = sum(part["reused"] for part in parts)
    errors = [e for part in parts for e in part["errors"]]
    return {
        "suite": suite,
        "mode": "resumed" if resume else ("connect" if suite == PLAIN else "full"),
        "count": count,
        "reused": reused,
        "seconds": wall,
        "rate": count / wall if wall and count else 0.0,
        "p50_ms": percentile(latencies, 0.5) * 1000,
        "p95_ms": percentile(latencies, 0.95) * 1000,
        "server_handshakes": served,
        "server_errors": after["errors"] - before["errors"],
        "server_cpu_s": server_cpu,
        "server_cpu_ms_per_hs": server_cpu / served * 1000 if served else float("nan"),
        "capacity_per_core": served / server_cpu if server_cpu else float("nan"),
        "client_errors": sum(part.get("error_count", len(part["errors"])) for part in parts),
        "client_error_samples": errors[:5],
    }


# ----- bulk HTTP client ---------------------------------------------------------------------


def fetch(port: int, ctx: TLCPContext | None, size: int, buf: bytearray) -> tuple[float, float, int]:
    """(handshake s, transfer s, body bytes) of one GET over a fresh connection."""
    started = time.perf_counter()
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    conn = ctx.wrap_socket(sock, server_hostname="localhost") if ctx else sock
    handshaken = time.perf_counter()
    try:
        conn.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        view, got = memoryview(buf), 0
        while True:
            n = conn.recv_into(view[got:])
            if not n:
                break
            got += n
            if got == len(buf):
                raise RuntimeError("response larger than expected")
        done = time.perf_counter()
    finally:
        conn.close()
    head_end = bytes(buf[: min(got, 4096)]).find(b"\r\n\r\n")
    if head_end < 0 or not bytes(buf[:12]).startswith(b"HTTP/1.") or b" 200 " not in bytes(buf[:16]):
        raise RuntimeError(f"bad response: {bytes(buf[:80])!r}")
    body = got - head_end - 4
    if body != size:
        raise RuntimeError(f"body of {body} bytes, expected {size}")
    return handshaken - started, done - handshaken, body


def crypto_ceiling(suite: str, size: int) -> dict[str, float]:
    """MiB/s of sealing and of opening ``size`` bytes as 2^14-byte records in this process: what
    the record protection alone allows (the server seals, the client opens, in parallel)."""
    chosen = suite_by_name(suite)
    key, mac, iv = os.urandom(16), os.urandom(32), os.urandom(4)

    def pair():
        if chosen.aead:
            return GcmProtection(key, iv), GcmProtection(key, iv)
        return CbcProtection(mac, key), CbcProtection(mac, key)

    sealer, opener = pair()
    data = os.urandom(MAX_PLAINTEXT)
    n = max(1, size // MAX_PLAINTEXT)
    started = time.perf_counter()
    records = [sealer.seal(23, data) for _ in range(n)]
    sealed = time.perf_counter()
    for fragment in records:
        opener.open(23, fragment)
    opened = time.perf_counter()
    total = n * MAX_PLAINTEXT / MiB
    return {"seal_mib_s": total / (sealed - started), "open_mib_s": total / (opened - sealed)}


def bulk_phase(pki, args, use_gunicorn: bool) -> dict[str, object]:
    contexts = {v: None if v == "plain" else client_context(pki, v) for v in BULK_VARIANTS}
    buf = bytearray(args.size + 65536)
    samples: dict[str, list[float]] = {v: [] for v in BULK_VARIANTS}
    handshakes: dict[str, list[float]] = {v: [] for v in BULK_VARIANTS}
    with contextlib.ExitStack() as stack:
        if use_gunicorn:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tlcp-bench-")))
            server = stack.enter_context(GunicornServer(pki, args.size, args.chunk, folder))
            plain_port, tlcp_port = server.ports  # one TLCP listener: the client offers one suite
            ports = {v: plain_port if v == "plain" else tlcp_port for v in BULK_VARIANTS}
            described = f"gunicorn -k hpf.tlcp.server.TlcpSyncWorker, 1 worker ({' '.join(server.cmd[1:])})"
        else:
            specs = [
                {"kind": "http", "tlcp": v != "plain", "suite": None if v == "plain" else v}
                | {"size": args.size, "chunk": args.chunk}
                for v in BULK_VARIANTS
            ]
            server = stack.enter_context(ServerProcess(pki, specs))
            ports = dict(zip(BULK_VARIANTS, server.ports, strict=True))
            described = "threaded wsgiref in its own process (TLCPContext.wrap_socket per accepted socket)"
        for v in BULK_VARIANTS:  # warm-up, and a check that each variant answers
            fetch(ports[v], contexts[v], args.size, buf)
        before = server.stats()
        deadline = time.monotonic() + 3 * args.seconds
        rounds = 0
        while rounds < args.min_fetches or time.monotonic() < deadline:
            for v in BULK_VARIANTS:
                hs, transfer, body = fetch(ports[v], contexts[v], args.size, buf)
                samples[v].append(body / transfer / MiB)
                handshakes[v].append(hs)
            rounds += 1
        after = server.stats()
    plain = statistics.median(samples["plain"])
    rows = []
    for v in BULK_VARIANTS:
        med = statistics.median(samples[v])
        ceiling = crypto_ceiling(v, min(args.size, 8 * MiB)) if v != "plain" else None
        bound = min(ceiling.values()) if ceiling else None
        rows.append(
            {
                "variant": v,
                "fetches": len(samples[v]),
                "mib_s": med,
                "min_mib_s": min(samples[v]),
                "max_mib_s": max(samples[v]),
                "ratio_to_plain": med / plain if plain else float("nan"),
                "crypto_ceiling": ceiling,
                "ratio_to_ceiling": med / bound if bound else None,
                "handshake_ms": statistics.median(handshakes[v]) * 1000,
                "samples_mib_s": samples[v],
            }
        )
    return {
        "server": described,
        "size": args.size,
        "chunk": args.chunk,
        "rounds": rounds,
        "server_errors": after["errors"] - before["errors"],
        "rows": rows,
    }


def gunicorn_worker_available() -> str | None:
    """Why the gunicorn TLCP worker is not used (None when it could be)."""
    try:
        import hpf.tlcp.server  # noqa: F401
    except ImportError as exc:
        return f"hpf.tlcp.server not importable ({exc})"
    return None


# ----- report -------------------------------------------------------------------------------


def print_handshakes(rows: list[dict[str, object]]) -> None:
    base = next((r["rate"] for r in rows if r["suite"] == PLAIN), None)
    print(
        f"\n{'suite':<21} {'mode':<8} {'count':>6} {'hs/s':>8} {'x TCP':>6} {'p50 ms':>7} {'p95 ms':>7} "
        f"{'srv cpu ms/hs':>13} {'capacity/core':>13} {'errors':>6}"
    )
    for r in rows:
        x_tcp = f"{r['rate'] / base:.2f}" if base else "-"
        print(
            f"{r['suite']:<21} {r['mode']:<8} {r['count']:>6} {r['rate']:>8.1f} {x_tcp:>6} "
            f"{r['p50_ms']:>7.2f} {r['p95_ms']:>7.2f} {r['server_cpu_ms_per_hs']:>13.2f} "
            f"{r['capacity_per_core']:>13.0f} "
            f"{r['client_errors'] + r['server_errors']:>6}"
        )
    print(
        "(x TCP: rate over plain TCP connect + 1-byte echo; capacity/core: handshakes per second of server "
        "CPU time, i.e. what one server core sustains when the clients run elsewhere)"
    )


def print_bulk(bulk: dict[str, object]) -> None:
    print(f"\nbulk HTTP: {bulk['size'] / MiB:g} MiB body in {bulk['chunk'] // 1024} KiB chunks")
    print(f"server: {bulk['server']}")
    print(
        f"{'variant':<20} {'fetches':>7} {'MiB/s':>9} {'min-max':>11} {'x plain':>8} "
        f"{'seal/open MiB/s':>16} {'x crypto':>8} {'hs ms':>7}"
    )
    for r in bulk["rows"]:
        spread = f"{r['min_mib_s']:.0f}-{r['max_mib_s']:.0f}"
        ceiling = r["crypto_ceiling"]
        bound = f"{ceiling['seal_mib_s']:.0f}/{ceiling['open_mib_s']:.0f}" if ceiling else "-"
        x_crypto = f"{r['ratio_to_ceiling']:.2f}" if r["ratio_to_ceiling"] else "-"
        print(
            f"{r['variant']:<20} {r['fetches']:>7} {r['mib_s']:>9.1f} {spread:>11} "
            f"{r['ratio_to_plain']:>8.3f} {bound:>16} {x_crypto:>8} {r['handshake_ms']:>7.2f}"
        )
    print(
        "(x crypto: MiB/s over the slower of sealing and opening 2^14-byte records in one process, "
        "i.e. the SM4/SM3 ceiling)"
    )


def targets(handshakes, bulk, provider) -> list[dict[str, object]]:
    out = []
    by = {(r["suite"], r["mode"]): r for r in handshakes}
    for suite in dict.fromkeys(r["suite"] for r in handshakes if r["suite"] != PLAIN):
        full, resumed = by.get((suite, "full")), by.get((suite, "resumed"))
        if full:
            out.append(
                {
                    "target": f"{suite} full handshakes/s >= 200 (fast provider)",
                    "value": round(full["rate"], 1),
                    "pass": full["rate"] >= 200,
                    "applies": bool(provider["fast"]),
                }
            )
        if full and resumed and full["rate"]:
            ratio = resumed["rate"] / full["rate"]
            out.append(
                {
                    "target": f"{suite} resumed >= 5x full",
                    "value": round(ratio, 2),
                    "pass": ratio >= 5,
                    "applies": True,
                }
            )
    if bulk:
        for r in bulk["rows"]:
            if r["variant"] != "plain":
                out.append(
                    {
                        "target": f"{r['variant']} bulk >= 50% of plain",
                        "value": round(r["ratio_to_plain"], 3),
                        "pass": r["ratio_to_plain"] >= 0.5,
                        "applies": True,
                    }
                )
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suite", action="append", help=f"repeatable; default {', '.join(DEFAULT_SUITES)}")
    parser.add_argument("--clients", type=int, default=2, help="client processes (default 2)")
    parser.add_argument("--client-threads", type=int, default=1, help="threads per client process")
    parser.add_argument("--seconds", type=float, default=5.0, help="per handshake phase (bulk: 3x)")
    parser.add_argument("--size", type=int, default=16 * MiB, help="HTTP body bytes (default 16 MiB)")
    parser.add_argument("--chunk", type=int, default=256 * 1024, help="WSGI body chunk (default 256 KiB)")
    parser.add_argument("--min-fetches", type=int, default=3, help="bulk rounds at least (default 3)")
    parser.add_argument("--server", choices=("auto", "gunicorn", "threaded"), default="auto")
    parser.add_argument("--no-handshakes", action="store_true")
    parser.add_argument("--no-bulk", action="store_true")
    parser.add_argument("--quick", action="store_true", help="1 s phases, 2 MiB body (smoke run)")
    parser.add_argument("--out", help="JSON path (default benchmarks/results/tlcp-<timestamp>.json)")
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds, args.size, args.min_fetches = 1.0, 2 * MiB, 1
    suites = [suite_by_name(s).name for s in (args.suite or DEFAULT_SUITES)]
    started = datetime.now(UTC)
    provider = provider_info()
    server_note = gunicorn_worker_available() if args.server != "threaded" else "threaded server asked for"
    if args.server == "gunicorn" and server_note:
        print(f"--server gunicorn: {server_note}", file=sys.stderr)
        return 2
    engines = ", ".join(f"{k}={v['engine']}" for k, v in provider["engines"].items())
    slow = "" if provider["fast"] else " - NOT the fast provider"
    print(f"crypto provider: {provider['name']} ({engines}){slow}", flush=True)
    print("making a throwaway SM2 PKI ...", file=sys.stderr, flush=True)
    pki = make_pki()

    handshakes: list[dict[str, object]] = []
    if not args.no_handshakes:
        print(
            f"handshakes: {args.clients} client processes x {args.client_threads} thread(s), "
            f"{args.seconds:g} s per phase, server: own process, a thread per connection",
            flush=True,
        )
        specs = [{"kind": "handshake", "tlcp": True, "suite": None}, {"kind": "handshake", "tlcp": False}]
        with ServerProcess(pki, specs) as server:
            row = handshake_phase(pki, server, PLAIN, False, args)  # connect + 1-byte echo, no TLCP
            handshakes.append(row)
            for suite in suites:
                for resume in (False, True):
                    row = handshake_phase(pki, server, suite, resume, args)
                    handshakes.append(row)
                    print(
                        f"  {suite:<20} {row['mode']:<8} {row['rate']:8.1f}/s  "
                        f"({row['count']} in {row['seconds']:.1f} s)",
                        file=sys.stderr,
                        flush=True,
                    )
        print_handshakes(handshakes)
        for r in handshakes:
            if r["client_error_samples"]:
                print(f"  {r['suite']} {r['mode']} client errors: {r['client_error_samples']}")

    bulk = None
    if not args.no_bulk:
        use_gunicorn = server_note is None
        try:
            bulk = bulk_phase(pki, args, use_gunicorn)
        except RuntimeError as exc:
            if not use_gunicorn or args.server == "gunicorn":
                raise
            server_note = f"gunicorn failed ({str(exc)[:300]})"
            print(f"{server_note}; falling back to the threaded server", file=sys.stderr)
            bulk = bulk_phase(pki, args, False)
        print_bulk(bulk)

    checks = targets(handshakes, bulk, provider)
    print("\ntargets:")
    for t in checks:
        verdict = ("PASS" if t["pass"] else "FAIL") if t["applies"] else "n/a (not the fast provider)"
        print(f"  {t['target']:<52} {t['value']:>8}  {verdict}")
    summary = {
        "handshakes_per_s": {f"{r['suite']}/{r['mode']}": round(r["rate"], 1) for r in handshakes},
        "resumed_over_full": {
            c["target"].split()[0]: c["value"] for c in checks if c["target"].endswith("5x full")
        },
        "bulk_mib_s": {r["variant"]: round(r["mib_s"], 1) for r in bulk["rows"]} if bulk else {},
        "bulk_ratio_to_plain": (
            {r["variant"]: round(r["ratio_to_plain"], 3) for r in bulk["rows"] if r["variant"] != "plain"}
            if bulk
            else {}
        ),
    }
    _results.write_results(
        "tlcp",
        started,
        {
            "machine": _results.machine_info(),
            "provider": provider,
            "parameters": {
                "suites": suites,
                "clients": args.clients,
                "client_threads": args.client_threads,
                "seconds": args.seconds,
                "size": args.size,
                "chunk": args.chunk,
                "quick": args.quick,
                "server": "threaded" if server_note else "gunicorn",
                "server_note": server_note,
            },
            "summary": summary,
            "handshakes": handshakes,
            "bulk": bulk,
            "targets": checks,
        },
        args.out,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
