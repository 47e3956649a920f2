"""The charts' SVG as the PDF writer gets it: copies of a marker merged into single paths that
draw the same shapes in the same places, text kept on top of the markers it labels."""

from __future__ import annotations

import re
from xml.etree import ElementTree

import matplotlib

matplotlib.use("Agg")
from matplotlib.figure import Figure

from flsdb.reports.charts.base import SVG, XLINK, flatten


def raw_svg(figure: Figure) -> bytes:
    import io

    buffer = io.BytesIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


def _points(d: str) -> list[tuple[float, float]]:
    numbers = [float(n) for n in re.findall(r"[-+]?\d*\.?\d+(?:e[-+]?\d+)?", d)]
    return list(zip(numbers[::2], numbers[1::2], strict=True))


def test_marker_copies_become_one_path_with_every_shape_in_its_place() -> None:
    figure = Figure(figsize=(3, 2))
    ax = figure.add_subplot()
    ax.plot([1, 2, 3, 4], [1, 4, 2, 3], "o", color="#0072B2")
    raw = ElementTree.fromstring(raw_svg(figure))
    uses = list(raw.iter(f"{SVG}use"))
    shapes = {e.get("id"): e.get("d") for e in raw.iter(f"{SVG}path") if e.get("id")}
    assert len(uses) > 4  # four points, and the tick marks
    flat = ElementTree.fromstring(flatten(raw_svg(figure)))
    assert not list(flat.iter(f"{SVG}use"))
    drawn = [p.get("d", "") for p in flat.iter(f"{SVG}path") if not p.get("id")]
    # Every copy is still drawn: its shape's first point, moved to where the copy stood.
    for use in uses:
        shape = shapes[use.get(f"{XLINK}href", "").lstrip("#")]
        x0, y0 = _points(shape)[0]
        x, y = float(use.get("x", 0)), float(use.get("y", 0))
        assert any(
            any(abs(px - (x0 + x)) < 1e-3 and abs(py - (y0 + y)) < 1e-3 for px, py in _points(d))
            for d in drawn
        ), use.attrib
    # Fewer elements than copies: same-looking copies side by side share one path.
    assert len(drawn) < len(uses) + len([p for p in raw.iter(f"{SVG}path") if not p.get("id")])


def test_a_letter_on_a_filled_marker_stays_on_top() -> None:
    figure = Figure(figsize=(2, 2))
    ax = figure.add_subplot()
    ax.set_axis_off()
    ax.scatter([0.5], [0.5], s=300, facecolors="white", edgecolors="#E69F00", clip_on=False)
    ax.text(0.5, 0.5, "F", ha="center", va="center")
    ax.scatter([0.2], [0.2], s=300, facecolors="white", edgecolors="#E69F00", clip_on=False)
    flat = ElementTree.fromstring(flatten(raw_svg(figure)))
    order = [e.tag for e in flat.iter() if e.tag in (f"{SVG}path", f"{SVG}text")]
    letter = order.index(f"{SVG}text")
    markers = [
        i
        for i, e in enumerate(x for x in flat.iter() if x.tag in (f"{SVG}path", f"{SVG}text"))
        if e.tag == f"{SVG}path" and "fill: #ffffff" in (e.get("style") or "")
    ]
    assert markers and all(i < letter for i in markers)
