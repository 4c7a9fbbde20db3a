"""Engines and sessions. Plain SQLAlchemy 2, so the CLI, workers and Flask share one code path.

SQLite (the embedded default) runs in WAL mode with synchronous=FULL. Python 3.11's sqlite3 driver does not
emit BEGIN before a SELECT, which breaks transaction isolation, so we take over BEGIN ourselves; and a
transaction that starts deferred and later writes can fail with SQLITE_BUSY despite busy_timeout, so writers
use a second engine whose transactions begin IMMEDIATE.

A writer waiting for the lock must not wait inside SQLite's busy handler: under gevent that blocks every other
greenlet, including the one holding the lock, so one wait stalls the whole server. Writers have no busy timeout;
BEGIN IMMEDIATE is retried with short sleeps, which yield to the other greenlets (or threads).

On PostgreSQL the public certificate lookup, one SELECT per request at hundreds per second, reads through its own
small pool in autocommit mode without a pre-ping: one round trip instead of four (ping, BEGIN, SELECT,
ROLLBACK). Without the ping a connection broken by a server restart shows only when used; `public_read` then
runs the statement once more on a fresh connection (the pool has been invalidated by then).
"""
from __future__ import annotations

import sqlite3
import time
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, Row
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA busy_timeout=5000",
    "PRAGMA foreign_keys=ON",
    "PRAGMA wal_autocheckpoint=1000",
    "PRAGMA journal_size_limit=67108864",
)
WRITE_LOCK_WAIT_S = 20.0     # how long a writer waits for the write lock before failing
PUBLIC_POOL = {"pool_size": 6, "max_overflow": 6, "pool_recycle": 1800}   # 2 servers: ≤ 24 connections


def _begin_immediate(dbapi_connection) -> None:
    """BEGIN IMMEDIATE, retried with growing sleeps while another connection holds the write lock."""
    deadline = time.monotonic() + WRITE_LOCK_WAIT_S
    pause = 0.001
    while True:
        try:
            dbapi_connection.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.02)


def _sqlite_engine(url: str, writer: bool) -> Engine:
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 5})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        for pragma in SQLITE_PRAGMAS + (("PRAGMA busy_timeout=0",) if writer else ()):
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        if writer:
            _begin_immediate(connection.connection.dbapi_connection)
        else:
            connection.exec_driver_sql("BEGIN")

    return engine


class Database:
    """A read engine and a write engine on one database (the same engine except on SQLite)."""

    def __init__(self, url: str):
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            self.read_engine = _sqlite_engine(url, writer=False)
            self.write_engine = _sqlite_engine(url, writer=True)
        else:
            self.read_engine = self.write_engine = create_engine(url, pool_pre_ping=True)
        self.public_engine = (self.read_engine if self.is_sqlite
                              else create_engine(url, isolation_level="AUTOCOMMIT", **PUBLIC_POOL))
        self._read = sessionmaker(self.read_engine, expire_on_commit=False)
        self._write = sessionmaker(self.write_engine, expire_on_commit=False)

    def session(self, write: bool = True) -> Session:
        return (self._write if write else self._read)()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A writing unit of work: commit on success, roll back on error."""
        with self.session(write=True) as session, session.begin():
            yield session

    def public_read(self, statement, params: dict) -> list[Row]:
        """The rows of one read-only statement for the public pages, outside any session (see above)."""
        for retry in (False, True):
            try:
                with self.public_engine.connect() as connection:
                    return list(connection.execute(statement, params))
            except DBAPIError as exc:
                if retry or not exc.connection_invalidated:
                    raise
        raise AssertionError("unreachable")

    def dispose(self) -> None:
        self.read_engine.dispose()
        if self.write_engine is not self.read_engine:
            self.write_engine.dispose()
        if self.public_engine is not self.read_engine:
            self.public_engine.dispose()
