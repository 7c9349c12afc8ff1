"""Audit reports for auditors and operators: a collection's sales, royalties per recipient, license
income and bridge movements over a window, from the index and reconciled against the chain.

- ``window``   ``--from``/``--to`` as blocks or dates; time -> block by bisection (pure)
- ``report``   rows in -> sections, totals, chart buckets; ``reconcile`` index vs chain (pure)
- ``render``   CSV per section plus a summary, one self-contained HTML page (pure)
- ``collect``  the effects: the index's rows, the chain's logs and receipts, then the core
"""

from record.audit.collect import make_report
from record.audit.render import render_csv, render_html
from record.audit.report import EventRow, Mismatch, Report, Split, Window, build_report, reconcile, relevant
from record.audit.window import Point, parse_point

__all__ = [
    "EventRow",
    "Mismatch",
    "Point",
    "Report",
    "Split",
    "Window",
    "build_report",
    "make_report",
    "parse_point",
    "reconcile",
    "relevant",
    "render_csv",
    "render_html",
]
