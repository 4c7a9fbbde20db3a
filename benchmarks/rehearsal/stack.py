"""The scale-out stack on one machine, started and stopped by the rehearsal: a private PostgreSQL and Redis on
spare ports (the machine's shared ones are never restarted), two single-worker `examctl serve` processes behind
nginx configured exactly as docs/deployment.md says, and Celery grading workers. Each piece can be killed and
started again, which is how faults are injected."""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Optional

EXAMCTL = Path(sys.executable).with_name("examctl")
PG_BIN = Path("/usr/lib/postgresql")
DEPLOYMENT = Path(__file__).resolve().parents[2] / "docs" / "deployment.md"


class Unavailable(Exception):
    """A piece of the stack this machine cannot run (the small rehearsal then skips, saying which)."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not come up within {seconds:.0f} s")


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


class PrivatePostgres:
    """A throw-away cluster, run as the postgres user (the server refuses root). Its folder is a fresh one under
    the system's temporary folder, since the postgres user may not enter the caller's (pytest's is mode 700)."""

    def __init__(self):
        versions = sorted(PG_BIN.glob("*/bin/pg_ctl"))
        if not versions:
            raise Unavailable("PostgreSQL server binaries (/usr/lib/postgresql/*/bin)")
        self.bin, self.port = versions[-1].parent, free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="rehearsal-postgres-"))
        self.data = self.folder / "data"
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
        self.start()

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bin / tool), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if done.returncode:
            raise RuntimeError(f"{tool} failed: {done.stderr.strip()[-500:]}")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "log"), "-w", "start", "-o",
                  f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c max_connections=300")

    def restart(self) -> None:
        """Crash and recover: an immediate stop (no checkpoint), then a start that replays the WAL."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        self.start()

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)


class PrivateRedis:
    def __init__(self):
        if not shutil.which("redis-server"):
            raise Unavailable("redis-server")
        self.port, self.process = free_port(), None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                         "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: _port_open(self.port), "redis")

    def restart(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        self.start()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


class AppServer:
    """One single-worker `examctl serve` (gevent), killable with -9 and started again on the same port."""

    def __init__(self, env: dict, log: Path):
        self.port, self.env, self.log, self.process = free_port(), env, log, None
        self.start()

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen([str(EXAMCTL), "serve", "--port", str(self.port)], env=self.env,
                                            stdout=log, stderr=log)
        wait_for(lambda: urllib.request.urlopen(f"http://127.0.0.1:{self.port}/login", timeout=1).status == 200,
                 f"examctl serve on {self.port}", 60)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


class Worker:
    """One Celery grading worker (`examctl grading worker --celery`)."""

    def __init__(self, env: dict, log: Path):
        self.env, self.log, self.process = env, log, None
        self.start()

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen([str(EXAMCTL), "grading", "worker", "--celery"], env=self.env,
                                            stdout=log, stderr=log)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


def documented_nginx_conf() -> str:
    """The nginx configuration block of docs/deployment.md, the one production uses."""
    text = DEPLOYMENT.read_text(encoding="utf-8")
    found = re.search(r"<!-- nginx\.conf -->\s*```nginx\n(.*?)```", text, re.S)
    if not found:
        raise RuntimeError("docs/deployment.md has no nginx.conf block")
    return found.group(1)


class Nginx:
    """nginx in front of the servers, with the documented configuration; only the ports and paths differ."""

    def __init__(self, folder: Path, servers: list[AppServer]):
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        if not os.path.exists(binary):
            raise Unavailable("nginx (Debian's nginx-light)")
        self.binary, self.folder, self.port = binary, folder, free_port()
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "logs").mkdir(exist_ok=True)
        servers_lines = "".join(f"        server 127.0.0.1:{s.port} max_fails=1 fail_timeout=2s;\n" for s in servers)
        conf = re.sub(r"(upstream exam_servers \{\n\s*least_conn;\n)(?:\s*server [^\n]*\n)+",
                      lambda m: m.group(1) + servers_lines, documented_nginx_conf())
        conf = conf.replace("listen 80;", f"listen 127.0.0.1:{self.port};")
        body = (f"pid {folder}/nginx.pid;\nerror_log {folder}/logs/error.log;\nworker_processes 1;\n"
                f"events {{ worker_connections 4096; }}\nhttp {{\n    access_log off;\n"
                f"    client_body_temp_path {folder}/body;\n    proxy_temp_path {folder}/proxy;\n{conf}}}\n")
        (folder / "nginx.conf").write_text(body)
        self.process = subprocess.Popen([self.binary, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-g",
                                         "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: _port_open(self.port), "nginx")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


class Stack:
    """Everything the day runs on, in ``folder``; ``base`` is nginx, ``lossy_base`` a link in front of it that the
    day cuts for a group of candidates."""

    def __init__(self, folder: Path, servers: int = 2, workers: int = 2, paper_key: bytes = b"",
                 extra_env: Optional[dict] = None):
        from tests.server.tcp_proxy import TcpProxy

        for tool, what in (("redis-server", "redis-server"), ("nginx", "nginx (Debian's nginx-light)")):
            if not (shutil.which(tool) or os.path.exists(f"/usr/sbin/{tool}")):
                raise Unavailable(what)      # before anything is started
        folder.mkdir(parents=True, exist_ok=True)
        self.folder, self.paper_key = folder, paper_key
        self.postgres = PrivatePostgres()
        self.redis = PrivateRedis()
        self.database_url = self.postgres.url.rsplit("/", 1)[0] + "/exam"
        self.env = {**os.environ, "EXAM_DATABASE_URL": self.database_url, "EXAM_REDIS_URL": self.redis.url,
                    "EXAM_CELERY_BROKER_URL": self.redis.url.rsplit("/", 1)[0] + "/1", "EXAM_GRADING_WORKERS": "0",
                    "EXAM_WEBSOCKET_ONLY": "1", "EXAM_PROXY_HOPS": "1", "EXAM_ASYNC_MODE": "gevent",
                    "EXAM_INSTANCE_PATH": str(folder / "instance"), "EXAM_SECRET_KEY": "rehearsal",
                    "EXAM_PAPER_KEY": paper_key.hex(), "EXAM_CERT_LOOKUP_PER_ADDRESS": "100000", **(extra_env or {})}
        self.server_count, self.worker_count = servers, workers
        self.servers: list[AppServer] = []
        self.workers: list[Worker] = []
        self.nginx = None
        self._proxy_class = TcpProxy

    def create_database(self) -> None:
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.postgres.port} user=postgres dbname=postgres",
                             autocommit=True) as conn:
            conn.execute("CREATE DATABASE exam")

    def start(self) -> None:
        """The servers, nginx, the link and the workers (after the database holds the province)."""
        self.servers = [AppServer(self.env, self.folder / f"server{n}.log") for n in range(self.server_count)]
        self.nginx = Nginx(self.folder / "nginx", self.servers)
        self.lossy = self._proxy_class(self.nginx.port).start()
        self.workers = [Worker(self.env, self.folder / f"worker{n}.log") for n in range(self.worker_count)]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.nginx.port}"

    @property
    def lossy_base(self) -> str:
        return f"http://127.0.0.1:{self.lossy.port}"

    def cut_lossy(self) -> None:
        self.lossy.cut()

    def restore_lossy(self) -> None:
        self.lossy.start()

    def open_attempts(self, attempt_ids: list[int]) -> int:
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.postgres.port} user=postgres dbname=exam") as conn:
            return conn.execute("SELECT count(*) FROM attempts WHERE id = ANY(%s) AND submitted_at IS NULL "
                                "AND voided_at IS NULL", ([a for a in attempt_ids if a],)).fetchone()[0]

    def processes(self) -> list[tuple[str, int]]:
        return [*((f"server{n}", s.process.pid) for n, s in enumerate(self.servers)),
                *((f"worker{n}", w.process.pid) for n, w in enumerate(self.workers))]

    def stop(self) -> None:
        for piece in [*self.workers, *self.servers, self.nginx]:
            if piece is not None:
                try:
                    piece.stop()
                except Exception:      # noqa: BLE001 — stopping must go on whatever one piece does
                    pass
        if getattr(self, "lossy", None):
            self.lossy.cut()
        self.redis.stop()
        self.postgres.stop()
