"""The review page as a unit: what it shows (``assemble``), the one contract between Python and its
scripts (``contract.PageData``), its HTML (``render``) and its assets: ``page.html``, ``page.css``, one
script per concern and the help beside the key bindings (``keys.js``, ``keys.help.html``).

A new gesture touches this folder only: its code in the script of its concern, its key in ``keys.js``,
its help in ``keys.help.html``, and a ``PageData`` field if it needs data the page does not carry yet."""

from zsc.sorting.page.assemble import (
    MAP_SCALE,
    PREVIEW_SIZE,
    PagePlan,
    page_data,
    plan_page,
    review_extras,
    review_state_key,
    week_map,
    week_order,
    week_page,
)
from zsc.sorting.page.contract import PageData, json_for_html
from zsc.sorting.page.render import SCRIPTS, page_script, render, render_review_page

__all__ = [
    "MAP_SCALE",
    "PREVIEW_SIZE",
    "SCRIPTS",
    "PageData",
    "PagePlan",
    "json_for_html",
    "page_data",
    "page_script",
    "plan_page",
    "render",
    "render_review_page",
    "review_extras",
    "review_state_key",
    "week_map",
    "week_order",
    "week_page",
]
