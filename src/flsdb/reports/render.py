"""HTML from Jinja2 templates, and PDF from that HTML with WeasyPrint."""

from __future__ import annotations

import base64
import hashlib
import re
from functools import cache
from importlib import resources
from importlib.metadata import version
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from flsdb.dates import uk_date, uk_months
from flsdb.reports.charts import pdf_drawing
from flsdb.reports.charts.base import count
from flsdb.reports.marking import file_prefix, marks
from flsdb.reports.words import field_label

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")
_SVG_URI = re.compile(r'src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"')
_ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def safe_name(code: str) -> str:
    """A code made safe as part of a file name: letters, digits, '_', '-' and '.' only."""
    cleaned = _UNSAFE.sub("_", code).lstrip(".")
    return cleaned or "_"


def _pct(value: object, digits: int = 1) -> str:
    """A percentage to print; none (or not a number: 0 of 0) is a dash, never 'nan%'."""
    if value is None:
        return "–"
    number = float(str(value))
    return "–" if number != number else f"{number:.{digits}f}%"


def uk_dates(text: object) -> str:
    """Every ISO date inside a text (such as a period lock's note, 'period locked 2026-12-06
    10:00 by ...') as a UK date: 'period locked 6 Dec 2026 10:00 by ...'."""
    return _ISO_DATE.sub(lambda found: uk_date(found.group()), str(text))


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("flsdb.reports", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["count"] = count
    env.filters["pct"] = _pct
    env.filters["uk_date"] = uk_date
    env.filters["uk_dates"] = uk_dates
    env.filters["field_label"] = field_label
    env.filters["uk_months"] = uk_months
    # The stylesheet is ours, not data: autoescaping it would turn its quotes into entities.
    env.globals["css"] = Markup(
        resources.files("flsdb.reports").joinpath("templates/style.css").read_text("utf-8")
    )
    env.globals["version"] = version("flsdb")
    return env


def render_html(template: str, **context: object) -> str:
    return environment().get_template(template).render(**context)


def write_report(
    template: str, context: dict[str, object], stem: Path, formats: tuple[str, ...]
) -> list[Path]:
    """Write `stem`.html and/or `stem`.pdf from one template and context.

    The HTML carries each chart's data as a table (for screen readers and reuse); the PDF is
    made from a rendering without them (print hides them anyway, and laying out thousands of
    hidden cells would double the time per PDF).
    """
    data = context.get("data")
    if data is not None:
        own = context.get("own_fls")
        context = {**context, "marks": marks(data, None if own is None else str(own))}  # type: ignore[arg-type]
        stem = stem.with_name(file_prefix(data) + stem.name)  # type: ignore[arg-type]
    written = []
    if "html" in formats:
        path = stem.with_suffix(".html")
        path.write_text(render_html(template, **context, for_print=False), encoding="utf-8")
        written.append(path)
    if "pdf" in formats:
        # lazy: WeasyPrint (~0.5 s) only for PDFs; the HTML reports need none
        from weasyprint import HTML

        path = stem.with_suffix(".pdf")
        fonts, stylesheet, images = print_setup()
        if len(images) > 64:  # between documents: what one report's charts left is dropped
            images.clear()
        # The stylesheet is parsed once per process and given to every document, not read
        # again from each one's <style>.
        html, fetcher = _charts_by_name(
            render_html(template, **context, for_print=True, css=Markup(""))
        )
        # Tagged PDF/UA-1: a structure tree, reading order, the language, the title and each
        # chart's alternative text, for screen readers.
        HTML(string=html, base_url=str(stem.parent), url_fetcher=fetcher).write_pdf(
            path,
            stylesheets=[stylesheet],
            font_config=fonts,
            cache=images,
            pdf_variant="pdf/ua-1",
        )
        written.append(path)
    return written


def _charts_by_name(html: str) -> tuple[str, Any]:
    """The print HTML with each chart's drawing named (`flsdb-chart:` and a digest of it)
    instead of carried in it, and the fetcher that hands the PDF writer each drawing by its
    name: the HTML parser reads every character of an attribute, and a report's charts are
    most of its HTML. The name is the drawing's digest, as the image cache shared by a
    process's documents is keyed by it."""
    # lazy: WeasyPrint (~0.5 s) only for PDFs
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    drawings: dict[str, str] = {}

    def named(found: re.Match[str]) -> str:
        name = "flsdb-chart:" + hashlib.blake2b(found.group(1).encode(), digest_size=16).hexdigest()
        drawings[name] = found.group(1)
        return f'src="{name}"'

    class Charts(URLFetcher):
        def fetch(self, url: str, headers: Any = None) -> Any:
            if url in drawings:
                body = base64.b64decode(drawings[url])
                return URLFetcherResponse(url, body, {"Content-Type": "image/svg+xml"})
            return super().fetch(url, headers)

    return _SVG_URI.sub(named, html), Charts()


@cache
def print_setup() -> tuple[Any, Any, dict[str, Any]]:
    """What every PDF of a process shares: the fonts, the parsed stylesheet, and the images
    already read (a chart shared by many reports, such as an FLS report's funnel grid, is
    parsed once; the cache is emptied between documents when it grows)."""
    # lazy: WeasyPrint (~0.5 s) only for PDFs
    from weasyprint import CSS
    from weasyprint.text.fonts import FontConfiguration

    pdf_drawing.install()  # our own drawings drawn straight into the PDF
    fonts = FontConfiguration()
    return fonts, CSS(string=str(environment().globals["css"]), font_config=fonts), {}
