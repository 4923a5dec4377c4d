"""Small HTML pieces shared by ``report.html`` and ``compare.html``: one style, escaped tables."""
from __future__ import annotations

import html

CSS = """body{font-family:system-ui,sans-serif;max-width:1320px;margin:1.5em auto;padding:0 1em;color:#222;
line-height:1.45}table{border-collapse:collapse;margin:.5em 0 1em}td,th{border:1px solid #ccc;padding:3px 8px;
text-align:right;vertical-align:top}th{background:#f3f3f3}td.l,th.l,.facts td,.facts th{text-align:left}
figure{margin:1em 0 2em}figcaption{color:#555;font-size:.95em}img{max-width:100%}p{max-width:60em}
.note{color:#555;font-size:.9em}.bad{color:#b00;font-weight:bold}.ok{color:#070}.warn{background:#fff6e0;
border-left:4px solid #e0a000;padding:.4em 1em;margin:1em 0}nav ol{columns:2}h2{border-bottom:1px solid #ddd;
margin-top:2em}small{color:#a33}"""


def esc(text) -> str:
    return html.escape(str(text))


def table(header, rows, left=1, raw: bool = False) -> str:
    """An HTML table; label columns left-aligned, numbers right-aligned.

    ``left`` is how many leading columns hold labels, or the set of their
    indices. Cells are escaped unless ``raw`` (cells already HTML).
    """
    cell = (lambda c: str(c)) if raw else esc
    left = set(range(left)) if isinstance(left, int) else set(left)

    def row(cells, tag):
        return "<tr>" + "".join(f"<{tag}{' class=l' if i in left else ''}>{cell(c)}</{tag}>"
                                for i, c in enumerate(cells)) + "</tr>"

    head = row(header, "th") if header else ""
    return "<table>" + head + "".join(row(r, "td") for r in rows) + "</table>"


def page(title: str, body: list[str]) -> bytes:
    """A complete, self-contained HTML document (no scripts, nothing fetched)."""
    return "\n".join([f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{esc(title)}</title>",
                      f"<style>{CSS}</style></head><body>", *body, "</body></html>\n"]).encode("utf-8")
