"""Vega-Lite specifications for the dashboards' charts: data in, a dict out, drawn in the
browser by the vendored Vega libraries (tooltips with n, N, percent and interval). Every chart
also has its data as a table beneath it, which is what prints and what works without JavaScript.
"""

from __future__ import annotations

from typing import Any

SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
FLAG_LABELS = {
    "high_alarm": "alarm, high",
    "high_alert": "alert, high",
    "inside": "inside",
    "low_alert": "alert, low",
    "low_alarm": "alarm, low",
}
# High and low beyond the funnel's limits in the SPC charts' colours (Making Data Count): blue
# above, orange below (for a KPI where higher is better, improvement and concern), darker at
# alarm; grey inside. Green and red are the RAG ratings' alone.
FLAG_COLOURS = {
    "alarm, high": "#003d78",
    "alert, high": "#005eb8",
    "inside": "#8a949e",
    "alert, low": "#e69138",
    "alarm, low": "#a34700",
    "this FLS": "#f1c232",
}
SIGNAL_COLOURS = {"improvement": "#005eb8", "concern": "#e69138", "neutral": "#8a949e"}
# A funnel drawn without its centre line and limits (England and Wales's value withheld).
NOT_JUDGED = "FLS (no limits drawn)"
FLAG_COLOURS_ALL = {**FLAG_COLOURS, NOT_JUDGED: "#8a949e"}


def _base(title: str, height: int = 220) -> dict[str, Any]:
    """The frame of a chart; no title drawn for "" (the figure's caption below says it: a title
    as well would say it twice, and be cut short on a phone)."""
    return {
        "$schema": SCHEMA,
        **({"title": {"text": title, "anchor": "start", "fontSize": 13}} if title else {}),
        # As wide as the chart's box (a phone's screen, or half a desktop's): the box decides,
        # so no chart runs off a phone's screen.
        "width": "container",
        "autosize": {"type": "fit-x", "contains": "padding"},
        "height": height,
        "config": {"view": {"stroke": None}, "axis": {"labelFontSize": 11, "titleFontSize": 11}},
    }


def spc_spec(
    title: str, points: list[dict[str, Any]], target: float | None, point: str = "month"
) -> dict[str, Any]:
    """Percentages by month (or quarter) with mean and 3-sigma limits (a run chart: the median,
    no limits); points coloured by their signal. The line joining them is grey, as Making Data
    Count draws it: blue and orange mean improvement and concern, for the points alone."""
    x = {
        "field": "month_name",
        "type": "ordinal",
        "sort": None,  # in the order of the months, not of their names
        "title": point,
        "axis": {"labelAngle": -45},
    }
    y_title = "percent of patients"
    layers: list[dict[str, Any]] = [
        {
            "mark": {
                "type": "line",
                "interpolate": "step-after",
                "strokeDash": [4, 3],
                "color": "#56606b",
            },
            "encoding": {"x": x, "y": {"field": "upper", "type": "quantitative", "title": y_title}},
        },
        {
            "mark": {
                "type": "line",
                "interpolate": "step-after",
                "strokeDash": [4, 3],
                "color": "#56606b",
            },
            "encoding": {"x": x, "y": {"field": "lower", "type": "quantitative"}},
        },
        {
            "mark": {"type": "line", "color": "#1d2329", "strokeWidth": 1},
            "encoding": {"x": x, "y": {"field": "centre", "type": "quantitative"}},
        },
        {
            "mark": {"type": "line", "color": SIGNAL_COLOURS["neutral"], "point": False},
            "encoding": {"x": x, "y": {"field": "percent", "type": "quantitative"}},
        },
        {
            "mark": {"type": "point", "filled": True, "size": 55},
            "encoding": {
                "x": x,
                "y": {"field": "percent", "type": "quantitative"},
                "color": {
                    "field": "signal",
                    "type": "nominal",
                    "title": "signal",
                    "legend": {"orient": "bottom"},
                    "scale": {
                        "domain": list(SIGNAL_COLOURS),
                        "range": list(SIGNAL_COLOURS.values()),
                    },
                },
                "tooltip": [
                    {"field": "month_name", "title": point},
                    {"field": "numerator", "title": "n"},
                    {"field": "denominator", "title": "N"},
                    {"field": "percent", "title": "%", "format": ".1f"},
                    {"field": "lower", "title": "lower limit", "format": ".1f"},
                    {"field": "upper", "title": "upper limit", "format": ".1f"},
                    {"field": "rules", "title": "rules"},
                ],
            },
        },
    ]
    if target is not None:
        layers += target_layers(target, "y")
    return {**_base(title), "data": {"values": points}, "layer": layers}


def target_layers(
    target: float, axis: str, colour: str = "#1e6b32", words: str = "target"
) -> list[dict[str, Any]]:
    """A target line, labelled with its value in words at its end ("target 80%")."""
    data = {"values": [{"target": target, "label": f"{words} {target:g}%"}]}
    rule = {
        "data": data,
        "mark": {"type": "rule", "color": colour, "strokeDash": [4, 3], "strokeWidth": 1.5},
        "encoding": {axis: {"field": "target", "type": "quantitative"}},
    }
    if axis == "y":
        mark = {"type": "text", "align": "right", "baseline": "bottom", "dy": -2, "x": "width"}
    else:
        mark = {"type": "text", "align": "left", "baseline": "top", "dx": 3, "y": 0}
    label = {
        "data": data,
        "mark": {**mark, "color": colour, "fontSize": 11, "fontWeight": "bold"},
        "encoding": {
            axis: {"field": "target", "type": "quantitative"},
            "text": {"field": "label"},
        },
    }
    return [rule, label]


def funnel_spec(
    title: str, points: list[dict[str, Any]], limits: list[dict[str, Any]], target: float | None
) -> dict[str, Any]:
    """Each FLS's percentage against its number of patients, with the 95% and 99.8% limits
    and the centre line (neither for no `limits` and `target`: the points alone); the legend
    names 'this FLS' only where one is drawn (an FLS's own dashboard)."""
    drawn = {p["flag"] for p in points}
    if limits:
        flags = [f for f in FLAG_COLOURS if f != "this FLS" or f in drawn]
    else:
        flags = [f for f in FLAG_COLOURS_ALL if f in drawn]
    # Patients on a log scale, as the FLS report's panels: a small FLS's point stands clear of
    # the axis beside an FLS of thousands.
    x = {
        "field": "denominator",
        "type": "quantitative",
        "title": "patients (N, log scale)",
        "scale": {"type": "log"},
        "axis": {"format": "~s", "tickMinStep": 1},
    }
    y = {"field": "percent", "type": "quantitative", "title": "percent"}
    layers: list[dict[str, Any]] = []
    if limits:
        layers.append(
            {
                "data": {"values": limits},
                "mark": {"type": "line", "color": "#56606b", "strokeWidth": 1},
                "encoding": {
                    "x": x,
                    "y": {"field": "value", "type": "quantitative", "title": "percent"},
                    "detail": {"field": "line"},
                    "strokeDash": {
                        "field": "level",
                        "type": "nominal",
                        "title": "limits",
                        "legend": {"orient": "bottom"},
                        "scale": {"domain": ["95%", "99.8%"], "range": [[5, 3], [1, 2]]},
                    },
                },
            }
        )
    if target is not None:
        layers.append(
            {
                "data": {"values": [{"target": target}]},
                "mark": {"type": "rule", "color": "#1d2329"},
                "encoding": {"y": {"field": "target", "type": "quantitative"}},
            }
        )
    layers.append(
        {
            "data": {"values": points},
            "mark": {"type": "point", "filled": True, "size": 60, "opacity": 0.9},
            "encoding": {
                "x": x,
                "y": y,
                "color": {
                    "field": "flag",
                    "type": "nominal",
                    "title": "against the limits" if limits else "FLSs",
                    "legend": {"orient": "bottom", "columns": 3},
                    "scale": {"domain": flags, "range": [FLAG_COLOURS_ALL[f] for f in flags]},
                },
                "size": {
                    "condition": {"test": "datum.flag === 'this FLS'", "value": 160},
                    "value": 60,
                },
                "tooltip": [
                    {"field": "name", "title": "FLS"},
                    {"field": "numerator", "title": "n"},
                    {"field": "denominator", "title": "N"},
                    {"field": "percent", "title": "%", "format": ".1f"},
                    {"field": "words", "title": "against the limits"},
                ],
            },
        }
    )
    return {**_base(title, 240), "layer": layers}


def bar_spec(
    title: str,
    rows: list[dict[str, Any]],
    category: str,
    value: str,
    value_title: str,
    rule: float | None = None,
    tooltip: list[dict[str, Any]] | None = None,
    rule_words: str = "target",
) -> dict[str, Any]:
    """Horizontal bars, one per row, with an optional reference line (a target), labelled."""
    layers: list[dict[str, Any]] = [
        {
            "mark": {"type": "bar", "color": "#005eb8"},
            "encoding": {
                "y": {
                    "field": category,
                    "type": "nominal",
                    "sort": None,
                    "title": None,
                    # Long names are cut (in full in the tooltip and the table beneath), so
                    # that a phone's chart keeps room for its bars.
                    "axis": {"labelLimit": 190},
                },
                "x": {"field": value, "type": "quantitative", "title": value_title},
                "tooltip": tooltip or [{"field": category}, {"field": value, "format": ".1f"}],
            },
        }
    ]
    if rule is not None:
        layers += target_layers(rule, "x", "#b3261e", rule_words)
    return {**_base(title, max(60, 18 * len(rows))), "data": {"values": rows}, "layer": layers}
