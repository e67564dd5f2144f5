"""The review page's HTML: ``assets/page.html`` filled with its style, help, facts, data and scripts.

One self-contained file (data inline, thumbnails by relative path, no server, no external asset).
The scripts are ``SCRIPTS`` in order, one closure: each file holds one concern of the page."""

from __future__ import annotations

import html
from importlib import resources
from string import Template

import pandas as pd

from zsc.sorting.page.assemble import page_data
from zsc.sorting.page.contract import PageData

# one closure, these files in this order: data and helpers first, the start last
SCRIPTS = (
    "core.js",  # the page's data (PageData as D), small helpers
    "state.js",  # the initial state, the saved steps replayed, derived labels, undo
    "suggest.js",  # the classifier on the named photos, its estimated precision, the fixes view's groups
    "paint.js",  # sections, figures, captions: repainting only what a step touched
    "panel.js",  # the side panel and the type-ahead names
    "actions.js",  # name, move, bursts, accept, split, done
    "export.js",  # the CSV export, how to apply it, saved work carried over a rerun
    "viewer.js",  # the large view
    "map.js",  # the 2-D map and its lasso
    "mover.js",  # the move box (m)
    "keys.js",  # events and key bindings (their help: keys.help.html)
    "start.js",  # replay, paint, ready
)
HEADER = (
    "// Review page of a sort run: name clusters, move photos (ranges, splits, lasso, neighbour suggestions),\n"
    "// mark clusters done, undo, keep work in localStorage, export `image_id,label,content`. No server, no\n"
    "// external assets. Cost model: every edit repaints only the sections it touched, the side panel (one line\n"
    "// per group) and the suggestions (linear in photos x neighbours); nothing is quadratic in the clusters.\n"
)


def asset(name: str) -> str:
    return resources.files("zsc.sorting.page").joinpath(f"assets/{name}").read_text()


def page_script() -> str:
    """The page's scripts as one closure."""
    return HEADER + "(function () {\n  'use strict';\n" + "".join(asset(name) for name in SCRIPTS) + "})();\n"


def render(data: PageData, facts: str = "") -> str:
    """The page of ``data``, with ``facts`` (plain text) above its sections."""
    return Template(asset("page.html")).substitute(
        run=html.escape(data.run),
        style=asset("page.css"),
        help=asset("keys.help.html").strip(),
        facts=html.escape(facts),
        data=data.to_json(),
        script=page_script(),
    )


def render_review_page(
    run: str,
    assignments: pd.DataFrame,
    thumbs: dict[str, str],
    facts: str = "",
    **page_extras,
) -> str:
    """The review page's HTML (thumbnail paths relative to the page); ``page_extras`` as ``page_data``'s."""
    return render(page_data(run, assignments, thumbs, **page_extras), facts)
