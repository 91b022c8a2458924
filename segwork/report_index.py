"""``<out>/index.html``: every report of a ``--out`` folder with links, newest first.

Rebuilt from the folders' ``metrics.json`` after each run (:func:`write_index`), under an
exclusive lock on the ``--out`` folder so that runs of other dates finishing together both end up
listed, and written to a temporary name then renamed.  Plain HTML, no script, no network.
"""

from __future__ import annotations

import contextlib
import html
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from segwork.report_digest import list_reports

__all__ = ["index_html", "root_lock", "write_index", "write_text_atomic"]

_STYLE = """body{font:14px/1.5 system-ui,sans-serif;margin:24px auto;max-width:960px;color:#222}
h1{font-size:22px}table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:6px 10px;border-bottom:1px solid #e5e5e5;vertical-align:top}
th{background:#f6f6f6}a{color:#1a5fb4}.muted{color:#666;font-size:12px}"""


@contextlib.contextmanager
def root_lock(root: Path) -> Iterator[None]:
    """An exclusive ``flock`` on the ``--out`` folder itself (no lock file left behind)."""
    import fcntl

    fd = os.open(root, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to a temporary name beside ``path`` and rename it into place."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _title(name: str, book: dict[str, Any]) -> str:
    return str(book.get("title") or name.replace("_", " ").capitalize())


def index_html(root: Path) -> str:
    """The index page of the reports in ``root``."""
    rows = []
    for report in list_reports(root):
        folder = report["folder"]
        links = []
        for name, book in (report.get("notebooks") or {}).items():
            page = f"{folder}/{name}.html"
            link = f'<a href="{html.escape(page)}">{html.escape(_title(name, book))}</a>'
            if (root / folder / f"{name}.pdf").exists():
                link += f' (<a href="{html.escape(folder)}/{html.escape(name)}.pdf">PDF</a>)'
            links.append(link)
        if (root / folder / "summary.md").exists():
            links.append(f'<a href="{html.escape(folder)}/summary.md">What changed</a>')
        skipped = report.get("skipped") or {}
        notes = "".join(
            f'<div class="muted">{html.escape(n.replace("_", " "))} not run: '
            f"{html.escape(str(why))}</div>"
            for n, why in skipped.items()
        )
        data = report.get("data") or {}
        rows.append(
            "<tr>"
            f"<td><b>{html.escape(str(report.get('as_of', folder)))}</b></td>"
            f"<td>{'<br>'.join(links) or '—'}{notes}</td>"
            f'<td class="muted">{html.escape(str(report.get("generated_at", "")))}<br>'
            f"{html.escape(str(data.get('format') or ''))} "
            f"{html.escape(str(data.get('currency') or ''))}</td>"
            "</tr>"
        )
    body = (
        "<table><thead><tr><th>As of</th><th>Pages</th><th>Generated</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
        if rows
        else "<p>No reports yet.</p>"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>segwork reports</title><style>{_STYLE}</style></head><body>"
        "<h1>segwork reports</h1>"
        '<p class="muted">Newest first. <a href="summary.md">Latest digest</a> (summary.md).</p>'
        f"{body}</body></html>\n"
    )


def write_index(root: Path) -> Path:
    """(Re)write ``<root>/index.html``; the caller holds :func:`root_lock`."""
    path = root / "index.html"
    write_text_atomic(path, index_html(root))
    return path
