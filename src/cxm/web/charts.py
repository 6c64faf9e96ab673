"""Charts of the dashboard pages as images (SVG or PNG), drawn on the server with matplotlib's Agg backend."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import pandas as pd

from cxm.core.errors import NotFound

FORMATS = {"svg": "image/svg+xml", "png": "image/png"}
LINE = "#1f5fa8"
BAND = "#9dbbe0"
BAR = "#3d6fb4"


def image_kind(name: str) -> tuple[str, str]:
    """A chart file name split into (chart, image format); 404 for a format we do not draw."""
    chart, _, image = name.rpartition(".")
    if not chart or image not in FORMATS:
        raise NotFound(f"no chart '{name}'", details={"formats": list(FORMATS)})
    return chart, image


def _figure(height: float) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6.0, height), layout="constrained")
    return figure, figure.add_subplot()


def _bytes(figure: Any, image: str) -> bytes:
    import matplotlib

    buffer = io.BytesIO()
    # A fixed hash salt and no date: the same chart is the same bytes; SVG text stays text (searchable, small).
    with matplotlib.rc_context({"svg.hashsalt": "cxm", "svg.fonttype": "none"}):
        figure.savefig(buffer, format=image, metadata={"Date": None} if image == "svg" else {}, dpi=110)
    return buffer.getvalue()


def _empty(axes: Any) -> None:
    axes.text(0.5, 0.5, "No data", transform=axes.transAxes, ha="center", va="center", color="#777777")
    axes.set_xticks([])
    axes.set_yticks([])


def _plain(axes: Any) -> None:
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.grid(axis="y", color="#dddddd", linewidth=0.6)
    axes.set_axisbelow(True)


def trend_chart(frame: pd.DataFrame, columns: tuple[str, str, str], *, title: str, unit: str, image: str) -> bytes:
    """A metric by month: the value as a line, its 95% CI as a band (`columns`: value, CI low, CI high)."""
    figure, axes = _figure(2.8)
    axes.set_title(title, loc="left", fontsize=11)
    if frame.empty or len(frame) == 0:
        _empty(axes)
        return _bytes(figure, image)
    months = pd.to_datetime(frame["period"])
    value, low, high = (pd.to_numeric(frame[c], errors="coerce") for c in columns)
    axes.fill_between(months, low, high, color=BAND, alpha=0.5, linewidth=0, label="95% CI")
    axes.plot(months, value, color=LINE, marker="o", markersize=3, linewidth=1.6, label=unit)
    axes.set_ylabel(unit)
    axes.legend(loc="best", fontsize=8, frameon=False)
    _plain(axes)
    figure.autofmt_xdate(rotation=0, ha="center")
    return _bytes(figure, image)


def bar_chart(labels: Sequence[str], values: Sequence[float], *, title: str, unit: str, image: str) -> bytes:
    """Horizontal bars, the first label on top (e.g. interactions by channel)."""
    figure, axes = _figure(max(1.6, 0.9 + 0.32 * len(labels)))
    axes.set_title(title, loc="left", fontsize=11)
    if not labels:
        _empty(axes)
        return _bytes(figure, image)
    axes.barh(list(labels)[::-1], list(values)[::-1], color=BAR)
    axes.set_xlabel(unit)
    axes.xaxis.set_major_formatter("{x:,.0f}")
    _plain(axes)
    axes.grid(axis="y", visible=False)
    axes.grid(axis="x", color="#dddddd", linewidth=0.6)
    return _bytes(figure, image)


def inline_svg(svg: bytes) -> str:
    """An SVG document as an element to place inside HTML (the XML prologue and doctype dropped)."""
    text = svg.decode("utf-8")
    return text[text.index("<svg") :]
