"""What the server's stall diagnosis ($FLSDB_STALLS, `flsdb.web.stalls`) left in a folder, as
tables: per kind of request, how many were slower than 200 ms, where their time went and their
causes; whose write transactions the slow requests waited behind (across the server's
processes) and how long they waited with the write lock free; where the process's other
threads were when the interpreter lock came back late; what the threads were doing when
requests were late.

    python benchmarks/stalls.py FOLDER

`benchmarks/load.py --stalls FOLDER` runs the server with the diagnosis on.
"""

from __future__ import annotations

import bisect
import json
import statistics
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

PARTS = ("pool", "thread_wait", "lock", "commit", "sql", "thread_cpu", "views", "views_wait")
OVER = ("loop_blocked", "gc", "gil", "cpu_starved")


def _summaries(folder: Path) -> tuple[list[str], dict[str, Any]]:
    totals: Counter[str] = Counter()
    kinds: dict[str, dict[str, Any]] = {}
    gil_where: Counter[str] = Counter()
    loop_where: Counter[str] = Counter()
    for path in sorted(folder.glob("summary-*.json")):
        found = json.loads(path.read_text())
        for key in (
            "cpu",
            "loop_blocked_seconds",
            "gc_seconds",
            "gc_pauses",
            "gc_over_50ms",
            "gil_seconds",
            "cpu_starved_seconds",
        ):
            totals[key] += found[key]
        gil_where.update(found["gil_where"])
        loop_where.update(found.get("loop_where", {}))
        for name, kind in found["kinds"].items():
            into = kinds.setdefault(
                name,
                {"n": 0, "slow": 0, "slow_total": 0.0, "parts": Counter(), "causes": Counter()},
            )
            for key in ("n", "slow", "slow_total"):
                into[key] += kind[key]
            into["parts"].update(kind["slow_parts"])
            into["causes"].update(kind["causes"])
    requests = sum(k["n"] for k in kinds.values())
    slow = sum(k["slow"] for k in kinds.values())
    lines = [
        f"server processes (web): CPU {totals['cpu']:.1f} s for {requests:,} requests "
        f"({totals['cpu'] * 1000 / max(requests, 1):.1f} ms each), {slow:,} over 200 ms; "
        f"event loop kept from running {totals['loop_blocked_seconds']:.1f} s; garbage "
        f"collector {totals['gc_seconds']:.1f} s in {int(totals['gc_pauses']):,} pauses "
        f"({int(totals['gc_over_50ms'])} over 50 ms); interpreter lock held by another thread "
        f"{totals['gil_seconds']:.1f} s, no processor {totals['cpu_starved_seconds']:.1f} s "
        "(late wakes of a 2 ms sleep, over 20 ms)",
        "",
        "| kind | requests | over 200 ms | mean of the slow ms | "
        + " | ".join(f"{p} ms" for p in (*PARTS, *OVER))
        + " | causes of the slow |",
        "|---" * (5 + len(PARTS) + len(OVER)) + "|",
    ]
    causes: Counter[str] = Counter()
    for name, k in sorted(kinds.items()):
        n_slow = max(k["slow"], 1)
        parts = " | ".join(f"{k['parts'][p] * 1000 / n_slow:.0f}" for p in (*PARTS, *OVER))
        causes.update(k["causes"])
        lines.append(
            f"| {name} | {k['n']:,} | {k['slow']:,} | {k['slow_total'] * 1000 / n_slow:.0f} | "
            f"{parts} | {', '.join(f'{c} {n}' for c, n in k['causes'].most_common())} |"
        )
    lines.append(f"\nCauses of all {slow:,} slow requests: " + _counts(causes))
    lines.append("\nWhere the other threads were when the interpreter lock came back late:")
    lines += [f"{n:6d}  {w}" for w, n in gil_where.most_common(12)]
    lines.append(
        f"\nThe event loop, sampled every 50 ms: busy in {sum(loop_where.values())} samples at"
    )
    lines += [f"{n:6d}  {w}" for w, n in loop_where.most_common(15)]
    return lines, {"requests": requests}


def _counts(found: Counter[str]) -> str:
    total = max(sum(found.values()), 1)
    return ", ".join(f"{c} {n} ({n * 100 / total:.0f}%)" for c, n in found.most_common())


def _holds(folder: Path) -> list[str]:
    """Write transactions of every process, and the slow requests' waits behind them."""
    holds: list[tuple[float, float, str, int]] = []
    for path in folder.glob("holds-*.jsonl"):
        pid = int(path.stem.split("-")[1])
        for line in path.open():
            kind, began, ended = json.loads(line)
            holds.append((began, ended, kind, pid))
    holds.sort()
    starts = [h[0] for h in holds]
    per_kind: dict[str, list[float]] = defaultdict(list)
    for began, ended, kind, _ in holds:
        per_kind[kind].append(ended - began)
    lines = [
        f"\nWrite transactions (the write lock held), {len(holds):,} in all:",
        "| holder | count | mean ms | p95 ms | max ms | seconds in all |",
        "|---|---|---|---|---|---|",
    ]
    for kind, times in sorted(per_kind.items(), key=lambda kv: -sum(kv[1])):
        ordered = sorted(times)
        lines.append(
            f"| {kind} | {len(times):,} | {statistics.mean(times) * 1000:.1f} | "
            f"{ordered[int(len(ordered) * 0.95)] * 1000:.0f} | {ordered[-1] * 1000:.0f} | "
            f"{sum(times):.1f} |"
        )
    behind: Counter[str] = Counter()
    waited = 0.0
    for path in folder.glob("slow-*.jsonl"):
        pid = int(path.stem.split("-")[1])
        for line in path.open():
            slow = json.loads(line)
            for a, b in slow["lock_waits"]:
                waited += b - a
                covered = 0.0
                i = max(0, bisect.bisect_left(starts, a) - 1)
                while i < len(holds) and holds[i][0] < b:
                    began, ended, kind, holder = holds[i]
                    part = max(0.0, min(ended, b) - max(began, a))
                    if part:
                        where = "same process" if holder == pid else "other process"
                        behind[f"{kind} ({where})"] += part
                        covered += part
                    i += 1
                behind["lock free (busy handler asleep, or an untraced writer)"] += max(
                    0.0, b - a - covered
                )
    lines.append(
        f"\nThe slow requests' {waited:.1f} s waiting for the write lock, behind whom (seconds):"
    )
    lines += [f"{s:8.1f}  {k}" for k, s in behind.most_common(12)]
    return lines


def _stacks(folder: Path) -> list[str]:
    where: Counter[str] = Counter()
    dumps = 0
    for path in folder.glob("stacks-*.txt"):
        for line in path.read_text().splitlines():
            if line.startswith("=="):
                dumps += 1
            elif "flsdb" in line or "sqlalchemy" in line or "[event loop]" in line:
                where[line.strip().split(": ", 1)[-1]] += 1
    return [f"\nThreads' places in {dumps} dumps (most common first):"] + [
        f"{n:5d}  {w}" for w, n in where.most_common(20)
    ]


def report(folder: Path) -> str:
    lines, _ = _summaries(folder)
    return "\n".join(lines + _holds(folder) + _stacks(folder))


if __name__ == "__main__":
    print(report(Path(sys.argv[1])))
