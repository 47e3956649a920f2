"""Our chart drawings drawn straight into the PDF, for the drawings `charts.svg` writes.

WeasyPrint draws any SVG: for each element it works out transforms, opacity groups, clipping,
markers (the angle at every vertex of every path, markers or not) and it lays out each letter of
a text on its own: an FLS report's charts took about 0.09 of its 0.63 CPU s that way, about 0.04
here. Our drawings use a small part of SVG: stroked and filled paths of straight segments (M, L,
H, V, h, v, Z), rectangles, and plain texts, with their look in attributes and one style rule. A
drawing marked as ours (`MARK` on its root, set by `charts.svg.document`) whose every element is
in that part is drawn here: each path as one run of PDF path operators, each text laid out and
drawn as one line (without kerning, as `charts.svg.text_width` measures it). Anything else in it
(an element, an attribute or a command this does not know) and the drawing goes to WeasyPrint
whole, as any other SVG does. What is drawn is the same: `tests/reports/test_pdf_drawing.py`
compares the pages of both ways, pixel by pixel."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from math import inf
from typing import Any

MARK = "data-flsdb-plain"

# Attributes this drawing cannot honour (on an element or inherited by it): their presence sends
# the drawing to WeasyPrint.
_UNSUPPORTED = (
    "transform",
    "opacity",
    "clip-path",
    "mask",
    "filter",
    "marker",
    "marker-start",
    "marker-mid",
    "marker-end",
    "stroke-dashoffset",
    "stroke-opacity",
    "letter-spacing",
    "textLength",
    "dx",
    "dy",
    "rotate",
    "dominant-baseline",
    "alignment-baseline",
    "display-anchor",
)
_TOKEN = re.compile(r"[MLHVZmlhvz]|[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_CAPS = {"butt": 0, "round": 1, "square": 2}
_JOINS = {"miter": 0, "round": 1, "bevel": 2}


class _Unsupported(Exception):
    """The drawing uses something this module does not draw."""


@dataclass(frozen=True)
class _Path:
    ops: bytes  # the path's construction operators
    fill: Any  # a colour, or None
    stroke: Any
    width: float
    dashes: tuple[float, ...]
    cap: int
    join: int
    even_odd: bool


@dataclass(frozen=True)
class _Text:
    x: float
    y: float
    words: str
    size: float
    weight: int
    family: tuple[str, ...]
    fill: Any


def install() -> None:
    """Draw marked drawings here from now on, in this process (idempotent)."""
    # lazy: WeasyPrint (~0.5 s) only for PDFs, not for the HTML reports' charts
    from weasyprint.svg import SVG

    if getattr(SVG.draw, "flsdb", False):
        return
    generic = SVG.draw

    def draw(
        self: Any, stream: Any, concrete_width: float, concrete_height: float, *args: Any
    ) -> None:
        plan = _plan_of(self) if self.tree.get(MARK) is not None else None
        if plan is None:
            generic(self, stream, concrete_width, concrete_height, *args)
            return
        _draw(self, plan, stream, concrete_width, concrete_height, args[-1])

    draw.flsdb = True  # type: ignore[attr-defined]
    SVG.draw = draw


def _plan_of(svg: Any) -> tuple[tuple[float, float], list[_Path | _Text]] | None:
    """What to draw, worked out once per parsed drawing (a drawing shared by many documents,
    kept in their image cache, is planned once); None when it is not for this module."""
    if not hasattr(svg, "_flsdb_plan"):
        try:
            svg._flsdb_plan = _plan(svg.tree)
        except (_Unsupported, ValueError, IndexError, KeyError):
            svg._flsdb_plan = None
    plan: tuple[tuple[float, float], list[_Path | _Text]] | None = svg._flsdb_plan
    return plan


def _plan(root: Any) -> tuple[tuple[float, float], list[_Path | _Text]]:
    viewbox = root.get_viewbox()
    if not viewbox or viewbox[0] or viewbox[1] or root.get("preserveAspectRatio"):
        raise _Unsupported
    items: list[_Path | _Text] = []
    for node in root:
        if node.tag in ("style", "title", "desc"):
            continue
        if any(node.get(name) is not None for name in _UNSUPPORTED):
            raise _Unsupported
        if node.get("display") == "none" or node.get("visibility") == "hidden":
            continue
        if node.tag == "path":
            items.append(_path(node, _path_ops(node.get("d") or "")))
        elif node.tag == "rect":
            items.append(_path(node, _rect_ops(node)))
        elif node.tag == "text":
            items.append(_text(node))
        else:
            raise _Unsupported
    return (viewbox[2], viewbox[3]), items


def _number(value: str | None, default: float = 0.0) -> float:
    """A plain number, or one in px (the drawings' user units); anything else is unsupported."""
    if value is None:
        return default
    text = value.strip().removesuffix("px")
    return float(text)


def _path(node: Any, ops: bytes) -> _Path:
    fill = _paint(node.get("fill", "black"), node.get("fill-opacity"))
    width = _number(node.get("stroke-width"), 1.0)
    stroke = _paint(node.get("stroke", ""), None) if width else None
    dashes = tuple(
        _number(v)
        for v in (node.get("stroke-dasharray") or "").replace(",", " ").split()
        if v != "none"
    )
    if not any(dashes) or any(d < 0 for d in dashes):  # as WeasyPrint: a solid line
        dashes = ()
    return _Path(
        ops,
        fill,
        stroke,
        width,
        dashes,
        _CAPS[node.get("stroke-linecap", "butt")],
        _JOINS[node.get("stroke-linejoin", "miter")],
        node.get("fill-rule") == "evenodd",
    )


@cache
def _paint(value: str, opacity: str | None) -> Any:
    """A colour from a fill or stroke value (None for none); a paint server is unsupported."""
    # lazy: as weasyprint (its CSS parser's colours)
    from tinycss2.color5 import parse_color

    value = value.strip()
    if not value or value == "none":
        return None
    parsed = parse_color(value)
    if parsed is None:
        raise _Unsupported
    if opacity is not None:  # a colour of its own (kept for this value and opacity)
        parsed.alpha *= max(0.0, min(1.0, float(opacity)))
    return parsed


def _fmt(value: float) -> bytes:
    return f"{value:.3f}".rstrip("0").rstrip(".").encode() or b"0"


def _path_ops(d: str) -> bytes:
    """PDF path operators for SVG path data of straight segments."""
    if _TOKEN.sub("", d).strip(" ,\n\r\t"):  # something that is not a number or a command
        raise _Unsupported
    tokens = _TOKEN.findall(d)
    out: list[bytes] = []
    x = y = start_x = start_y = 0.0
    command = ""
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.isalpha():
            command = token
            i += 1
            if command in "Zz":
                out.append(b"h")
                x, y = start_x, start_y
            continue
        if command == "M":
            x, y = float(tokens[i]), float(tokens[i + 1])
            start_x, start_y = x, y
            out.append(_fmt(x) + b" " + _fmt(y) + b" m")
            command = "L"  # further pairs are lines
            i += 2
            continue
        if command == "L":
            x, y = float(tokens[i]), float(tokens[i + 1])
            i += 2
        elif command == "H":
            x = float(token)
            i += 1
        elif command == "V":
            y = float(token)
            i += 1
        elif command == "h":
            x += float(token)
            i += 1
        elif command == "v":
            y += float(token)
            i += 1
        else:
            raise _Unsupported
        out.append(_fmt(x) + b" " + _fmt(y) + b" l")
    return b"\n".join(out)


def _rect_ops(node: Any) -> bytes:
    if node.get("rx") is not None or node.get("ry") is not None:
        raise _Unsupported
    x, y = _number(node.get("x")), _number(node.get("y"))
    w, h = _number(node.get("width")), _number(node.get("height"))
    if w <= 0 or h <= 0:
        return b""
    return b" ".join((_fmt(x), _fmt(y), _fmt(w), _fmt(h), b"re"))


def _text(node: Any) -> _Text:
    if len(list(node)) or node.get("text-anchor", "start") != "start" or node.get("stroke"):
        raise _Unsupported
    x, y = node.get("x"), node.get("y")
    if x is None or y is None or " " in x.strip() or " " in y.strip():
        raise _Unsupported
    weight = node.get("font-weight", "400")
    weights = {"normal": 400, "bold": 700}
    family = tuple(f.strip().strip("\"'") for f in node.get("font-family", "sans-serif").split(","))
    return _Text(
        float(x),
        float(y),
        node.text or "",
        _number(node.get("font-size"), 16.0),
        weights.get(weight) or int(weight),
        family,
        _paint(node.get("fill", "black"), node.get("fill-opacity")),
    )


def _draw(
    svg: Any,
    plan: tuple[tuple[float, float], list[_Path | _Text]],
    stream: Any,
    width: float,
    height: float,
    context: Any,
) -> None:
    (view_width, view_height), items = plan
    # preserveAspectRatio's default: scaled to fit, centred.
    scale = min(width / view_width, height / view_height)
    stream.push_state()
    stream.transform(
        a=scale,
        d=scale,
        e=(width - view_width * scale) / 2,
        f=(height - view_height * scale) / 2,
    )
    for item in items:
        if isinstance(item, _Path):
            _draw_path(stream, item)
        elif item.words:
            _draw_text(svg, stream, item, context)
    stream.pop_state()


def _draw_path(stream: Any, item: _Path) -> None:
    if not item.ops or (item.fill is None and item.stroke is None):
        return
    stream.push_state()
    if item.fill is not None:
        stream.set_color(item.fill)
    if item.stroke is not None:
        stream.set_color(item.stroke, stroke=True)
        stream.set_line_width(item.width)
        stream.set_dash(item.dashes, 0)
        stream.set_line_cap(item.cap)
        stream.set_line_join(item.join)
    stream.stream.append(item.ops)
    if item.fill is not None and item.stroke is not None:
        stream.fill_and_stroke(item.even_odd)
    elif item.stroke is not None:
        stream.stroke()
    else:
        stream.fill(item.even_odd)
    stream.pop_state()


def _draw_text(svg: Any, stream: Any, item: _Text, context: Any) -> None:
    # lazy: the PDF writer's own text drawing (as its SVG text drawing uses it)
    from weasyprint.css.properties import INITIAL_VALUES

    # lazy: as weasyprint.css.properties
    from weasyprint.draw.text import draw_emojis, draw_first_line

    # lazy: as weasyprint.css.properties
    from weasyprint.matrix import Matrix

    # lazy: as weasyprint.css.properties
    from weasyprint.svg.text import Style, TextBox

    # lazy: as weasyprint.css.properties
    from weasyprint.text.line_break import split_first_line

    style = Style()
    style.update(INITIAL_VALUES)
    style.font_config = svg.font_config
    style["font_family"] = list(item.family)
    style["font_size"] = item.size
    style["font_weight"] = item.weight
    style["font_kerning"] = "none"  # as `charts.svg.text_width` measures it
    layout, _, _, _, _, baseline = split_first_line(item.words, style, context, inf, 0)
    stream.push_state()
    if item.fill is not None:
        stream.set_color(item.fill)
    stream.begin_text()
    layout.reactivate(style)
    stream.set_text_rendering(0 if item.fill is not None else 3)
    box = TextBox(layout, style)
    box.baseline = baseline
    emojis = draw_first_line(stream, box, "none", "none", Matrix(a=1, d=-1, e=item.x, f=item.y))
    stream.end_text()
    stream.pop_state()
    if emojis:
        draw_emojis(stream, style, item.x, item.y, emojis)
