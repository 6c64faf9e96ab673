"""A metric's monthly trend with its 95% CI band, as an SVG or PNG download (matplotlib, Agg)."""

from __future__ import annotations

import io
from typing import Any

import pandas as pd

FORMATS = {"svg": "image/svg+xml", "png": "image/png"}


def trend_chart(frame: pd.DataFrame, title: str, columns: tuple[str, str, str], *, image: str = "svg") -> bytes:
    """The value per period with its CI band; an empty frame gives an empty chart with the title."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 3.2), layout="constrained")
    axes = figure.add_subplot()
    value, low, high = columns
    if not frame.empty:
        periods = pd.to_datetime(frame["period"])
        axes.fill_between(periods, frame[low].astype(float), frame[high].astype(float), color="#1d4ed8", alpha=0.15)
        axes.plot(periods, frame[value].astype(float), color="#1d4ed8", marker="o")
        _mark_partial(axes, frame, periods, value)
        # Dates that do not overlap, however few periods (matplotlib.dates has no type hints).
        locator = AutoDateLocator()  # type: ignore[no-untyped-call]
        axes.xaxis.set_major_locator(locator)
        axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    axes.set_title(title)
    axes.grid(alpha=0.3)
    buffer = io.BytesIO()
    figure.savefig(buffer, format=image, dpi=150 if image == "png" else None)
    return buffer.getvalue()


def _mark_partial(axes: Any, frame: pd.DataFrame, periods: pd.Series, value: str) -> None:
    """Periods only partly counted drawn hollow, with a legend saying so."""
    if "partial" not in frame or not frame["partial"].any():
        return
    partial = frame["partial"].astype(bool).to_numpy()
    shown = frame[value].astype(float).to_numpy()[partial]
    axes.plot(periods[partial], shown, linestyle="none", marker="o", color="#1d4ed8", markerfacecolor="white")
    axes.lines[-1].set_label("partial period")
    axes.legend(loc="best", fontsize="small")


def inline_svg(svg: bytes) -> str:
    """An SVG document as an element to place inside HTML (the XML prologue and doctype dropped)."""
    text = svg.decode("utf-8")
    return text[text.index("<svg") :]
