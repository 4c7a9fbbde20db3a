"""Run every benchmark: python -m benchmarks [name ...]."""
import importlib
import os
import platform
import sys

BENCHMARKS = ("lathe", "mill_stock", "mill", "operation", "assembly", "analysis", "grading")


def main(names: list[str]) -> int:
    print(f"# {platform.node()}: {os.cpu_count()} CPUs, Python {platform.python_version()}, {platform.machine()}")
    for name in names or BENCHMARKS:
        importlib.import_module(f"benchmarks.{name}").main()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
