"""Charts as image bytes (SVG or PNG), drawn headless with matplotlib's Agg backend."""

from __future__ import annotations

import io
from typing import Any

import pandas as pd

from cxm.core.errors import InvalidInput

FORMATS = {"svg": "image/svg+xml", "png": "image/png"}
COLOURS = {"fix first": "#c0392b", "keep": "#1e8449", "overkill": "#b7950b", "low priority": "#7f8c8d"}


def _figure() -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7.5, 5.5), layout="constrained")
    return figure, figure.add_subplot()


def quadrant_chart(drivers: pd.DataFrame, *, image: str = "svg") -> bytes:
    """The importance x performance quadrant of a key driver table, as SVG (text kept as text) or PNG."""
    figure, axes = _figure()
    importance, performance = drivers["importance_pct"], drivers["performance"]
    colours = [COLOURS[q] for q in drivers["quadrant"]]
    axes.scatter(performance, importance, c=colours, s=60, zorder=3)
    for row in drivers.itertuples():
        axes.annotate(str(row.driver), (row.performance, row.importance_pct), xytext=(5, 4), textcoords="offset points")
    axes.axvline(performance.mean(), color="#999999", linewidth=0.8)
    axes.axhline(importance.mean(), color="#999999", linewidth=0.8)
    _corners(axes)
    axes.set_xlabel("performance (% of the scale)")
    axes.set_ylabel("importance (% of R²)")
    outcome, r2, n = drivers["outcome"].iloc[0], drivers["r_squared"].iloc[0], drivers["n"].iloc[0]
    axes.set_title(f"What drives {outcome}: R² = {r2:.2f}, n = {n:,}")
    return _bytes(figure, image)


def _corners(axes: Any) -> None:
    """Quadrant names in the corners of the plot."""
    places = {"fix first": (0.02, 0.97), "keep": (0.98, 0.97), "overkill": (0.98, 0.03), "low priority": (0.02, 0.03)}
    for name, (x, y) in places.items():
        side, upright = ("left" if x < 0.5 else "right"), ("top" if y > 0.5 else "bottom")
        axes.text(x, y, name, transform=axes.transAxes, ha=side, va=upright, color=COLOURS[name], fontsize=9)


def _bytes(figure: Any, image: str) -> bytes:
    import matplotlib

    if image not in FORMATS:
        raise InvalidInput(f"unknown image format '{image}'", details={"formats": list(FORMATS)})
    buffer = io.BytesIO()
    # A fixed hash salt and no date: the same chart is the same bytes; text stays text (searchable, small).
    with matplotlib.rc_context({"svg.hashsalt": "cxm", "svg.fonttype": "none"}):
        figure.savefig(buffer, format=image, metadata={"Date": None} if image == "svg" else {})
    return buffer.getvalue()


def funnel_chart(funnel: pd.DataFrame, *, image: str = "svg") -> bytes:
    """The stage funnel as grouped bars (customers in order at each stage), conversion from the step before."""
    import numpy as np

    figure, axes = _figure()
    groups = list(dict.fromkeys(funnel["group"]))
    stages = list(dict.fromkeys(funnel["stage"]))
    width = 0.8 / max(len(groups), 1)
    for index, group in enumerate(groups):
        rows = funnel[funnel["group"] == group].set_index("stage").reindex(stages)
        places = np.arange(len(stages)) + index * width - 0.4 + width / 2
        bars = axes.bar(places, rows["customers"], width, label=str(group), zorder=3)
        labels = ["" if pd.isna(v) else f"{v:.0f}%" for v in rows["conversion_pct"]]
        axes.bar_label(bars, labels=labels, fontsize=8, padding=2)
    axes.set_xticks(np.arange(len(stages)), [stage.replace("_", "-") for stage in stages])
    axes.set_ylabel("customers (stages reached in order)")
    axes.set_title("Journey funnel: conversion from the stage before")
    if len(groups) > 1:
        axes.legend(fontsize=8)
    return _bytes(figure, image)
