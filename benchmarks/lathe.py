"""Lathe benchmarks (issue: CNC lathe simulator).

1. `examctl sim lathe` on a 100,000-line file of linear moves in the air, as a whole process, side by side
   with a script that feeds the same file through pygcode's `Machine`, also as a whole process.
2. The full simulation of a typical exam part (G71/G70 with nose-radius compensation, grooving, G76 thread)
   with exact stock, in process: median of repeated runs.
"""
from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
EXAMCTL = Path(sys.executable).with_name("examctl")
PYGCODE_SCRIPT = """
import sys
from pygcode import Line, Machine
machine = Machine()
with open(sys.argv[1]) as f:
    for text in f:
        text = text.strip()
        if text and not text.startswith(("%", "O")):
            machine.process_block(Line(text).block)
print(machine.pos)
"""


def air_moves_program(lines: int = 100_000) -> str:
    """Linear moves well clear of the Ø50 stock (X80–X140 diameter, Z10–Z110)."""
    out = ["%", "O0001", "G21 G99 G97 G40", "T0101", "M03 S600", "G00 X150. Z120."]
    for i in range(lines - 8):
        x = 80 + (i * 37 % 600) / 10
        z = 10 + (i * 53 % 1000) / 10
        out.append(f"G01 X{x:.1f} Z{z:.1f} F0.2" if i % 7 else f"G00 X{x:.1f} Z{z:.1f}")
    out += ["M30", "%"]
    return "\n".join(out) + "\n"


def _time_process(cmd: list[str], runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def parse_speed() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        program = Path(tmp) / "air.nc"
        program.write_text(air_moves_program())
        script = Path(tmp) / "pygcode_run.py"
        script.write_text(PYGCODE_SCRIPT)
        ours = _time_process([str(EXAMCTL), "sim", "lathe", str(program), "--json"])
        try:
            theirs = _time_process([sys.executable, str(script), str(program)], runs=1)
        except subprocess.CalledProcessError:
            print("lathe.air_100k: pygcode is not installed (pip install -e '.[bench]')")
            theirs = float("nan")
    print(f"lathe.air_100k examctl_s={ours:.2f} pygcode_s={theirs:.2f} ratio={theirs / ours:.1f}x")


def exam_part(runs: int = 15) -> None:
    from simulators.cnc_lathe.run import simulate

    program = (HERE / "programs" / "exam_part_1.nc").read_text()
    result = simulate(program)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        simulate(program)
        times.append(time.perf_counter() - started)
    print(f"lathe.exam_part_1 blocks={program.count(chr(10))} motions={len(result.motions)} "
          f"alarms={len(result.alarms)} crashes={len(result.crashes)} median_ms={statistics.median(times) * 1000:.0f} "
          f"max_ms={max(times) * 1000:.0f}")


def main() -> None:
    exam_part()
    parse_speed()
