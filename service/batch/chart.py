"""The chart of `coopclf aggregate --plot`: stories per area over time for the top pairs, and a pair x area map."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from coopclf.countries import country_name
from coopclf.files import write_atomic
from coopclf.labels import DEFAULT_LABELS

TOP_PAIRS = 6
HEATMAP_PAIRS = 12
# Colourblind-safe (Okabe-Ito); an area keeps its colour in every panel and every chart.
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]


def pair_name(pair: str) -> str:
    """ "BHR-PAK" as "Bahrain – Pakistan"."""
    return " \u2013 ".join(country_name(code) for code in pair.split("-"))


def area_colours(areas: Sequence[str]) -> dict[str, str]:
    """A fixed colour per area: the shipped labels in their order first, then any others alphabetically."""
    ordered = [a for a in DEFAULT_LABELS] + sorted(set(areas) - set(DEFAULT_LABELS))
    return {area: PALETTE[i % len(PALETTE)] for i, area in enumerate(ordered)}


def plot(rows: Sequence[tuple[str, str, str, int, int, int]], path: str | Path, *, by: str = "month") -> None:
    """Write a PNG: per top pair (by stories) each area's stories per period, and a pair x area heat map."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    periods = sorted({r[0] for r in rows})
    areas = [a for a in area_colours([r[2] for r in rows]) if any(r[2] == a for r in rows)]
    colours = area_colours(areas)
    series: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for period, pair, area, _paragraphs, _documents, stories in rows:
        series[pair][area][period] = stories
        totals[pair][area] += stories
    ranked = sorted(totals, key=lambda p: (-sum(totals[p].values()), p))
    top, mapped = ranked[:TOP_PAIRS], ranked[:HEATMAP_PAIRS]

    columns = 2 if len(top) > 1 else 1
    panel_rows = max(1, -(-len(top) // columns))
    height = 2.9 * panel_rows + 0.45 * max(len(mapped), 1) + 2.6
    fig = plt.figure(figsize=(13, height), dpi=110)
    grid = fig.add_gridspec(panel_rows + 1, columns, height_ratios=[2.9] * panel_rows + [0.45 * max(len(mapped), 1)
                                                                                          + 1.2],
                            hspace=0.42, wspace=0.12, top=1 - 1.15 / height, bottom=0.02)
    fig.suptitle(f"Cooperation stories per {by}, by country pair and area", fontsize=15, fontweight="bold",
                 x=0.01, y=1 - 0.1 / height, ha="left", va="top")
    x = np.arange(len(periods))
    step = max(1, -(-len(periods) // 8))
    peak = max((r[5] for r in rows if r[1] in top), default=1)
    for i, pair in enumerate(top):
        ax = fig.add_subplot(grid[i // columns, i % columns])
        for area in areas:
            if area in series[pair]:
                values = [series[pair][area].get(p, 0) for p in periods]
                ax.plot(x, values, color=colours[area], linewidth=2, marker="o", markersize=3.5)
        ax.set_title(f"{pair_name(pair)}  ({sum(totals[pair].values())} stories)", fontsize=11, loc="left")
        ax.set_xticks(x[::step], [periods[j] for j in range(0, len(periods), step)], fontsize=8)
        ax.set_ylim(0, peak * 1.1 + 0.5)
        ax.grid(axis="y", color="#dddddd")
        ax.spines[["top", "right"]].set_visible(False)
        if i % columns == 0:
            ax.set_ylabel("stories")
    handles = [plt.Line2D([], [], color=colours[a], linewidth=3) for a in areas]
    fig.legend(handles, [a.replace("_", " ") for a in areas], loc="upper left", ncol=min(len(areas), 6),
               frameon=False, fontsize=10.5, bbox_to_anchor=(0.005, 1 - 0.42 / height))

    ax = fig.add_subplot(grid[panel_rows, :])
    matrix = np.array([[totals[p].get(a, 0) for a in areas] for p in mapped], dtype=float).reshape(len(mapped),
                                                                                                  len(areas))
    ax.imshow(matrix, cmap="Blues", aspect="auto", vmin=0, vmax=max(matrix.max(initial=0), 1))
    ax.set_xticks(range(len(areas)), [a.replace("_", " ") for a in areas], fontsize=10)
    ax.set_yticks(range(len(mapped)), [pair_name(p) for p in mapped], fontsize=10)
    ax.xaxis.tick_top()
    for (r, c), value in np.ndenumerate(matrix):
        if value:
            dark = value > 0.6 * matrix.max()
            ax.text(c, r, f"{int(value)}", ha="center", va="center", fontsize=9, color="white" if dark else "black")
    ax.set_title("Stories per pair and area, all periods", fontsize=11, loc="left", pad=28)
    for side in ax.spines.values():
        side.set_visible(False)

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    plt.close(fig)
    write_atomic(Path(path), buffer.getvalue())
