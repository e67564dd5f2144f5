"""The review page as it was before issue 34 (commit 1fa562e: neighbour-vote suggestions, accept all at
>= 6 of 10 neighbours), for the review bench to measure beside today's on the same sort. Its scripts and
template are read from that commit's ``src/zsc/sorting/page/assets`` (``git show``, no copy kept) and
filled with the data of today's page of the same run (the old scripts ignore fields they do not know)."""

from __future__ import annotations

import html
import subprocess
from pathlib import Path
from string import Template

from zsc.sorting.page.contract import json_for_html

COMMIT = "1fa562e"
REPO = Path(__file__).resolve().parents[2]
SCRIPTS = (
    "core.js", "state.js", "paint.js", "panel.js", "actions.js", "export.js",
    "viewer.js", "map.js", "mover.js", "keys.js", "start.js",
)  # fmt: skip


def asset(name: str) -> str:
    """One asset of the page at ``COMMIT`` (the clone must hold that commit: not a shallow one)."""
    done = subprocess.run(
        ["git", "-C", str(REPO), "show", f"{COMMIT}:src/zsc/sorting/page/assets/{name}"], capture_output=True, text=True
    )
    if done.returncode:
        raise SystemExit(
            f"the previous page needs commit {COMMIT} in this clone (a shallow clone lacks it): {done.stderr}"
        )
    return done.stdout


def render_previous_page(data: dict) -> str:
    """The page of 1fa562e with ``data``: the JSON today's page of the run carries."""
    script = "(function () {\n  'use strict';\n" + "".join(asset(name) for name in SCRIPTS) + "})();\n"
    return Template(asset("page.html")).substitute(
        run=html.escape(data["run"]),
        style=asset("page.css"),
        help=asset("keys.help.html").strip(),
        facts="",
        data=json_for_html(data),
        script=script,
    )
