"""Schema migrations, run from code so that `examctl db upgrade` and the tests share one path."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "heads") -> None:
    """Every branch to its newest revision: areas developed side by side may each add a migration on the same
    parent (they are joined into one line when they land, but a database must never wait for that)."""
    command.upgrade(alembic_config(url), revision)
