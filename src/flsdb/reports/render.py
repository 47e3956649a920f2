"""HTML from Jinja2 templates, and PDF from that HTML with WeasyPrint."""

from __future__ import annotations

from functools import cache
from importlib import resources
from importlib.metadata import version
from pathlib import Path

import jinja2

from flsdb.reports.suppression import SMALL


def _count(value: object) -> str:
    if value is None:
        return ""
    if value == SMALL:
        return SMALL
    number = float(str(value))
    return f"{number:,.0f}" if number.is_integer() else f"{number:,.1f}"


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("flsdb.reports", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["count"] = _count
    env.globals["css"] = (
        resources.files("flsdb.reports").joinpath("templates/style.css").read_text("utf-8")
    )
    env.globals["version"] = version("flsdb")
    return env


def render_html(template: str, **context: object) -> str:
    return environment().get_template(template).render(**context)


def write_report(html: str, stem: Path, formats: tuple[str, ...]) -> list[Path]:
    """Write `stem`.html and/or `stem`.pdf."""
    written = []
    if "html" in formats:
        path = stem.with_suffix(".html")
        path.write_text(html, encoding="utf-8")
        written.append(path)
    if "pdf" in formats:
        from weasyprint import HTML

        path = stem.with_suffix(".pdf")
        HTML(string=html, base_url=str(stem.parent)).write_pdf(path)
        written.append(path)
    return written
