"""A metric's monthly trend with its 95% CI band, as an SVG or PNG download (matplotlib, Agg)."""

from __future__ import annotations

import io

import pandas as pd

FORMATS = {"svg": "image/svg+xml", "png": "image/png"}


def trend_chart(frame: pd.DataFrame, title: str, columns: tuple[str, str, str], *, image: str = "svg") -> bytes:
    """The value per period with its CI band; an empty frame gives an empty chart with the title."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 3.2), layout="constrained")
    axes = figure.add_subplot()
    value, low, high = columns
    if not frame.empty:
        periods = pd.to_datetime(frame["period"])
        axes.fill_between(periods, frame[low].astype(float), frame[high].astype(float), color="#1d4ed8", alpha=0.15)
        axes.plot(periods, frame[value].astype(float), color="#1d4ed8", marker="o")
    axes.set_title(title)
    axes.grid(alpha=0.3)
    buffer = io.BytesIO()
    figure.savefig(buffer, format=image, dpi=150 if image == "png" else None)
    return buffer.getvalue()


def inline_svg(svg: bytes) -> str:
    """An SVG document as an element to place inside HTML (the XML prologue and doctype dropped)."""
    text = svg.decode("utf-8")
    return text[text.index("<svg") :]
