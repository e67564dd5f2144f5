"""The review page as it was before issue 34 (commit 1fa562e: neighbour-vote suggestions, accept all at
>= 6 of 10 neighbours), for the review bench to measure beside today's on the same sort. Its scripts and
template are that commit's ``src/zsc/sorting/page/assets``, filled with the data of today's page of the
same run (the old scripts ignore the fields they do not know)."""

from __future__ import annotations

import html
from pathlib import Path
from string import Template

from zsc.sorting.page.contract import json_for_html

ASSETS = Path(__file__).with_name("assets")
SCRIPTS = (
    "core.js", "state.js", "paint.js", "panel.js", "actions.js", "export.js",
    "viewer.js", "map.js", "mover.js", "keys.js", "start.js",
)  # fmt: skip


def render_previous_page(data: dict) -> str:
    """The page of 1fa562e with ``data``: the JSON today's page of the run carries."""
    script = "(function () {\n  'use strict';\n" + "".join((ASSETS / name).read_text() for name in SCRIPTS) + "})();\n"
    return Template((ASSETS / "page.html").read_text()).substitute(
        run=html.escape(data["run"]),
        style=(ASSETS / "page.css").read_text(),
        help=(ASSETS / "keys.help.html").read_text().strip(),
        facts="",
        data=json_for_html(data),
        script=script,
    )
