"""`manage.py bench`: every figure of issue 13 in one table.

Each row module measures one concern against the relay simulator on loopback
(a set latency per request) in a throw-away database, and returns `Result`s:
the measured figure, the obvious way's figure, the limit or goal where there
is one, and the ratios. Counts (relay calls, SQL queries, bytes) are exact
and asserted by tests/bench/test_bench.py; times are printed, never asserted.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Result:
    row: int
    what: str
    n: int | str
    measured: str
    obvious: str = "-"
    limit: str = "-"
    ratio: str = "-"
    counts: dict = field(default_factory=dict)  # exact figures, for tests and the JSON output


def table(results: list[Result]) -> str:
    head = ("row", "what", "N", "measured", "obvious way", "limit / goal", "ratios")
    lines = [(str(r.row), r.what, str(r.n), r.measured, r.obvious, r.limit, r.ratio) for r in results]
    widths = [max(len(line[i]) for line in [head, *lines]) for i in range(len(head))]

    def fmt(cells):
        return " | ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()

    return "\n".join([fmt(head), "-+-".join("-" * w for w in widths), *map(fmt, lines)])


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


def times(a: float, b: float) -> str:
    """a / b as "3.1x" (or "-" when b is 0)."""
    return f"{a / b:.2f}x" if b else "-"
