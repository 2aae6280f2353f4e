"""Horizontal bar charts of the report, drawn as SVG on the server (no script, no CDN).

One series per chart, each bar labelled with its name on the left and its figure at its end,
so nothing depends on colour; the page shows the same figures in a table as well. The
weekly attendance chart (tutoring/attendance/chart.py) draws planned against attended; these
show a single count per row, so they share only the drawing conventions.
"""

from __future__ import annotations

from dataclasses import dataclass

# Sized for a phone (about 340 px of room), so the SVG is not scaled down and its text
# stays readable there; wider screens show it at this size too.
ROW = 26  # height of one row
BAR = 18  # thickness of one bar
LABEL = 124  # room for the labels on the left: nine characters of Japanese at 13 px
PLOT = 170  # length of the longest bar
VALUE = 40  # room for the figure after the bar
TOP = 6
LABEL_CHARACTERS = 9


@dataclass(frozen=True)
class HBar:
    label: str
    value: int
    short: str  # the label as drawn, shortened to fit (the table beside it has it whole)
    y: float  # top of the bar
    length: float
    text_y: float  # baseline of the label and the figure


@dataclass(frozen=True)
class HChart:
    width: int
    height: int
    label_x: int  # labels end here (text-anchor end)
    plot_x: int  # bars start here
    bars: list[HBar]


def hbar_chart(items: list[tuple[str, int]]) -> HChart:
    """Return the bars of a horizontal chart, scaled to the largest value."""
    most = max((value for _label, value in items), default=0) or 1
    bars = []
    for index, (label, value) in enumerate(items):
        y = TOP + index * ROW
        bars.append(
            HBar(
                label=label,
                value=value,
                short=label
                if len(label) <= LABEL_CHARACTERS
                else label[: LABEL_CHARACTERS - 1] + "…",
                y=y,
                length=PLOT * value / most,
                text_y=y + BAR / 2 + 4,
            )
        )
    return HChart(
        width=LABEL + PLOT + VALUE,
        height=TOP * 2 + max(len(items), 1) * ROW,
        label_x=LABEL - 6,
        plot_x=LABEL,
        bars=bars,
    )
