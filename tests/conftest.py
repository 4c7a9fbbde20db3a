"""Shared test settings. Server fixtures live in tests/server/conftest.py."""
import os

from hypothesis import settings

# Test apps run in threads (Werkzeug, Socket.IO's test client); only `examctl serve` monkey-patches for gevent.
os.environ.setdefault("EXAM_ASYNC_MODE", "threading")
# One paper key for the whole run (the app under test and the helpers that seal and start sessions).
os.environ.setdefault("EXAM_PAPER_KEY", "5e" * 32)

# Geometry code on two busy cores: no per-example deadline, and the same examples on every run.
settings.register_profile("ci", deadline=None, derandomize=True, max_examples=60)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
