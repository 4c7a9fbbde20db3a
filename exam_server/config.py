"""Settings from the environment. Every setting is listed, with its default, in the README's table."""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


@dataclass
class Settings:
    instance_path: Path = field(default_factory=lambda: Path(_env("EXAM_INSTANCE_PATH", str(PROJECT_ROOT / "instance"))))
    database_url: str = field(default_factory=lambda: _env("EXAM_DATABASE_URL", ""))
    redis_url: str = field(default_factory=lambda: _env("EXAM_REDIS_URL", ""))
    secret_key: str = field(default_factory=lambda: _env("EXAM_SECRET_KEY", ""))
    base_url: str = field(default_factory=lambda: _env("EXAM_BASE_URL", "http://127.0.0.1:5000"))
    default_locale: str = field(default_factory=lambda: _env("EXAM_DEFAULT_LOCALE", "zh_CN"))
    session_idle_minutes: int = field(default_factory=lambda: int(_env("EXAM_SESSION_IDLE_MINUTES", "30")))
    session_absolute_hours: int = field(default_factory=lambda: int(_env("EXAM_SESSION_ABSOLUTE_HOURS", "12")))
    secure_cookies: bool = field(default_factory=lambda: _env("EXAM_SECURE_COOKIES", "0") == "1")
    async_mode: str = field(default_factory=lambda: _env("EXAM_ASYNC_MODE", "gevent"))
    host: str = field(default_factory=lambda: _env("EXAM_HOST", "127.0.0.1"))
    port: int = field(default_factory=lambda: int(_env("EXAM_PORT", "5000")))
    websocket_only: bool = field(default_factory=lambda: _env("EXAM_WEBSOCKET_ONLY", "0") == "1")
    paper_key_hex: str = field(default_factory=lambda: _env("EXAM_PAPER_KEY", ""))
    proxy_hops: int = field(default_factory=lambda: int(_env("EXAM_PROXY_HOPS", "0")))   # proxies in front
    node_role: str = field(default_factory=lambda: _env("EXAM_NODE_ROLE", "hub"))   # hub | station

    def resolved_database_url(self) -> str:
        """The configured URL, or the embedded SQLite file in the instance folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.instance_path / 'exam.db'}"

    def ensure_instance(self) -> None:
        self.instance_path.mkdir(parents=True, exist_ok=True)

    def paper_key(self) -> bytes:
        """The 256-bit key that wraps every sealed paper's data key: EXAM_PAPER_KEY (64 hex digits), or one
        generated on first use and kept in the instance folder (mode 600). Back it up with the database."""
        return bytes.fromhex(self.paper_key_hex or self._instance_secret("paper_key"))

    def resolved_secret_key(self) -> str:
        """The configured key, or one generated on first run and kept in the instance folder."""
        if self.secret_key:
            return self.secret_key
        return self._instance_secret("secret_key")

    def _instance_secret(self, name: str) -> str:
        """64 random hex digits kept in the instance folder, created (mode 600) on first use."""
        self.ensure_instance()
        path = self.instance_path / name
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32))
        return path.read_text().strip()
