"""The answer to a subject access request as files: a printable PDF (WeasyPrint, from an HTML
template with no external resources) and machine-readable JSON. Both are built from the
already-redacted copy, so withheld text never reaches either."""

from __future__ import annotations

import json
import logging
from typing import Any

from django.template.loader import render_to_string

# WeasyPrint reports every layout step at INFO; the structured log needs none of it.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


def answer_html(answer: dict[str, Any]) -> str:
    return render_to_string("rights/answer_pdf.html", {"answer": answer})


def answer_pdf(answer: dict[str, Any]) -> bytes:
    from weasyprint import HTML  # imported here: it loads Pango, which only exports need

    # No base_url and no links to fetch: the document is self-contained.
    return HTML(string=answer_html(answer)).write_pdf()  # type: ignore[no-any-return]


def answer_json(answer: dict[str, Any]) -> bytes:
    return json.dumps(answer, ensure_ascii=False, indent=2).encode()
