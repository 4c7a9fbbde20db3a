"""The public certificate lookup at provincial scale: 3.6 million certificates in PostgreSQL, lookups arriving
open-loop at 300 per second for about 20 s against a real server process; p99 must stay ≤ 50 ms.

    EXAM_DATABASE_URL=postgresql+psycopg://… python -m benchmarks.cert_lookup [--certificates N] [--rate R]
                                                                             [--seconds S] [--keep]

A scratch database is created on the server, migrated, filled with COPY (indexes dropped during the load and
rebuilt after it, as a real bulk import would), and dropped at the end (unless --keep). The lookup limits are
raised for the load generator, which is one address (EXAM_CERT_LOOKUP_*); they are still counted, in each
server process or, with --redis, in Redis as a cluster would. The mix: half by number + name,
40 % by name + ID number, 10 % misses. Latency is measured from each request's scheduled send time, so a
server that falls behind is charged for the wait (no coordinated omission). The last line is the summary.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid

REGIONS = ("320102", "320106", "320115", "320205", "320505", "320571", "320602", "320705", "320803", "321002")
JOBS = ("车工(数控车工)", "铣工(数控铣工)", "铣工(加工中心操作工)", "电工", "焊工", "钳工(装配钳工)")
SITES = 600
COPY_COLUMNS = ("number", "public_id", "holder_name", "id_number", "occupation", "level", "issuer", "issued_on",
                "issued_at", "legacy", "legacy_source")
DROPPED = ("ALTER TABLE certificates DROP CONSTRAINT uq_certificates_number",
           "ALTER TABLE certificates DROP CONSTRAINT uq_certificates_public_id",
           "DROP INDEX ix_certificates_id_number")
REBUILT = ("ALTER TABLE certificates ADD CONSTRAINT uq_certificates_number UNIQUE (number)",
           "ALTER TABLE certificates ADD CONSTRAINT uq_certificates_public_id UNIQUE (public_id)",
           "CREATE INDEX ix_certificates_id_number ON certificates (id_number)")


# ------------------------------------------------------------------------------------------ data

def certificate_row(i: int, rng: random.Random) -> tuple[str, ...]:
    """The i-th certificate; numbers are unique by construction (site, then year, level and serial from i)."""
    from exam_server.demo import GIVEN, SURNAMES, id_check_character   # not at the top: --serve patches first

    site, k = i % SITES, i // SITES
    year, level, serial = 1 + k % 25, 1 + (k // 25) % 5, k // 125
    number = f"S000132{site:06d}{year:02d}{level}{serial:06d}"
    born = f"{1950 + rng.randrange(55)}{1 + rng.randrange(12):02d}{1 + rng.randrange(28):02d}"
    stem = f"{REGIONS[site % len(REGIONS)]}{born}{rng.randrange(1000):03d}"
    name = rng.choice(SURNAMES) + rng.choice(GIVEN)
    return (number, f"{rng.getrandbits(128):032x}", name, stem + id_check_character(stem), JOBS[i % len(JOBS)],
            str(level), f"江苏省职业技能鉴定中心第{site}站", f"20{year:02d}-06-{1 + i % 28:02d}",
            "2026-01-01 00:00:00", "t", "benchmark")


def load(url: str, count: int, sample_every: int) -> list[tuple[str, str, str]]:
    """COPY ``count`` certificates into the migrated database; returns a sample of (number, name, ID number)."""
    import psycopg

    rng, sample = random.Random(3_600_000), []
    with psycopg.connect(_libpq(url)) as conn:
        with conn.cursor() as cur:
            for statement in DROPPED:
                cur.execute(statement)
            with cur.copy(f"COPY certificates ({', '.join(COPY_COLUMNS)}) FROM STDIN") as copy:
                lines = []
                for i in range(count):
                    row = certificate_row(i, rng)
                    if i % sample_every == 0:
                        sample.append((row[0], row[2], row[3]))
                    lines.append("\t".join(row))
                    if len(lines) == 50_000:
                        copy.write(("\n".join(lines) + "\n").encode())
                        lines = []
                if lines:
                    copy.write(("\n".join(lines) + "\n").encode())
            started = time.perf_counter()
            for statement in REBUILT:
                cur.execute(statement)
            print(f"# indexes rebuilt in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
            cur.execute("ANALYZE certificates")
    return sample


def _sample(url: str) -> tuple[list[tuple[str, str, str]], int]:
    import psycopg

    with psycopg.connect(_libpq(url)) as conn:
        count = conn.execute("SELECT count(*) FROM certificates").fetchone()[0]
        rows = conn.execute("SELECT number, holder_name, id_number FROM certificates TABLESAMPLE SYSTEM (1)")
        return [tuple(r) for r in rows.fetchall()[:50_000]], count


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


# ------------------------------------------------------------------------------------------ server

def serve(port: int) -> None:
    """The app under gevent, the way `examctl serve` runs it (plain WSGI: lookups need no Socket.IO). Several
    of these share the port through SO_REUSEPORT, as the cluster's servers share the load."""
    from gevent import monkey

    monkey.patch_all()
    from gevent.pywsgi import WSGIServer

    from exam_server import create_app
    from exam_server.views import certificates as views

    class NoDelayServer(WSGIServer):
        """TCP_NODELAY on every connection, so that a response written in two parts is never held back by
        Nagle's algorithm (this client showed no difference; aiohttp's did)."""

        def handle(self, sock, address):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            super().handle(sock, address)

    app = create_app()
    if "certificates" not in app.blueprints:       # until app.py registers it
        app.register_blueprint(views.bp)
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(1024)
    NoDelayServer(listener, app, log=None).serve_forever()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(port: int, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError("the server did not start")


def _cpu_seconds(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ------------------------------------------------------------------------------------------ load

def lookup_paths(sample: list[tuple[str, str, str]], total: int, rng: random.Random) -> list[str]:
    paths = []
    for _ in range(total):
        number, name, id_number = rng.choice(sample)
        roll = rng.random()
        if roll < 0.5:
            query = {"number": number, "name": name}
        elif roll < 0.9:
            query = {"name": name, "id_number": id_number}
        else:
            query = {"number": number[:-6] + "999999", "name": name}     # serial never issued: a miss
        paths.append("/api/certificates/lookup?" + urllib.parse.urlencode(query))
    return paths


async def drive(port: int, paths: list[str], rate: float, connections: int = 64) -> tuple[list[float], int, float]:
    """Open loop: request i is due at i / rate whatever happened before; latency counts from then. A plain
    HTTP/1.1 keep-alive client on asyncio streams, light enough not to be the bottleneck on a shared machine.
    Returns the latencies, the errors and the client's own CPU use (fraction of a core)."""
    loop = asyncio.get_running_loop()
    pool: asyncio.Queue = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(await asyncio.open_connection("127.0.0.1", port))
    latencies, errors = [], 0
    start = loop.time() + 0.2

    async def one(i: int, path: str) -> None:
        nonlocal errors
        due = start + i / rate
        await asyncio.sleep(max(0.0, due - loop.time()))
        reader, writer = await pool.get()
        writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))
        await reader.readexactly(length)
        latencies.append(loop.time() - due)
        errors += not head.startswith(b"HTTP/1.1 200")
        pool.put_nowait((reader, writer))

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(one(i, p) for i, p in enumerate(paths)))
    client_cpu = (time.process_time() - cpu) / (time.perf_counter() - wall)
    while not pool.empty():
        pool.get_nowait()[1].close()
    return latencies, errors, client_cpu


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# ------------------------------------------------------------------------------------------ main

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--certificates", type=int, default=3_600_000)
    parser.add_argument("--rate", type=float, default=300.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds discarded at the start")
    parser.add_argument("--servers", type=int, default=2, help="server processes sharing the port (SO_REUSEPORT)")
    parser.add_argument("--redis", metavar="URL", default="",
                        help="keep the lookup limits' counters in Redis, as several servers of a cluster do "
                             "(default: in each server process)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database (its name is printed)")
    parser.add_argument("--reuse", metavar="NAME", help="run the lookups on a database kept by --keep")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv if argv is not None else sys.argv[1:] if __name__ == "__main__" else [])
    if args.serve:
        serve(args.serve)
        return 0
    server_url = os.environ.get("EXAM_DATABASE_URL", "")
    if not server_url.startswith("postgresql"):
        print("cert_lookup: set EXAM_DATABASE_URL to a PostgreSQL server (a scratch database is made on it)")
        return 2
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = args.reuse or f"exam_bench_cert_{uuid.uuid4().hex[:8]}"
    admin = create_engine(make_url(server_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    if not args.reuse:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    try:
        return _run(url, args)
    finally:
        if args.keep or args.reuse:
            print(f"# kept database {name}", file=sys.stderr)
        else:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _run(url: str, args) -> int:
    from exam_server.schema import upgrade

    started = time.perf_counter()
    if args.reuse:
        sample, args.certificates = _sample(url)
    else:
        upgrade(url)
        sample = load(url, args.certificates, sample_every=max(1, args.certificates // 50_000))
    load_s = time.perf_counter() - started
    print(f"# {args.certificates} certificates loaded in {load_s:.1f} s", file=sys.stderr, flush=True)

    port = _free_port()
    instance = tempfile.mkdtemp(prefix="cert-bench-")
    env = {**os.environ, "EXAM_DATABASE_URL": url, "EXAM_INSTANCE_PATH": instance, "EXAM_REDIS_URL": args.redis,
           "EXAM_CERT_LOOKUP_PER_ADDRESS": "100000000", "EXAM_CERT_LOOKUP_PER_TARGET": "100000000",
           "EXAM_CERT_LOOKUP_MISSES": "100000000"}
    servers = [subprocess.Popen([sys.executable, "-m", "benchmarks.cert_lookup", "--serve", str(port)], env=env)
               for _ in range(args.servers)]
    try:
        _wait_for(port)
        time.sleep(2)                                  # the other servers bind the same port
        rng = random.Random(300)
        asyncio.run(drive(port, lookup_paths(sample, 200, rng), 100.0))          # connections and caches
        total = int(args.rate * (args.seconds + args.warmup))
        cpu_before, wall_before = sum(_cpu_seconds(s.pid) for s in servers), time.perf_counter()
        latencies, errors, client_cpu = asyncio.run(drive(port, lookup_paths(sample, total, rng), args.rate))
        cpu = (sum(_cpu_seconds(s.pid) for s in servers) - cpu_before) / (time.perf_counter() - wall_before)
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)
    measured = latencies[int(args.rate * args.warmup):]
    ms = {q: percentile(measured, q) * 1000 for q in (0.5, 0.95, 0.99, 1.0)}
    verdict = "PASS" if ms[0.99] <= 50 and errors == 0 else "FAIL"
    print(f"cert_lookup: {args.certificates} certificates (load {load_s:.0f} s), {args.rate:.0f}/s open loop for "
          f"{args.seconds:.0f} s ({len(measured)} lookups after {args.warmup:.0f} s warm-up): p50 {ms[0.5]:.1f} ms, "
          f"p95 {ms[0.95]:.1f} ms, p99 {ms[0.99]:.1f} ms, max {ms[1.0]:.1f} ms, errors {errors}, "
          f"{args.servers} servers using {cpu:.0%} of a core ({cpu / args.rate * 1000:.2f} ms a lookup), the client "
          f"{client_cpu:.0%}, counters {'in Redis' if args.redis else 'in process'}, load average "
          f"{os.getloadavg()[0]:.1f} — {verdict} (p99 ≤ 50 ms)")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
