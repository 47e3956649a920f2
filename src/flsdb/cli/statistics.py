"""`flsdb stats`: funnel-plot limits and SPC charts on an analyst's own CSV."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from flsdb.cli.console import note
from flsdb.cli.files import write_output
from flsdb.cli.options import FunnelMethod, Overdispersion
from flsdb.errors import ConfigurationError

if TYPE_CHECKING:
    import pandas as pd

stats_app = typer.Typer(help="Benchmarking statistics on your own CSV files.", no_args_is_help=True)


class ChartKind(enum.StrEnum):
    p = "p"
    pprime = "pprime"
    xmr = "xmr"
    run = "run"


def _read(path: Path, needed: tuple[str, ...]) -> pd.DataFrame:
    import pandas as pd

    try:
        frame = pd.read_csv(path, encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigurationError(f"Cannot open {path}: no such file.") from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError):
        raise ConfigurationError(f"{path.name} cannot be read as a CSV file.") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ConfigurationError(f"{path.name} needs the column(s) {', '.join(missing)}.")
    for column in needed:
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = frame.index[values.isna() & frame[column].notna()]
        if len(bad):
            row = int(bad[0]) + 2
            raise ConfigurationError(
                f"{path.name} row {row}: {column} '{frame[column][bad[0]]}' is not a number."
            )
        frame[column] = values
    if len(frame) == 0:
        raise ConfigurationError(f"{path.name} has a header but no rows.")
    return frame


def _write(frame: pd.DataFrame, output: Path | None) -> None:
    from flsdb.sheets import csv_frame

    text = csv_frame(frame).to_csv(index=False)
    if output is None:
        typer.echo(text, nl=False)
    else:
        write_output(output, text)
        note(f"wrote {output}")


def funnel_command(
    file: Annotated[Path, typer.Argument(help="CSV with numerator and denominator columns.")],
    method: Annotated[FunnelMethod, typer.Option(help="Limits method.")] = FunnelMethod.wilson,
    overdispersion: Annotated[
        Overdispersion, typer.Option(help="Overdispersion adjustment.")
    ] = Overdispersion.none,
    target: Annotated[
        float | None,
        typer.Option(
            help="Target proportion (0-1, or a percent above 1); default: the pooled proportion."
        ),
    ] = None,
    output: Annotated[Path | None, typer.Option("--out", help="Write CSV here.")] = None,
) -> None:
    """Add funnel limits (percent) and a flag to each row: high_alarm (beyond the 99.8% limit),
    high_alert (beyond 95%), inside, low_alert, low_alarm."""
    from flsdb.stats import funnel

    frame = _read(file, ("numerator", "denominator"))
    if target is not None and target > 1:
        target = target / 100
    if target is not None and not 0 < target < 1:
        raise ConfigurationError("--target must be a proportion or a percent between 0 and 100.")
    result = funnel(
        frame["numerator"],
        frame["denominator"],
        method=method.value,
        overdispersion=overdispersion.value,
        target=target,
    )
    frame["percent"] = result.proportion * 100
    for level, name in ((0.95, "95"), (0.998, "998")):
        frame[f"lower{name}"] = result.limits[level][0] * 100
        frame[f"upper{name}"] = result.limits[level][1] * 100
    frame["flag"] = result.flags
    note(f"target {result.target:.6%}; {result.describe()}")
    _write(frame, output)


def spc_command(
    file: Annotated[Path, typer.Argument(help="CSV in time order.")],
    chart: Annotated[
        ChartKind,
        typer.Option(help="p or pprime (Laney): numerator, denominator; xmr and run: value."),
    ] = ChartKind.p,
    baseline: Annotated[
        int | None,
        typer.Option(min=1, help="Points in the baseline, from the first (default: all)."),
    ] = None,
    shift: Annotated[int, typer.Option(min=2, help="Points in a shift.")] = 7,
    trend: Annotated[int, typer.Option(min=2, help="Points in a trend.")] = 7,
    screen: Annotated[bool, typer.Option(help="XmR: screen out large moving ranges.")] = False,
    output: Annotated[Path | None, typer.Option("--out", help="Write CSV here.")] = None,
) -> None:
    """Add centre, lower, upper and signal (the rules that fired) to each point."""
    import numpy as np

    from flsdb.stats import laney_p_chart, p_chart, run_chart, xmr_chart
    from flsdb.stats.spc import Rules

    rules = Rules(shift=shift, trend=trend)
    if chart in (ChartKind.p, ChartKind.pprime):
        frame = _read(file, ("numerator", "denominator"))
        build = p_chart if chart is ChartKind.p else laney_p_chart
        result = build(frame["numerator"], frame["denominator"], baseline, rules)
        if result.sigma_z is not None:
            note(f"sigma_z {result.sigma_z:.4g} (Laney): limits times {result.sigma_z:.3g}")
    else:
        frame = _read(file, ("value",))
        if chart is ChartKind.xmr:
            result = xmr_chart(frame["value"], baseline, screen, rules)
        else:
            analysis, result = run_chart(frame["value"], baseline)
            note(
                f"median {analysis.median:g}; longest run {analysis.longest_run} "
                f"(limit {analysis.run_limit}); crossings {analysis.crossings} "
                f"(at least {analysis.crossing_limit} expected)"
            )
    frame["centre"] = result.centre
    frame["lower"] = np.where(np.isnan(result.lower), np.nan, result.lower)
    frame["upper"] = result.upper
    frame["signal"] = result.signal_text()
    _write(frame, output)


stats_app.command("funnel")(funnel_command)
stats_app.command("spc")(spc_command)
