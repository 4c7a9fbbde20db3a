"""`examctl`: the platform's command line.

Commands that need no database (`sim`) import neither Flask nor SQLAlchemy and never create the app or the
instance folder, so that they start in well under a second on an examiner's laptop.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import NoReturn, Sequence

RAY_HELP = "X,Y,Z,DX,DY,DZ: a probe ray in the work frame (mm); repeatable; write --ray=-30,0,-5,1,0,0 for minus signs"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="examctl", description="Exam platform command line")
    commands = parser.add_subparsers(dest="command", required=True)

    db = commands.add_parser("db", help="database schema").add_subparsers(dest="action", required=True)
    db.add_parser("upgrade", help="migrate the database to the newest schema")

    demo = commands.add_parser("demo", help="demo province").add_subparsers(dest="action", required=True)
    load = demo.add_parser("load", help="load the demo province")
    load.add_argument("--if-empty", action="store_true", help="do nothing when the database already has data")
    demo.add_parser("cycle", help="run the demo plan's exam: sit, grade, release, confirm, issue certificates")

    user = commands.add_parser("user", help="accounts").add_subparsers(dest="action", required=True)
    create = user.add_parser("create", help="create an account with one role over an organisation")
    create.add_argument("username")
    create.add_argument("--name", required=True, help="display name")
    create.add_argument("--role", required=True, help="provincial_admin, centre_admin, station_manager, "
                        "question_author, examiner, supervisor or candidate")
    create.add_argument("--org", required=True, help="organisation code, e.g. JS-NJ-01")
    create.add_argument("--password-stdin", action="store_true",
                        help="read the password from standard input (otherwise one is generated and printed)")

    audit = commands.add_parser("audit", help="audit log").add_subparsers(dest="action", required=True)
    audit.add_parser("verify", help="walk the hash chain and name the first broken link")

    exam = commands.add_parser("exam", help="exams").add_subparsers(dest="action", required=True)
    seb = exam.add_parser("seb", help="require Safe Exam Browser for an exam (or stop requiring it)")
    seb.add_argument("code", help="exam code, e.g. 2026-CNC-T-4-12")
    choice = seb.add_mutually_exclusive_group(required=True)
    choice.add_argument("--config-key", help="the SEB Config Key of the exam's .seb settings (64 hex digits)")
    choice.add_argument("--off", action="store_true", help="no longer require SEB")

    grading = commands.add_parser("grading", help="grading jobs").add_subparsers(dest="action", required=True)
    worker = grading.add_parser("worker", help="run one grading worker (next to the servers' own pools)")
    worker.add_argument("--celery", action="store_true", help="a Celery worker on EXAM_CELERY_BROKER_URL")

    node = commands.add_parser("node", help="a test centre's station node (EXAM_NODE_ROLE=station)"
                               ).add_subparsers(dest="action", required=True)
    init = node.add_parser("init", help="make this empty database a station node's: its station")
    init.add_argument("--station", required=True, help="the station's code as the hub knows it, e.g. JS-NJ-01")
    init.add_argument("--name", required=True, help="the station's name")
    node.add_parser("key", help="print this instance's transfer public key (to register the node at the hub)")

    serve = commands.add_parser("serve", help="run the server")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)

    cluster = commands.add_parser("cluster", help="scale-out on one machine: several servers behind a balancer "
                                  "(needs EXAM_REDIS_URL; PostgreSQL advised)")
    cluster.add_argument("--workers", type=int, default=2, help="server processes (default 2)")
    cluster.add_argument("--host")
    cluster.add_argument("--port", type=int, help="the balancer's port; the servers take the next ones")

    sim = commands.add_parser("sim", help="run a program on a simulated machine (no database)")
    sim.add_argument("machine", choices=("lathe", "mill"))
    sim.add_argument("program", help="program file (.nc)")
    sim.add_argument("--setup", help="machine setup JSON (the machine block of a task file)")
    sim.add_argument("--ray", action="append", default=[], help=RAY_HELP)
    sim.add_argument("--json", action="store_true", help="print one JSON object (the only output format)")
    sim.add_argument("--heightmap", metavar="FILE.npy", help="mill only: save the display heightmap (float32, "
                     "shape (ny, nx), row 0 at the smallest Y) with numpy.save")

    from .certificate_commands import register as register_certificates
    from .task_commands import register   # task check and replay: no database either

    register(commands)
    register_certificates(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "sim":
        return _sim(args, leave_at_once=argv is None)   # argv None: running as the examctl process itself
    if hasattr(args, "handler"):
        return args.handler(args)
    from .commands import run  # Flask and SQLAlchemy only for the commands that need them

    return run(args)


def _parse_ray(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        values = ()
    if len(values) != 6 or values[3:] == (0.0, 0.0, 0.0):
        raise SystemExit(f"examctl sim: bad --ray {text!r}: expected six numbers X,Y,Z,DX,DY,DZ with a non-zero "
                         "direction")
    return values


def _sim(args, leave_at_once: bool = False) -> int:
    # The run's objects (a million on a long program) hold no reference cycles and live until the report is
    # printed; the cyclic garbage collector would only rescan them, so it stays paused until they are freed.
    from simulators.core.simulation import gc_paused

    with gc_paused():
        return _run_sim(args, leave_at_once)


def _leave(code: int) -> NoReturn:
    """End the examctl process once the report is written, without freeing the run's objects one by one (40 ms
    of a 100,000-line program's 0.6 s): os._exit skips only that, atexit handlers (``sim`` registers none) and the
    flush of the standard streams, done here."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _run_sim(args, leave_at_once: bool = False) -> int:
    rays = [_parse_ray(r) for r in args.ray]
    try:
        with open(args.program, encoding="utf-8", errors="replace") as f:
            program = f.read()
        setup = None
        if args.setup:
            with open(args.setup, encoding="utf-8") as f:
                setup = json.load(f)
    except (OSError, ValueError) as exc:
        print(f"examctl sim: {exc}", file=sys.stderr)
        return 2
    if args.machine == "lathe":
        from simulators.cnc_lathe.machine import setup_from_dict
        from simulators.cnc_lathe.run import report, simulate
    else:
        from simulators.cnc_mill.machine import setup_from_dict
        from simulators.cnc_mill.run import report, simulate
    try:
        machine_setup = setup_from_dict(setup) if setup is not None else None
    except ValueError as exc:
        print(f"examctl sim: bad setup: {exc}", file=sys.stderr)
        return 2
    simulation = simulate(program, machine_setup)
    if getattr(args, "heightmap", None):
        if args.machine != "mill":
            print("examctl sim: --heightmap is for the mill only", file=sys.stderr)
            return 2
        import numpy as np

        from simulators.cnc_mill.run import heightmap
        try:
            np.save(args.heightmap, heightmap(simulation))
        except OSError as exc:
            print(f"examctl sim: {exc}", file=sys.stderr)
            return 2
    json.dump(report(simulation, rays), sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")
    if leave_at_once:
        _leave(0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
