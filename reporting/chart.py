"""Daily savings as a bar chart (PNG), for a slide or a ticket."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path


def daily_savings_png(per_day: dict[str, float], first: date, last: date, path: Path) -> None:
    """One bar per day from `first` to `last`, days without savings at zero."""
    import matplotlib

    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt

    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    values = [per_day.get(day.isoformat(), 0.0) for day in days]
    figure, axes = plt.subplots(figsize=(max(6.0, 0.5 * len(days)), 3.5))
    axes.bar([day.strftime("%m-%d") for day in days], values, color="#2e7d32")
    axes.set_ylabel("USD saved")
    axes.set_title(f"idle-reaper: estimated savings per day (total ${sum(values):,.2f})")
    figure.autofmt_xdate()
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
