"""Start-up time of the `flsdb` command beside a bare Typer program measured in the same run.

    python benchmarks/startup.py [--runs 5]

Times (median of the runs, each in a fresh process): a bare Typer program's `--help` and its
command's `--help` (the floors), `flsdb --help` and every subcommand's `--help` (each beside the
matching floor), and a KPI run on a few hundred records in an SQLite store (`flsdb kpis`, beside
the bare `--help`). Each is timed twice: wall clock, and processor time (user + system, of the
process and its children), which other work on a busy machine barely changes. Targets: every
`--help` within 2x its floor; the KPI run within 8x. Prints a Markdown table for the README.
tests/test_imports.py holds `flsdb --help` and the subcommands' `--help` to the first target.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BARE = """
import typer
app = typer.Typer()
@app.command()
def hello(name: str = "x") -> None:
    print(name)
@app.command()
def other() -> None:
    pass
app()
"""
COMMANDS = [
    [],
    ["template"],
    ["dictionary"],
    ["load-services"],
    ["import"],
    ["delete-record"],
    ["kpis"],
    ["report"],
    ["synth"],
    ["demo"],
    ["methodology"],
    ["thresholds"],
    ["db", "upgrade"],
    ["stats", "funnel"],
    ["stats", "spc"],
]


def flsdb_command() -> str:
    return str(Path(sys.executable).parent / "flsdb")


HELP_TARGET = 2.0  # x the bare Typer program's matching --help
KPI_TARGET = 8.0  # x the bare Typer program's --help


def children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def run_timed(args: list[str], runs: int, cwd: Path) -> tuple[float, float]:
    """The median wall clock and processor seconds of `runs` runs of a command."""
    times, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), children_cpu()
        result = subprocess.run(args, cwd=cwd, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        cpu.append(children_cpu() - start_cpu)
        if result.returncode != 0:
            raise SystemExit(f"{' '.join(args)} failed: {result.stderr[-500:]}")
    return statistics.median(times), statistics.median(cpu)


def timed(args: list[str], runs: int, cwd: Path) -> float:
    return run_timed(args, runs, cwd)[0]


def small_store(folder: Path) -> Path:
    """A few hundred synthetic records in an SQLite store."""
    run = [flsdb_command()]
    subprocess.run(
        [*run, "synth", "--services", "5", "--records", "300", "--history-years", "0",
         "--out", str(folder / "data")],
        check=True, capture_output=True,
    )  # fmt: skip
    db = folder / "small.db"
    for command, file in (("load-services", "services.csv"), ("import", "records.csv")):
        subprocess.run(
            [*run, command, str(folder / "data" / file), "--db", str(db)],
            check=True,
            capture_output=True,
        )
    return db


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    env_note = f"{os.cpu_count()} cores, Python {sys.version.split()[0]}"
    with tempfile.TemporaryDirectory(prefix="flsdb-startup-") as tmp:
        folder = Path(tmp)
        (folder / "bare.py").write_text(BARE)
        # A first run of each warms the file cache and compiles bytecode: not counted.
        subprocess.run([sys.executable, str(folder / "bare.py"), "--help"], capture_output=True)
        subprocess.run([flsdb_command(), "--help"], capture_output=True)
        floor = run_timed([sys.executable, str(folder / "bare.py"), "--help"], args.runs, folder)
        sub_floor = run_timed(
            [sys.executable, str(folder / "bare.py"), "hello", "--help"], args.runs, folder
        )
        print(f"machine: {env_note}; median of {args.runs} runs\n")
        print("| command | seconds | x bare Typer | processor seconds | x bare Typer |")
        print("|---|---|---|---|---|")
        row = f"| {floor[0]:.2f} | 1.0 | {floor[1]:.2f} | 1.0 |"
        print(f"| bare Typer program --help (floor) {row}")
        print(
            f"| bare Typer program COMMAND --help (floor for commands) | {sub_floor[0]:.2f} | 1.0 "
            f"| {sub_floor[1]:.2f} | 1.0 |"
        )
        worst, worst_cpu = 0.0, 0.0
        for command in COMMANDS:
            seconds, cpu = run_timed([flsdb_command(), *command, "--help"], args.runs, folder)
            base = floor if not command else sub_floor
            worst = max(worst, seconds / base[0])
            worst_cpu = max(worst_cpu, cpu / base[1])
            print(
                f"| flsdb {' '.join([*command, '--help'])} | {seconds:.2f} | "
                f"{seconds / base[0]:.1f} | {cpu:.2f} | {cpu / base[1]:.1f} |"
            )
        db = small_store(folder)
        kpi = [flsdb_command(), "kpis", "--period", "2024", "--by", "nation", "--format", "csv",
               "--as-of", "2026-01-31", "--db", str(db)]  # fmt: skip
        subprocess.run(kpi, capture_output=True, cwd=folder)
        seconds, cpu = run_timed(kpi, args.runs, folder)
        print(
            f"| flsdb kpis on 300 records (SQLite) | {seconds:.2f} | {seconds / floor[0]:.1f} "
            f"| {cpu:.2f} | {cpu / floor[1]:.1f} |"
        )
        print(
            f"\nslowest --help: {worst:.1f}x the floor, {worst_cpu:.1f}x in processor time "
            f"(target {HELP_TARGET:.0f}x); KPI run {seconds / floor[0]:.1f}x, "
            f"{cpu / floor[1]:.1f}x in processor time (target {KPI_TARGET:.0f}x)"
        )


if __name__ == "__main__":
    main()
