"""The competition leaderboard: pure ranking and freeze rules (`ranking.py`, `freeze.py`) and the in-memory read
model fed by score events (`board.py`)."""
