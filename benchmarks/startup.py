"""Start-up time of the `flsdb` command beside a bare Typer program measured in the same run.

    python benchmarks/startup.py [--runs 5]

Times (median of the runs, wall clock, each in a fresh process): a bare Typer program's
`--help` and its command's `--help` (the floors), `flsdb --help` and every subcommand's `--help`
(each beside the matching floor), and a KPI run on a few hundred records in an SQLite store
(`flsdb kpis`, beside the bare `--help`). Targets: every `--help` within 2x its floor; the KPI
run within 8x. Prints a Markdown table for the README.
"""

from __future__ import annotations

import argparse
import os
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


def timed(args: list[str], runs: int, cwd: Path) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = subprocess.run(args, cwd=cwd, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if result.returncode != 0:
            raise SystemExit(f"{' '.join(args)} failed: {result.stderr[-500:]}")
    return statistics.median(times)


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
        floor = timed([sys.executable, str(folder / "bare.py"), "--help"], args.runs, folder)
        sub_floor = timed(
            [sys.executable, str(folder / "bare.py"), "hello", "--help"], args.runs, folder
        )
        print(f"machine: {env_note}; median of {args.runs} runs\n")
        print("| command | seconds | x bare Typer |")
        print("|---|---|---|")
        print(f"| bare Typer program --help (floor) | {floor:.2f} | 1.0 |")
        print(f"| bare Typer program COMMAND --help (floor for commands) | {sub_floor:.2f} | 1.0 |")
        worst = 0.0
        for command in COMMANDS:
            seconds = timed([flsdb_command(), *command, "--help"], args.runs, folder)
            base = floor if not command else sub_floor
            worst = max(worst, seconds / base)
            print(
                f"| flsdb {' '.join([*command, '--help'])} | {seconds:.2f} | {seconds / base:.1f} |"
            )
        db = small_store(folder)
        kpi = [flsdb_command(), "kpis", "--period", "2024", "--by", "nation", "--format", "csv",
               "--as-of", "2026-01-31", "--db", str(db)]  # fmt: skip
        subprocess.run(kpi, capture_output=True, cwd=folder)
        seconds = timed(kpi, args.runs, folder)
        print(f"| flsdb kpis on 300 records (SQLite) | {seconds:.2f} | {seconds / floor:.1f} |")
        print(f"\nslowest --help: {worst:.1f}x the floor (target 2x); KPI run "
              f"{seconds / floor:.1f}x (target 8x)")  # fmt: skip


if __name__ == "__main__":
    main()
