"""`examctl cluster`: the scale-out mode on one machine, started by one command.

Several single-process gevent servers (`examctl serve`) share the database (PostgreSQL) and broadcast through
Redis; a small TCP balancer in front hands each new connection to the next live server. Candidates' sockets are
WebSocket-only here, so one connection is one conversation and any server can take the next one. A server that
dies is restarted; its candidates reconnect to another one and their outboxes resend what was not acknowledged.
On several machines, run `examctl serve` on each behind any TCP or HTTP balancer with the same settings.
"""
from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
from pathlib import Path

from .config import Settings

EXAMCTL = Path(sys.executable).with_name("examctl")
CHECK_EVERY_S = 1.0


def run_cluster(settings: Settings, workers: int, host: str, port: int) -> int:
    from gevent import monkey

    monkey.patch_all()
    import gevent
    from gevent.server import StreamServer

    backends = [port + 1 + n for n in range(workers)]
    env = {**os.environ, "EXAM_WEBSOCKET_ONLY": "1"}
    children = {p: _start(p, env) for p in backends}
    balancer = StreamServer((host, port), _handler(backends))
    balancer.start()

    def stop(*_):
        balancer.stop()
        for child in children.values():
            child.terminate()
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while True:                            # supervise: a server that died is started again
        gevent.sleep(CHECK_EVERY_S)
        for p, child in children.items():
            if child.poll() is not None:
                print(f"examctl cluster: server on port {p} exited ({child.returncode}); restarting", file=sys.stderr)
                children[p] = _start(p, env)


def _start(port: int, env: dict) -> subprocess.Popen:
    return subprocess.Popen([str(EXAMCTL), "serve", "--host", "127.0.0.1", "--port", str(port)], env=env)


def _handler(backends: list[int]):
    from gevent import socket

    turns = itertools.cycle(range(len(backends)))

    def handle(client, _address):
        first = next(turns)
        for n in range(len(backends)):   # the next live server, in turn
            try:
                upstream = socket.create_connection(("127.0.0.1", backends[(first + n) % len(backends)]), timeout=2)
                break
            except OSError:
                continue
        else:
            client.close()
            return
        upstream.settimeout(None)
        _pipe(client, upstream)

    return handle


def _pipe(a, b) -> None:
    import gevent

    def copy(src, dst):
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(2)
                except OSError:
                    pass

    gevent.joinall([gevent.spawn(copy, a, b), gevent.spawn(copy, b, a)])
    a.close()
    b.close()
