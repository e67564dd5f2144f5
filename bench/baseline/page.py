"""The review page as it was before issue 19 (commit 2da097b), kept as the scripted reviewer's baseline:
photos in file-name order, a merge list per section, moves through one drop-down. Not used by the workflow."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pandas as pd

from zsc.sorting.page.assemble import review_state_key  # the same key: saved work never crosses pages

PAGE_STYLE = """
body{font-family:system-ui,sans-serif;margin:0;color:#222}
header{position:sticky;top:0;z-index:2;background:#f6f6f6;border-bottom:1px solid #ccc;padding:.5em 1em;
 display:flex;flex-wrap:wrap;gap:.6em;align-items:center;font-size:.9em}
#progress{font-weight:600} #saved,#selection{color:#555}
main{padding:0 1em 4em}
h2{font-size:1em;margin:1.4em 0 .4em;border-bottom:1px solid #ccc;padding-bottom:.3em;display:flex;gap:.5em;align-items:center;flex-wrap:wrap}
h2 .count{color:#666;font-weight:normal} h2 input.name{font-size:1em;padding:2px 4px;min-width:14em}
section.doubtful h2{color:#a33}
.grid{display:flex;flex-wrap:wrap;gap:8px}
figure{margin:0;width:160px;font-size:.7em;word-break:break-all;cursor:pointer;border:3px solid transparent;border-radius:4px}
figure.sel{border-color:#1769e0;background:#e8f0fd}
figure img,.noimg{width:160px;height:160px;object-fit:cover;display:block;background:#eee}
.noimg{display:flex;align-items:center;justify-content:center;color:#888}
.hint{color:#666;display:block} .accept{font-size:.95em;margin-top:2px}
button.more{align-self:center;height:3em}
.notice{background:#fff4d6;border:1px solid #d9a400;padding:.6em;border-radius:4px}
details{font-size:.9em} kbd{border:1px solid #aaa;border-radius:3px;padding:0 3px;background:#fff}
"""
HELP = (
    "<details id=help><summary>Shortcuts</summary>click a photo to select it, <kbd>shift</kbd>-click for a range, "
    "drag selected photos onto a cluster to move them · <kbd>n</kbd> name the cluster of the last clicked photo · "
    "<kbd>m</kbd> choose where to move the selection (<kbd>Enter</kbd> moves) · <kbd>a</kbd> accept suggestions for "
    "selected doubtful photos · <kbd>u</kbd> or <kbd>Ctrl</kbd>+<kbd>z</kbd> undo · <kbd>e</kbd> export CSV · "
    "<kbd>j</kbd>/<kbd>k</kbd> next/previous cluster · <kbd>Esc</kbd> clear selection · <kbd>?</kbd> this help</details>"
)


def page_data(run: str, assignments: pd.DataFrame, thumbs: dict[str, str]) -> dict:
    """The page's inline data: one compact row per photo."""
    rows = [
        [image_id, thumbs.get(image_id, ""), int(c), int(bool(d)), int(n), round(float(dist), 4), reason or ""]
        for image_id, c, d, n, dist, reason in zip(
            assignments["image_id"],
            assignments["cluster"],
            assignments["doubtful"],
            assignments["nearest_cluster"],
            assignments["distance_to_cluster"],
            assignments["reason"].fillna(""),
        )
    ]
    clusters = sorted(int(c) for c in set(assignments.loc[~assignments["doubtful"].astype(bool), "cluster"]))
    return {"run": run, "key": review_state_key(assignments), "images": rows, "clusters": clusters}


def render_review_page(run: str, assignments: pd.DataFrame, thumbs: dict[str, str], facts: str = "") -> str:
    """The review page's HTML (thumbnail paths relative to the page)."""
    data = json.dumps(page_data(run, assignments, thumbs), separators=(",", ":")).replace("</", "<\\/")
    script = (Path(__file__).parent / "review.js").read_text()
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>Review: {html.escape(run)}</title><style>{PAGE_STYLE}</style></head><body>"
        f"<header><strong>Review {html.escape(run)}</strong> <span id=progress></span>"
        "<label>move selected to <select id=moveTo></select></label>"
        "<input id=newName placeholder='new group name' hidden> <button id=moveBtn>move (m)</button>"
        "<button id=acceptBtn>accept suggestions (a)</button> <button id=undoBtn>undo (u)</button>"
        "<button id=exportBtn>export CSV (e)</button> <span id=selection></span> <span id=saved></span>"
        f"{HELP}</header><main><p id=notice class=notice hidden></p><p>{html.escape(facts)}</p><div id=sections></div></main>"
        f"<script type='application/json' id=zsc-data>{data}</script><script>{script}</script></body></html>"
    )
