"""One bench document, two renderings: Markdown (``benchmarks.md``) and a self-contained HTML page.

The tables module builds the document as a list of blocks; this module only
lays them out, so the Markdown and the HTML cannot say different things.
Blocks: :class:`Heading`, :class:`Text` (Markdown's inline ```code```
only), :class:`Table`, :class:`Items` and :class:`Image` (a PNG next to the
page: linked from the Markdown, embedded in the HTML).
"""
from __future__ import annotations

import base64
import html
import os
import re
from dataclasses import dataclass

from gpuclf.report.html_page import esc, page


@dataclass
class Heading:
    text: str
    level: int = 2


@dataclass
class Text:
    text: str


@dataclass
class Items:
    items: list


@dataclass
class Table:
    """Rows of cells (text); columns from ``right`` on are right-aligned numbers."""

    header: list
    rows: list
    right: int = 1


@dataclass
class Image:
    file: str
    alt: str


def _md_cell(c) -> str:
    return str(c).replace("|", "\\|")


def markdown(blocks: list, image_prefix: str = "") -> str:
    """The blocks as Markdown; images are linked as ``image_prefix + file``."""
    out = []
    for b in blocks:
        if isinstance(b, Heading):
            out += ["#" * b.level + " " + b.text, ""]
        elif isinstance(b, Text):
            out += [b.text, ""]
        elif isinstance(b, Items):
            out += [f"- {item}" for item in b.items] + [""]
        elif isinstance(b, Table):
            align = ["---" if i < b.right else "--:" for i in range(len(b.header))]
            out += ["| " + " | ".join(map(_md_cell, line)) + " |" for line in (b.header, align, *b.rows)] + [""]
        elif isinstance(b, Image):
            out += [f"![{b.alt}]({image_prefix}{b.file})", ""]
    return "\n".join(out).rstrip() + "\n"


_CODE = re.compile(r"`([^`]*)`")


def _inline(text: str) -> str:
    """Escaped text with Markdown's ```code``` as ``<code>``."""
    return _CODE.sub(lambda m: f"<code>{m.group(1)}</code>", esc(text))


def html_page(title: str, blocks: list, image_dir: str) -> bytes:
    """The blocks as one HTML page, each image read from ``image_dir`` and embedded (no file it links to)."""
    body = []
    for b in blocks:
        if isinstance(b, Heading):
            body.append(f"<h{b.level}>{_inline(b.text)}</h{b.level}>")
        elif isinstance(b, Text):
            body.append(f"<p>{_inline(b.text)}</p>")
        elif isinstance(b, Items):
            body.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in b.items) + "</ul>")
        elif isinstance(b, Table):
            left = set(range(b.right))

            def row(cells, tag):
                return "<tr>" + "".join(f"<{tag}{' class=l' if i in left else ''}>{_inline(str(c))}</{tag}>"
                                        for i, c in enumerate(cells)) + "</tr>"

            body.append("<table>" + row(b.header, "th") + "".join(row(r, "td") for r in b.rows) + "</table>")
        elif isinstance(b, Image):
            path = os.path.join(image_dir, b.file)
            if os.path.isfile(path):
                with open(path, "rb") as f:
                    data = base64.b64encode(f.read()).decode("ascii")
                body.append(f"<figure><img src='data:image/png;base64,{data}' alt='{html.escape(b.alt)}'>"
                            f"<figcaption>{esc(b.alt)}</figcaption></figure>")
    return page(title, body)
