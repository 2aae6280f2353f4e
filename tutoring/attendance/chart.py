"""Geometry of the weekly attendance chart, drawn as SVG on the server (no script, no CDN).

Each week is an outlined bar for the sessions planned with a filled bar inside for those
attended; the figures ("7/9") are written above each bar, so nothing depends on colour, and the
page shows the same numbers in a table beside the chart.
"""

from __future__ import annotations

from dataclasses import dataclass

from tutoring.attendance.review import Week

BAR = 28
GAP = 14
LEFT = 8
TOP = 24  # room for the figures above the tallest bar
PLOT = 140
BOTTOM = 40  # room for the week labels


@dataclass(frozen=True)
class Bar:
    week: Week
    x: float
    planned_y: float
    planned_height: float
    attended_y: float
    attended_height: float
    label_x: float


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    baseline: float
    bars: list[Bar]
    most: int


def bar_chart(weeks: list[Week]) -> Chart:
    """Return the bars of the chart, scaled to the busiest week."""
    most = max((week.planned for week in weeks), default=0) or 1
    bars = []
    baseline = TOP + PLOT
    for index, week in enumerate(weeks):
        x = LEFT + index * (BAR + GAP)
        planned = PLOT * week.planned / most
        attended = PLOT * week.attended / most
        bars.append(
            Bar(
                week=week,
                x=x,
                planned_y=baseline - planned,
                planned_height=planned,
                attended_y=baseline - attended,
                attended_height=attended,
                label_x=x + BAR / 2,
            )
        )
    width = LEFT * 2 + len(weeks) * (BAR + GAP)
    return Chart(
        width=max(width, 200), height=TOP + PLOT + BOTTOM, baseline=baseline, bars=bars, most=most
    )
