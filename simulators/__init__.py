"""Pure, deterministic CNC machines: no Flask, no database, no I/O, no wall clock."""
