"""python -m bench: toolpool's load harness (see bench/README.md).

    python -m bench [suite] [--quick] [--out DIR] [--drivers floor,echo,pool,grpc,spawn,...]
    python -m bench open-loop   --driver grpc --workload trivial --rate 200 --duration 20
    python -m bench closed-loop --driver grpc --workload trivial --concurrency 8 --duration 10
    python -m bench step        --driver grpc --workload trivial --rates 100,200,400,800 --bound-ms 50
    python -m bench overshoot   --driver pool --n 300
    python -m bench procs       (process creation and IPC alternatives)
    python -m bench report bench/out/bench.json   (rewrite RESULTS.md and the PNG from saved figures)
    python -m bench --store postgresql://... store   (a cached Execute on PostgreSQL vs SQLite, and the
                                                      first call of an unseen version; bench/store.py)
    python -m bench versions --baseline REV          (compile time, CPU per call and memory against a
                                                      baseline revision, in one run; bench/versions.py)
    python -m bench hostile-compile                  (another tenant's greeting during a compile-bomb
                                                      flood; confined vs in-process compile; bench/hostile.py)
    python -m bench noisy [--rounds 5] [--duration 10]  (tenant B's greeting while tenant A spins, per-tenant
                                                      CPU groups on vs off, pool and grpc; bench/noisy.py)
    python -m bench codejail [--rounds 5] [--duration 10]   (toolpool over gRPC vs edX codejail, side by side;
                                                      bench/codejail_bench.py, after bench/codejail_setup.sh)
    python -m bench import-time [--rounds N]         (import toolpool beside import grpc + the stubs;
                                                      bench/import_time.py)
    python -m bench cpu-floor [--rounds 3]           (a fresh call's CPU over gRPC against the fork floor
                                                      and a bare echo, by process and server phase;
                                                      bench/cpu_floor.py)
    python -m bench state-sweep [--baseline REV]     (CPU per call against the state's size, 0 to 1 MiB,
                                                      over gRPC and the pool; bench/state_sweep.py)

``--target HOST:PORT`` (with ``--token``) drives a running toolpool instead of starting one.
``--store URL`` gives the servers the bench starts that store (a PostgreSQL database,
with a fresh secrets key) instead of their own SQLite files.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path

from bench import drivers, hostile, loadgen, memory, noisy, overshoot, procs, report, versions, workloads
from bench import store as store_bench
from bench.suite import Plan, Suite

DEFAULT_OUT = Path(__file__).resolve().parent / "out"
DEFAULT_RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
COMMANDS = (
    "suite",
    "open-loop",
    "closed-loop",
    "step",
    "overshoot",
    "procs",
    "report",
    "store",
    "hostile-compile",
    "codejail",
    "noisy",
)
FULL_DRIVERS = "floor,echo,pool,grpc,pool-reuse,grpc-reuse,spawn,codejail"
QUICK_DRIVERS = "floor,echo,pool,grpc,spawn"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="directory for JSON, PNG, logs (bench/out)")
    parser.add_argument("--target", help="a running toolpool server (HOST:PORT) for the grpc driver")
    parser.add_argument("--token", help="bearer token for --target")
    parser.add_argument(
        "--store",
        help="store URL for the servers the bench starts (e.g. postgresql://...); default: each its own SQLite file",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress display")
    sub = parser.add_subparsers(dest="command")

    suite = sub.add_parser("suite", help="everything; writes JSON, PNG and RESULTS.md (the default)")
    _suite_args(suite)
    for name, helptext in (
        ("open-loop", "Poisson arrivals at a fixed rate"),
        ("closed-loop", "N concurrent callers"),
        ("step", "raise the rate until p99 crosses a bound"),
    ):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("--driver", default="grpc", choices=drivers.DRIVER_NAMES)
        p.add_argument("--workload", default="trivial", choices=sorted(workloads.WORKLOADS))
        p.add_argument("--duration", type=float, default=10.0, help="seconds (per step for step)")
        p.add_argument("--rate", type=float, default=200.0)
        p.add_argument("--concurrency", type=int, default=8)
        p.add_argument("--rates", default="100,200,400,600,800,1000,1300,1600,2000")
        p.add_argument("--bound-ms", type=float, default=50.0)
    p = sub.add_parser("overshoot", help="deadline kill overshoot with the other core busy")
    p.add_argument("--driver", default="pool", choices=drivers.DRIVER_NAMES)
    p.add_argument("--n", type=int, default=300)
    p.add_argument("--deadline-ms", type=int, default=100)
    p.add_argument("--burners", type=int, default=1)
    p = sub.add_parser("report", help="rewrite RESULTS.md and the PNG from a saved bench.json")
    p.add_argument("json_file", type=Path)
    p.add_argument("--results", type=Path, default=DEFAULT_RESULTS)
    p = sub.add_parser("store", help="a cached Execute on PostgreSQL vs SQLite, and an unseen version's first call")
    p.add_argument("--rounds", type=int, default=2, help="alternating rounds per store")
    p.add_argument("--duration", type=float, default=6.0, help="seconds per round")
    p.add_argument("--concurrency", type=int, default=4)
    p.add_argument("--results", type=Path, default=DEFAULT_RESULTS)
    p = sub.add_parser(
        "hostile-compile",
        help="another tenant's greeting during a compile-bomb flood, and "
        "the confined compile against the in-process one",
    )
    p.add_argument("--rounds", type=int, default=3, help="alternating rounds (alone, flood)")
    p.add_argument("--duration", type=float, default=8.0, help="seconds per phase")
    p.add_argument("--rate", type=float, default=20.0, help="tenant B's start_function calls per second")
    p.add_argument("--flood", type=int, default=4, help="threads of tenant A deploying bombs")
    p.add_argument("--compiles", type=int, default=40, help="deploys of the 5 KB bundle per round, each server")
    p.add_argument("--baseline", default=hostile.BASELINE, help="the revision whose server compiled in-process")
    p.add_argument("--results", type=Path, default=DEFAULT_RESULTS)
    p = sub.add_parser("noisy", help="tenant B's greeting while tenant A spins: per-tenant CPU groups on vs off")
    p.add_argument("--drivers", default="pool,grpc", help="pool, grpc or both (default)")
    p.add_argument("--rounds", type=int, default=5, help="rounds, each measuring on and off in alternating order")
    p.add_argument("--duration", type=float, default=10.0, help="seconds of B alone, and of B with A, per round")
    p.add_argument("--rate", type=float, default=50.0, help="tenant B's start_function calls per second")
    p.add_argument(
        "--flood",
        type=int,
        default=noisy.default_flood(),
        help="tenant A's closed-loop callers (default: A's slots in the service, half of max(4, 2 x CPUs))",
    )
    p.add_argument("--flood-workload", default="spin_a", choices=("spin_a", "noisy_a"))
    p.add_argument("--results", type=Path, default=DEFAULT_RESULTS)
    p = sub.add_parser("codejail", help="toolpool over gRPC vs edX codejail, closed loop, alternating rounds")
    p.add_argument("--rounds", type=int, default=5, help="rounds per driver, alternating which goes first")
    p.add_argument("--duration", type=float, default=10.0, help="seconds per round and driver")
    p.add_argument("--concurrency", type=int, default=4, help="closed-loop callers (and codejail workers)")
    p.add_argument("--quick", action="store_true", help="2 short rounds (the smoke test)")
    p.add_argument(
        "--results",
        type=Path,
        help="where to write its section (default bench/RESULTS.md; in --quick mode OUT/RESULTS.md)",
    )
    p = sub.add_parser("procs", help="process creation and IPC alternatives")
    p.add_argument("--n", type=int, default=100)
    p.add_argument("--slow-n", type=int, default=20)
    p.add_argument("--seconds", type=float, default=3.0)
    p.add_argument("--ipc-n", type=int, default=2000)
    return parser


def _suite_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quick", action="store_true", help="a few seconds in all (the smoke test)")
    p.add_argument("--drivers", help=f"comma-separated (default {FULL_DRIVERS}; quick: {QUICK_DRIVERS})")
    p.add_argument("--no-procs", action="store_true", help="skip the process-creation and IPC figures")
    p.add_argument("--child-cost", action="store_true", help="also run bench/child_cost.py (per-phase CPU)")
    p.add_argument(
        "--results",
        type=Path,
        help="where to write RESULTS.md (default bench/RESULTS.md; in --quick mode OUT/RESULTS.md)",
    )


def _write(out: Path, name: str, doc: dict) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    path = out / name
    path.write_text(json.dumps(doc, indent=1, default=str) + "\n")
    return path


def cmd_suite(args: argparse.Namespace, argv: list[str]) -> int:
    plan = Plan.make(args.quick)
    names = (args.drivers or (QUICK_DRIVERS if args.quick else FULL_DRIVERS)).split(",")
    if not drivers.service_available() and args.target is None:
        names = [n for n in names if not n.startswith("grpc")]
    skipped = {}
    if "codejail" in names:
        from bench import codejail_driver

        problems = codejail_driver.setup_problems()
        if problems:  # a baseline this machine lacks: said in RESULTS.md, not a failure
            names.remove("codejail")
            skipped["codejail"] = f"setup missing ({'; '.join(problems)}): {codejail_driver.SETUP_HINT}"
            print(f"python -m bench: skipping codejail: {skipped['codejail']}", file=sys.stderr)
    args.out.mkdir(parents=True, exist_ok=True)
    meta = report.metadata(argv, args.quick, plan)
    meta["drivers_requested"] = names
    suite = Suite(
        plan,
        args.out,
        names,
        target=args.target,
        token=args.token,
        progress=loadgen.Progress(not args.no_progress),
        with_procs=not args.no_procs,
        with_child_cost=args.child_cost,
    )
    doc = report.build(meta, {**suite.run(), "skipped": skipped})
    json_path = args.out / "bench.json"
    report.write_json(doc, json_path)
    png_path = args.out / "bench.png"
    png = report.write_png(doc, png_path)
    results = args.results or (args.out / "RESULTS.md" if args.quick else DEFAULT_RESULTS)
    kept = report.kept_sections(results)  # the sections of bench/store.py and bench/versions.py are their own
    text = report.results_markdown(doc, _display(json_path), _display(png_path) if png else None)
    results.write_text(text + ("\n" + kept if kept else ""))
    print(f"wrote {json_path}, {png_path if png else '(no PNG: matplotlib missing)'}, {results}")
    for t in doc["targets"]:
        print(f"  {t['status']:>12}  {t['target']}: {t['measured']} (wanted {t['wanted']})")
    return 0


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(report.REPO))
    except ValueError:
        return str(path)


def _one_driver(args: argparse.Namespace) -> drivers.Driver:
    key = None
    if args.store:
        from worker.store.crypto import new_key_text

        key = new_key_text()
    driver = drivers.make_driver(
        args.driver, args.out, target=args.target, token=args.token, store_url=args.store, secrets_key=key
    )
    args.out.mkdir(parents=True, exist_ok=True)
    driver.start()
    return driver


def cmd_single(args: argparse.Namespace, argv: list[str]) -> int:
    progress = loadgen.Progress(not args.no_progress)
    driver = _one_driver(args)
    meta = report.metadata(argv, False, None)
    try:
        next_call = workloads.workload(args.workload)
        # Warm caches, connections and the server's compiled bundles first (not recorded).
        loadgen.closed_loop(
            driver,
            next_call,
            concurrency=2,
            duration_s=1.0,
            run_id="warm-up",
            workload=args.workload,
            progress=loadgen.Progress(False),
        )
        if args.command == "open-loop":
            result = loadgen.open_loop(
                driver,
                next_call,
                rate=args.rate,
                duration_s=args.duration,
                run_id=f"{driver.name}/{args.workload}/open@{args.rate:g}",
                workload=args.workload,
                progress=progress,
            ).summary()
        elif args.command == "closed-loop":
            result = loadgen.closed_loop(
                driver,
                next_call,
                concurrency=args.concurrency,
                duration_s=args.duration,
                run_id=f"{driver.name}/{args.workload}/closed@{args.concurrency}",
                workload=args.workload,
                progress=progress,
            ).summary()
        else:
            rates = [float(r) for r in args.rates.split(",")]
            result = loadgen.step(
                driver,
                next_call,
                rates=rates,
                step_s=args.duration,
                p99_bound_ms=args.bound_ms,
                run_id=f"{driver.name}/{args.workload}/step",
                workload=args.workload,
                progress=progress,
            )
            print(f"knee: {result['knee_rate']} calls/s (p99 bound {args.bound_ms} ms)")
        result["memory"] = memory.measure(driver)
        result["driver_description"] = driver.describe()
    finally:
        driver.close()
    path = _write(
        args.out,
        f"{args.command}-{args.driver}-{args.workload}.json",
        {"schema": report.SCHEMA, "meta": meta, "result": result},
    )
    print(f"wrote {path}")
    return 0


def cmd_overshoot(args: argparse.Namespace, argv: list[str]) -> int:
    driver = _one_driver(args)
    try:
        result = overshoot.measure(
            driver,
            args.n,
            deadline_ms=args.deadline_ms,
            burners=args.burners,
            progress=loadgen.Progress(not args.no_progress),
        )
    finally:
        driver.close()
    path = _write(
        args.out,
        f"overshoot-{args.driver}.json",
        {"schema": report.SCHEMA, "meta": report.metadata(argv, False, None), "overshoot": result},
    )
    print(json.dumps(result["overshoot_ms"]))
    print(f"wrote {path}")
    return 0


def cmd_report(args: argparse.Namespace, argv: list[str]) -> int:
    """The figures and targets are recomputed from the runs; meta (command, commit) is the run's."""
    doc = json.loads(args.json_file.read_text())
    figures = {k: v for k, v in doc.items() if k not in ("schema", "meta", "comparisons", "targets")}
    doc = report.build(doc["meta"], figures)
    args.out.mkdir(parents=True, exist_ok=True)
    png_path = args.out / "bench.png"
    png = report.write_png(doc, png_path)
    args.results.write_text(report.results_markdown(doc, _display(args.json_file), _display(png_path) if png else None))
    print(f"wrote {args.results}" + (f" and {png_path}" if png else ""))
    return 0


def cmd_store(args: argparse.Namespace, argv: list[str]) -> int:
    if not args.store or not args.store.startswith(("postgresql://", "postgres://")):
        print(
            "python -m bench store: give --store postgresql://USER@HOST:PORT/DB, an empty database the bench "
            "may write to",
            file=sys.stderr,
        )
        return 2
    meta = report.metadata(argv, False, None)
    result = store_bench.run(
        args.out, args.store, rounds=args.rounds, duration_s=args.duration, concurrency=args.concurrency
    )
    path = store_bench.save(args.out, result, meta)
    section = store_bench.markdown(result, " ".join(argv).replace(args.store, "URL"), meta.get("commit", "?")[:7])
    report.write_section(args.results, store_bench.SECTION_NAME, section)
    print(section)
    print(f"wrote {path} and {args.results}")
    return 0


def cmd_procs(args: argparse.Namespace, argv: list[str]) -> int:
    result = procs.run_all(args.n, args.slow_n, args.seconds, args.ipc_n)
    path = _write(
        args.out, "procs.json", {"schema": report.SCHEMA, "meta": report.metadata(argv, False, None), "procs": result}
    )
    print(json.dumps(result, indent=1))
    print(f"wrote {path}")
    return 0


def _terminate(signum: int, _frame: object) -> None:
    # SIGTERM becomes SystemExit in the main thread, so every driver's close() runs and no
    # server or template started by the bench outlives it.
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _terminate)
    argv = list(sys.argv if argv is None else ["python -m bench", *argv])
    parser = _parser()
    args_list = argv[1:]
    if args_list[:1] == ["versions"]:
        versions.main(args_list[1:])
        return 0
    if args_list[:1] == ["import-time"]:
        from bench import import_time

        return import_time.run(args_list[1:])
    top, rest = _split_top(args_list)
    if rest[:1] in (["cpu-floor"], ["state-sweep"]):
        from bench import cpu_floor, state_sweep

        # Commands with their own parser: main(argv, out, results) in their module.
        command = {"cpu-floor": cpu_floor.main, "state-sweep": state_sweep.main}[rest[0]]
        out = Path(top[top.index("--out") + 1]) if "--out" in top else DEFAULT_OUT
        return command(rest[1:], out, DEFAULT_RESULTS)
    if not any(
        a in COMMANDS and not (i and args_list[i - 1] in ("--drivers", "--driver")) for i, a in enumerate(args_list)
    ) and not any(a in ("-h", "--help") for a in args_list):
        args_list = list(args_list)
        # Top-level options first, then the default command with its options.
        top, rest = _split_top(args_list)
        args_list = [*top, "suite", *rest]
    args = parser.parse_args(args_list)
    argv_shown = ["python", "-m", "bench", *argv[1:]]
    if args.command == "suite":
        return cmd_suite(args, argv_shown)
    if args.command in ("open-loop", "closed-loop", "step"):
        return cmd_single(args, argv_shown)
    if args.command == "overshoot":
        return cmd_overshoot(args, argv_shown)
    if args.command == "report":
        return cmd_report(args, argv_shown)
    if args.command == "store":
        return cmd_store(args, argv_shown)
    if args.command == "codejail":
        from bench import codejail_bench

        return codejail_bench.main(args, argv_shown, DEFAULT_RESULTS)
    if args.command == "hostile-compile":
        result = hostile.run(
            args.out,
            args.results,
            rounds=args.rounds,
            duration_s=args.duration,
            rate=args.rate,
            width=args.flood,
            compiles=args.compiles,
            baseline=args.baseline,
        )
        print(hostile.render(result))
        return 0
    if args.command == "noisy":
        result = noisy.run(
            args.out,
            args.results,
            kinds=args.drivers.split(","),
            rounds=args.rounds,
            duration_s=args.duration,
            rate=args.rate,
            flood=args.flood,
            flood_workload=args.flood_workload,
        )
        print(noisy.render(result))
        return 0
    return cmd_procs(args, argv_shown)


def _split_top(args: list[str]) -> tuple[list[str], list[str]]:
    """Separates the top-level options (--out, --target, --token, --no-progress) from the suite's."""
    top, rest = [], []
    i = 0
    while i < len(args):
        a = args[i]
        name = a.split("=", 1)[0]
        if name in ("--out", "--target", "--token", "--store"):
            top.append(a)
            if "=" not in a and i + 1 < len(args):
                top.append(args[i + 1])
                i += 1
        elif name == "--no-progress":
            top.append(a)
        else:
            rest.append(a)
        i += 1
    return top, rest


if __name__ == "__main__":
    sys.exit(main())
