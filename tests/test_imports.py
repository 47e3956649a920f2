"""Imports at module level, so the import graph is what the code says (issue 18 item 8).

Outside `flsdb.cli`, a function imports nothing, except a heavy or optional third-party library
that its module needs in some paths only: each such import is listed here, with its reason, and
carries a `# lazy:` comment saying why. The command line's modules import their subsystems inside
the commands, so that `flsdb --help` and the cheap commands start fast: their module-level imports
load none of the heavy libraries, and `--help` keeps benchmarks/startup.py's target."""

from __future__ import annotations

import ast
import functools
import statistics
import subprocess
import sys
from pathlib import Path

from benchmarks.startup import BARE, COMMANDS, HELP_TARGET, run_timed

SRC = Path(__file__).parents[1] / "src" / "flsdb"

# (module, imported module): why the import waits until a function needs it.
ALLOWED = {
    ("flsdb.ingest.csv_file", "duckdb"): "only a CSV upload is read by it; a store's KPIs are not",
    ("flsdb.ingest.xlsx_file", "openpyxl"): "only a workbook upload needs it; CSV ones do not",
    ("flsdb.kpi.sources", "duckdb"): "only files are queried in DuckDB; a store's KPIs are not",
    ("flsdb.kpi.spark", "pyspark.sql"): "optional, seconds to load: the spark engine only",
    ("flsdb.kpi.spark", "pyspark.errors"): "optional: the spark engine only",
    ("flsdb.kpi.spark", "py4j.protocol"): "comes with pyspark: the spark engine only",
    ("flsdb.reports.build", "weasyprint"): "as render's: imported before the PDF workers fork",
    ("flsdb.reports.charts.pdf_drawing", "weasyprint.svg"): "as render's: PDFs only",
    ("flsdb.reports.charts.pdf_drawing", "tinycss2.color5"): "as weasyprint",
    ("flsdb.reports.charts.pdf_drawing", "weasyprint.css.properties"): "as weasyprint",
    ("flsdb.reports.charts.pdf_drawing", "weasyprint.draw.text"): "as weasyprint",
    ("flsdb.reports.charts.pdf_drawing", "weasyprint.matrix"): "as weasyprint",
    ("flsdb.reports.charts.pdf_drawing", "weasyprint.svg.text"): "as weasyprint",
    ("flsdb.reports.charts.pdf_drawing", "weasyprint.text.line_break"): "as weasyprint",
    ("flsdb.reports.render", "weasyprint"): "about 0.5 s: only PDFs need it, not HTML",
    ("flsdb.reports.render", "weasyprint.text.fonts"): "as weasyprint",
    ("flsdb.reports.render", "weasyprint.urls"): "as weasyprint",
    ("flsdb.sheets", "pandas"): "csv_frame only; `flsdb template` uses the module without it",
    ("flsdb.sheets", "pandas.api"): "as pandas",
    ("flsdb.stats.funnel", "scipy"): "about 0.9 s: exact limits only",
    ("flsdb.stats.intervals", "scipy.special"): "about 0.6 s: the exact interval only",
    ("flsdb.storage.bulk", "adbc_driver_sqlite.dbapi"): "about 0.5 s: SQLite bulk work only",
    ("flsdb.storage.sqlite_files", "adbc_driver_sqlite.dbapi"): "about 0.5 s: SQLite reads only",
    ("flsdb.storage.database", "alembic.config"): "only to migrate or read the migrations",
    ("flsdb.storage.database", "alembic.script"): "as alembic.config",
    ("flsdb.storage.database", "alembic"): "as alembic.config",
    ("flsdb.storage.parquet", "duckdb"): "only when a Parquet file is written",
}
# What the command line's modules must not load for `flsdb --help`.
HEAVY = (
    "alembic",
    "duckdb",
    "fastapi",
    "ibis",
    "numpy",
    "pandas",
    "polars",
    "pyarrow",
    "pydantic",
    "scipy",
    "sqlalchemy",
    "weasyprint",
    "yaml",
)


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def local_imports(source: str, name: str, package: bool = False) -> list[tuple[str, int, str]]:
    """(module, line, imported module) of each import inside a function of module `name`;
    type-only ones are not imports at run time and are left out."""
    found: list[tuple[str, int, str]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return
        if in_function and isinstance(node, ast.Import):
            found.extend((name, node.lineno, alias.name) for alias in node.names)
        elif in_function and isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolved against the package
                parts = name.split(".")
                package_parts = parts if package else parts[:-1]
                base = ".".join([*package_parts[: len(package_parts) - node.level + 1], base])
            found.append((name, node.lineno, base.strip(".")))
        inside = in_function or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        for child in ast.iter_child_nodes(node):
            visit(child, inside)

    visit(ast.parse(source), False)
    return found


def imports_of(path: Path) -> list[tuple[str, int, str]]:
    source = path.read_text(encoding="utf-8")
    return local_imports(source, module_name(path), path.name == "__init__.py")


@functools.cache
def outside_cli() -> tuple[tuple[str, int, str], ...]:
    """Every function-local import outside the command line (the source parsed once for the
    tests that read it)."""
    return tuple(
        found
        for path in sorted(SRC.rglob("*.py"))
        if "cli" not in path.relative_to(SRC).parts[:1]
        for found in imports_of(path)
    )


def test_a_function_local_import_outside_the_command_line_is_listed() -> None:
    unlisted = [
        f"{module}:{line} imports {imported} inside a function"
        for module, line, imported in outside_cli()
        if (module, imported) not in ALLOWED
    ]
    assert unlisted == [], (
        "Import at module level; only a heavy or optional third-party library needed in some "
        "paths waits, listed in ALLOWED with its reason and a `# lazy:` comment: "
        + "; ".join(unlisted)
    )


def test_every_listed_lazy_import_is_there_and_says_why() -> None:
    found = outside_cli()
    assert sorted(ALLOWED) == sorted({(module, imported) for module, _, imported in found})
    assert all(not imported.startswith("flsdb") for _, imported in ALLOWED)
    missing = []
    for module, line, imported in found:
        path = SRC.parent / (module.replace(".", "/") + ".py")
        if not path.exists():
            path = SRC.parent / module.replace(".", "/") / "__init__.py"
        above = path.read_text(encoding="utf-8").splitlines()[max(0, line - 4) : line - 1]
        if not any(text.strip().startswith("# lazy:") for text in above):
            missing.append(f"{module}:{line} ({imported})")
    assert missing == [], f"no `# lazy:` comment above: {missing}"


def test_the_detector_finds_a_function_local_import() -> None:
    """The check above reads what it should: imports in functions and methods, not module-level
    or type-only ones."""
    code = (
        "from typing import TYPE_CHECKING\nimport os\nif TYPE_CHECKING:\n    import pandas\n"
        "def f():\n    from flsdb.errors import NotFound\n"
        "class C:\n    def m(self):\n        import duckdb\n        from . import terms\n"
    )
    assert local_imports(code, "flsdb.kpi.x") == [
        ("flsdb.kpi.x", 6, "flsdb.errors"),
        ("flsdb.kpi.x", 9, "duckdb"),
        ("flsdb.kpi.x", 10, "flsdb.kpi"),
    ]


def test_the_command_modules_load_no_heavy_library() -> None:
    """`flsdb --help` imports every command module (Typer registers them all): none may pull in
    pandas, SQLAlchemy, Ibis, DuckDB and the like at module level."""
    modules = sorted(
        module_name(path) for path in (SRC / "cli").glob("*.py") if path.name != "__main__.py"
    )
    code = (
        f"import sys\nfor m in {modules!r}: __import__(m)\n"
        f"print(' '.join(h for h in {HEAVY!r} if h in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == []


def test_help_keeps_the_start_up_benchmarks_target(tmp_path: Path) -> None:
    """`flsdb --help` and every subcommand's `--help` within 2x a bare Typer program's, in
    processor time (user + system: what a busy machine changes least), as benchmarks/startup.py
    measures it, after a run that compiles and warms the files: the floors the best of three
    runs, a command over the target measured twice more."""
    bare = tmp_path / "bare.py"
    bare.write_text(BARE)
    flsdb = [sys.executable, "-c", "from flsdb.cli.app import main; main()"]
    for warm in ([sys.executable, str(bare), "--help"], [*flsdb, "--help"]):
        subprocess.run(warm, capture_output=True, check=True)

    def cpu(args: list[str], runs: int = 3) -> float:
        return min(run_timed(args, 1, tmp_path)[1] for _ in range(runs))

    floor = cpu([sys.executable, str(bare), "--help"])
    sub_floor = cpu([sys.executable, str(bare), "hello", "--help"])
    ratios = {}
    for command in COMMANDS:
        args, base = [*flsdb, *command, "--help"], sub_floor if command else floor
        ratio = cpu(args, 1) / base
        if ratio > HELP_TARGET:  # measured again before it counts: a busy moment is not a cost
            ratio = min(ratio, cpu(args, 2) / base)
        ratios[" ".join(["flsdb", *command, "--help"])] = ratio
    slow = {name: round(ratio, 1) for name, ratio in ratios.items() if ratio > HELP_TARGET}
    typical = statistics.median(ratios.values())
    assert slow == {}, f"over {HELP_TARGET}x a bare Typer program's (typical: {typical:.1f}x)"
