"""The audit report as text (pure): one CSV per section plus a summary, and one self-contained HTML
page (inline CSS, an inline SVG chart; nothing fetched from anywhere).

CSV amounts are exact integers in the currency's base unit (wei for ETH), with the currency's
symbol and address beside them; the HTML page shows them in whole units as well.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from html import escape
from typing import Any

from record.audit.report import ETH, Report
from record.audit.window import iso


def amount_text(value: int, decimals: int) -> str:
    """``value`` base units in whole units, exactly (``1500000000000000000``, 18 -> ``1.5``)."""
    if decimals <= 0:
        return str(value)
    text = format(Decimal(value).scaleb(-decimals), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row])
    return buf.getvalue()


def _csv_cell(value: Any) -> Any:
    """Text a spreadsheet would run as a formula (a token's self-chosen symbol, say) is quoted."""
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def summary_rows(report: Report) -> list[tuple[str, str]]:
    w = report.window
    rows: list[tuple[str, str]] = [
        ("collection", report.collection),
        ("chain_id", str(report.chain_id)),
        ("from_block", str(w.from_block)),
        ("to_block", str(w.to_block)),
        ("from_time", iso(w.from_time)),
        ("to_time", iso(w.to_time)),
        ("indexed_to_block", "" if report.indexed_to is None else str(report.indexed_to)),
        ("sales", str(len(report.sales))),
        ("licenses", str(len(report.licenses))),
        ("license_income_wei", str(report.license_income)),
    ]
    plurals = (("lock", "locks"), ("delivery", "deliveries"), ("burn", "burns"), ("unlock", "unlocks"))
    for kind, plural in plurals:
        rows.append((f"bridge_{plural}", str(sum(m.kind == kind for m in report.bridge))))
    for t in report.totals:
        sym = report.currency(t.currency).symbol
        rows += [
            (f"volume_{sym}", str(t.volume)),
            (f"royalties_{sym}", str(t.royalties)),
            (f"fees_{sym}", str(t.fees)),
            (f"seller_proceeds_{sym}", str(t.seller_proceeds)),
        ]
    rows += [
        ("events_compared", str(report.compared)),
        ("mismatches", str(len(report.mismatches))),
        ("reconciliation", "ok" if report.reconciled else "FAILED"),
    ]
    return rows


def _bridge_rows(report: Report) -> list[tuple[Any, ...]]:
    """The bridge movements, one row each, as both the CSV and the HTML table show them."""
    return [
        (iso(m.time), m.block, m.tx, m.kind, m.transfer_id, m.token_id, m.sender, m.recipient,
         m.dest_chain_id)
        for m in report.bridge
    ]


def render_csv(report: Report) -> dict[str, str]:
    """File name -> CSV text, one per section plus ``summary.csv``."""
    cur = report.currency
    return {
        "summary.csv": _csv(("key", "value"), summary_rows(report)),
        "sales.csv": _csv(
            (
                "time",
                "block",
                "tx",
                "log_index",
                "token_id",
                "side",
                "seller",
                "buyer",
                "quantity",
                "unit_price",
                "price",
                "currency",
                "currency_address",
                "royalty",
                "royalty_receiver",
                "platform_fee",
                "seller_proceeds",
            ),
            (
                (
                    iso(s.time),
                    s.block,
                    s.tx,
                    s.log_index,
                    s.token_id,
                    s.side,
                    s.seller,
                    s.buyer,
                    s.quantity,
                    s.unit_price,
                    s.price,
                    cur(s.currency).symbol,
                    s.currency,
                    s.royalty,
                    s.royalty_receiver,
                    s.fee,
                    s.seller_proceeds,
                )
                for s in report.sales
            ),
        ),
        "royalties.csv": _csv(
            (
                "receiver",
                "recipient",
                "share_bps",
                "currency",
                "currency_address",
                "royalties_due",
                "license_fees_due",
                "withdrawn",
            ),
            (
                (
                    r.receiver,
                    r.recipient,
                    r.share_bps,
                    cur(r.currency).symbol,
                    r.currency,
                    r.royalties,
                    r.license_fees,
                    r.withdrawn,
                )
                for r in report.royalties
            ),
        ),
        "licenses.csv": _csv(
            (
                "time",
                "block",
                "tx",
                "license_id",
                "token_id",
                "licensee",
                "price_wei",
                "receiver",
                "settled",
                "terms_hash",
            ),
            (
                (
                    iso(lic.time),
                    lic.block,
                    lic.tx,
                    lic.grant_id,
                    lic.token_id,
                    lic.licensee,
                    lic.price,
                    lic.receiver,
                    lic.settled,
                    lic.terms_hash,
                )
                for lic in report.licenses
            ),
        ),
        "license_totals.csv": _csv(
            ("token_id", "licenses", "total_wei"),
            ((t.token_id, t.count, t.total) for t in report.license_totals),
        ),
        "bridge.csv": _csv(
            (
                "time",
                "block",
                "tx",
                "movement",
                "transfer_id",
                "token_id",
                "sender",
                "recipient",
                "dest_chain_id",
            ),
            _bridge_rows(report),
        ),
        "mismatches.csv": _csv(
            ("kind", "where", "detail"), ((m.kind, m.where, m.detail) for m in report.mismatches)
        ),
    }


# -- HTML -------------------------------------------------------------------------------------

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:1200px;
color:#1d2330;padding:0 1rem}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #d8dce5}
.meta{color:#5a6272}.ok{color:#17693a;font-weight:600}.bad{color:#a8261b;font-weight:600}
table{border-collapse:collapse;width:100%;font-size:.85rem;margin:.5rem 0}
th,td{border:1px solid #d8dce5;padding:.3rem .45rem;text-align:left;vertical-align:top}
th{background:#f2f4f8}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
code{font-size:.8rem;word-break:break-all}.empty{color:#5a6272;font-style:italic}
.legend span{display:inline-block;width:.8rem;height:.8rem;margin:0 .3rem 0 1rem;vertical-align:middle}
"""


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]], numeric: set[int] | None = None) -> str:
    if not rows:
        return '<p class="empty">none in this window</p>'
    nums = numeric or set()
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="n">{escape(str(v))}</td>' if i in nums else f"<td>{_cell(v)}</td>"
            for i, v in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cell(v: Any) -> str:
    text = "" if v is None else str(v)
    if text.startswith("0x") and len(text) >= 42:
        return f"<code>{escape(text)}</code>"
    return escape(text)


def chart_svg(report: Report, currency: str, *, width: int = 900, height: int = 260) -> str:
    """Bars of sale volume and royalties per bucket for ``currency`` (whole units on the axis)."""
    cur = report.currency(currency)
    buckets = report.buckets
    top = max([b.volume.get(currency, 0) for b in buckets] + [1])
    left, bottom, pad = 70, 40, 10
    plot_w, plot_h = width - left - pad, height - bottom - pad
    step = plot_w / max(1, len(buckets))
    bar = max(1.0, step * 0.38)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="sale volume and royalties in {escape(cur.symbol)}">',
        f'<line x1="{left}" y1="{pad}" x2="{left}" y2="{pad + plot_h}" stroke="#888"/>',
        f'<line x1="{left}" y1="{pad + plot_h}" x2="{width - pad}" y2="{pad + plot_h}" stroke="#888"/>',
        f'<text x="{left - 6}" y="{pad + 10}" text-anchor="end" font-size="11">'
        f"{escape(amount_text(top, cur.decimals))}</text>",
        f'<text x="{left - 6}" y="{pad + plot_h}" text-anchor="end" font-size="11">0</text>',
    ]
    every = max(1, len(buckets) // 12)
    for i, b in enumerate(buckets):
        x = left + i * step + step * 0.1
        for j, (value, colour, what) in enumerate(
            (
                (b.volume.get(currency, 0), "#3b6fd6", "volume"),
                (b.royalties.get(currency, 0), "#e0892b", "royalties"),
            )
        ):
            h = plot_h * value / top
            parts.append(
                f'<rect x="{x + j * bar:.1f}" y="{pad + plot_h - h:.1f}" width="{bar:.1f}" '
                f'height="{h:.1f}" fill="{colour}"><title>{escape(b.label)} {what}: '
                f"{escape(amount_text(value, cur.decimals))} {escape(cur.symbol)}</title></rect>"
            )
        if i % every == 0:
            parts.append(
                f'<text x="{x + bar:.1f}" y="{pad + plot_h + 16}" text-anchor="middle" '
                f'font-size="10">{escape(b.label)}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def render_html(report: Report) -> str:
    """One readable, self-contained page."""
    cur = report.currency
    w = report.window

    def money(value: int | None, currency: str) -> str:
        if value is None:
            return ""
        c = cur(currency)
        return f"{amount_text(value, c.decimals)} {c.symbol}"

    status = (
        '<p class="ok">Reconciled: the index matches the chain for every one of '
        f"{report.compared} events in the window.</p>"
        if report.reconciled
        else f'<p class="bad">Reconciliation FAILED: {len(report.mismatches)} mismatch(es) between the index '
        "and the chain (listed below).</p>"
    )
    currencies = [t.currency for t in report.totals] or [ETH]
    per = "per UTC day" if report.bucket_unit == "day" else "per block range"
    charts = "".join(
        f'<h3>{escape(cur(c).symbol)} <small class="meta">({per})</small></h3>{chart_svg(report, c)}'
        for c in currencies
    )
    legend = (
        '<p class="legend"><span style="background:#3b6fd6"></span>sale volume'
        '<span style="background:#e0892b"></span>royalties</p>'
    )
    sections = [
        "<h2>Summary</h2>",
        _table(
            ("currency", "sales", "volume", "royalties", "platform fees", "seller proceeds"),
            [
                (
                    cur(t.currency).symbol,
                    t.sales,
                    money(t.volume, t.currency),
                    money(t.royalties, t.currency),
                    money(t.fees, t.currency),
                    money(t.seller_proceeds, t.currency),
                )
                for t in report.totals
            ],
            {1, 2, 3, 4, 5},
        ),
        f"<p>License income: {escape(money(report.license_income, ETH))} "
        f"from {len(report.licenses)} license(s). "
        f"Bridge movements: {len(report.bridge)}.</p>",
        "<h2>Sale volume and royalties over time</h2>",
        legend,
        charts,
        "<h2>Sales</h2>",
        _table(
            (
                "time",
                "block",
                "tx",
                "token",
                "seller",
                "buyer",
                "qty",
                "price",
                "royalty",
                "royalty receiver",
                "platform fee",
            ),
            [
                (
                    iso(s.time),
                    s.block,
                    s.tx,
                    s.token_id,
                    s.seller,
                    s.buyer,
                    s.quantity,
                    money(s.price, s.currency),
                    money(s.royalty, s.currency),
                    s.royalty_receiver,
                    money(s.fee, s.currency),
                )
                for s in report.sales
            ],
            {1, 6, 7, 8, 10},
        ),
        "<h2>Royalties per recipient</h2>",
        '<p class="meta">When the royalty receiver is a splitter, what was due to each recipient is the '
        "window's income split by the splitter's fixed basis points (the first recipient takes the rounding "
        "remainder, as the contract does). Withdrawn is what each recipient took out of the splitter in the "
        "window, which can include income from before it or from other sources.</p>",
        _table(
            ("receiver", "recipient", "share", "royalties due", "license fees due", "withdrawn"),
            [
                (
                    r.receiver,
                    r.recipient,
                    f"{r.share_bps / 100:g}%",
                    money(r.royalties, r.currency),
                    money(r.license_fees, r.currency),
                    "paid directly" if r.withdrawn is None else money(r.withdrawn, r.currency),
                )
                for r in report.royalties
            ],
            {2, 3, 4, 5},
        ),
        "<h2>License income</h2>",
        _table(
            ("time", "block", "tx", "license id", "token", "licensee", "price", "receiver", "settled"),
            [
                (
                    iso(lic.time),
                    lic.block,
                    lic.tx,
                    lic.grant_id,
                    lic.token_id,
                    lic.licensee,
                    money(lic.price, ETH),
                    lic.receiver,
                    lic.settled,
                )
                for lic in report.licenses
            ],
            {1, 3, 4, 6},
        ),
        "<h3>Per token</h3>",
        _table(
            ("token", "licenses", "total"),
            [(t.token_id, t.count, money(t.total, ETH)) for t in report.license_totals],
            {0, 1, 2},
        ),
        "<h2>Bridge movements</h2>",
        _table(
            ("time", "block", "tx", "movement", "transfer id", "token", "sender", "recipient", "to chain"),
            _bridge_rows(report),
            {1},
        ),
        "<h2>Reconciliation</h2>",
        status,
        _table(("kind", "where", "detail"), [(m.kind, m.where, m.detail) for m in report.mismatches]),
    ]
    title = f"Audit report: {report.collection} on chain {report.chain_id}"
    window = f"blocks {w.from_block} to {w.to_block}" + (
        f" ({iso(w.from_time)} to {iso(w.to_time)})" if w.from_time is not None else ""
    )
    indexed = "nothing" if report.indexed_to is None else f"block {report.indexed_to}"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>"
        f'<h1>{escape(title)}</h1><p class="meta">Window: {escape(window)}. Index holds up to '
        f"{escape(indexed)}. Figures come from the index and are checked against the chain's logs "
        f"and receipts.</p>{status}" + "".join(sections) + "</body></html>\n"
    )
