"""`make bench`: measured figures for docs/benchmarks.md. Each module has a main() that prints its lines."""
