"""Self-contained HTML galleries of clusters, for expert review.

Opens from disk in any browser: thumbnails are small JPEGs next to the pages, every link is
relative, there is no server and no external asset. A cluster gets a section with its
dominant species and purity; outliers (noise) get their own section.
"""

from __future__ import annotations

import hashlib
import html
from pathlib import Path

import pandas as pd

from zsc.data.images import ImageRejected, open_rgb

THUMB_SIZE = 160
PAGE_STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.4em} h2{font-size:1.1em;margin-top:1.6em;border-bottom:1px solid #ccc}
.grid{display:flex;flex-wrap:wrap;gap:6px} figure{margin:0;width:%dpx;font-size:.7em;word-break:break-all}
figure img{width:%dpx;height:%dpx;object-fit:cover;display:block;background:#eee}
.off{outline:3px solid #d33} table{border-collapse:collapse} td,th{padding:2px 8px;border-bottom:1px solid #ddd}
""" % (THUMB_SIZE, THUMB_SIZE, THUMB_SIZE)
# Marks the page once every thumbnail has loaded (used by the headless-browser test, harmless otherwise).
LOAD_CHECK = """
<script>
window.addEventListener('load', function () {
  var images = Array.prototype.slice.call(document.images);
  var loaded = images.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
  document.body.setAttribute('data-images', loaded + '/' + images.length);
});
</script>
"""


def thumbnail_name(image_id: str) -> str:
    """A flat, ASCII-only file name for an image's thumbnail (image ids may hold any character)."""
    return hashlib.sha1(image_id.encode()).hexdigest()[:20] + ".jpg"


def make_thumbnails(
    image_root: Path, image_ids, thumbs_dir: Path, size: int = THUMB_SIZE, cache: dict[str, Path] | None = None
) -> dict[str, str]:
    """Write missing thumbnails (``size`` px on the long side); return image_id -> path relative to
    ``thumbs_dir``'s parent (or '' if undecodable).

    ``cache`` (image_id -> a file outside the job's output, named by the photo's content): a thumbnail
    found there is hard-linked (or copied) instead of decoded again, a new one is linked there, so a
    rerun that only adds photos decodes only those."""
    import os
    import shutil

    thumbs_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    for image_id in image_ids:
        target = thumbs_dir / thumbnail_name(image_id)
        cached = (cache or {}).get(image_id)
        if not target.exists() and cached is not None and cached.exists():
            try:
                os.link(cached, target)
            except OSError:
                shutil.copyfile(cached, target)
        if not target.exists():
            try:
                image = open_rgb(Path(image_root) / image_id, draft_size=size)
            except (ImageRejected, OSError):
                paths[image_id] = ""
                continue
            image.thumbnail((size, size))
            image.save(target, quality=85)  # the folder is a job's output: removed whole if the job fails
            if cached is not None:
                cached.parent.mkdir(parents=True, exist_ok=True)
                try:
                    os.link(target, cached)
                except OSError:
                    pass  # another file system: no cache, only slower
        paths[image_id] = f"{thumbs_dir.name}/{target.name}"
    return paths


def cluster_sections(labels: pd.DataFrame) -> list[dict]:
    """Clusters largest first, each with its dominant species and purity; noise last."""
    sections = []
    clustered = labels[labels["cluster"] != -1]
    for cluster_id, members in sorted(clustered.groupby("cluster"), key=lambda item: (-len(item[1]), item[0])):
        counts = members["label"].value_counts()
        sections.append(
            {
                "title": f"Cluster {cluster_id}",
                "dominant": counts.index[0],
                "purity": counts.iloc[0] / len(members),
                "members": members,
            }
        )
    noise = labels[labels["cluster"] == -1]
    if len(noise):
        sections.append(
            {"title": "Outliers (noise): set aside for review", "dominant": None, "purity": None, "members": noise}
        )
    return sections


def _figure(row, thumbs: dict[str, str], dominant: str | None) -> str:
    label = html.escape(str(row.label))
    name = html.escape(row.image_id)
    mismatch = ' class="off"' if dominant is not None and row.label != dominant else ""
    source = thumbs.get(row.image_id, "")
    image = f'<img src="{html.escape(source)}" alt="{name}" loading="eager"{mismatch}>' if source else "(undecodable)"
    return f'<figure title="{name}">{image}<figcaption>{label}</figcaption></figure>'


def render_page(title: str, facts: dict, labels: pd.DataFrame, thumbs: dict[str, str]) -> str:
    """One cell's gallery as a complete HTML document."""
    rows = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>" for k, v in facts.items())
    parts = [
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{html.escape(title)}</title>",
        f"<style>{PAGE_STYLE}</style></head><body><p><a href=index.html>all galleries</a></p>",
        f"<h1>{html.escape(title)}</h1><table>{rows}</table>",
        "<p>Red frame: an image whose species differs from its cluster's dominant species.</p>",
    ]
    for section in cluster_sections(labels):
        heading = html.escape(section["title"])
        if section["dominant"] is not None:
            heading += (
                f" &mdash; dominant species <b>{html.escape(str(section['dominant']))}</b>, "
                f"purity {section['purity']:.0%}"
            )
        heading += f", {len(section['members'])} images"
        figures = "".join(_figure(row, thumbs, section["dominant"]) for row in section["members"].itertuples())
        parts.append(f"<h2>{heading}</h2><div class=grid>{figures}</div>")
    parts.append(LOAD_CHECK + "</body></html>")
    return "\n".join(parts)


def render_index(pages: list[tuple[str, str, str]]) -> str:
    """pages: (file name, title, one-line description)."""
    items = "".join(
        f'<li><a href="{html.escape(name)}">{html.escape(title)}</a> {html.escape(text)}</li>'
        for name, title, text in pages
    )
    return (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>Cluster galleries</title>"
        f"<style>{PAGE_STYLE}</style></head><body><h1>Cluster galleries</h1><ul>{items}</ul>"
        f"{LOAD_CHECK}</body></html>"
    )


def write_galleries(
    summary: pd.DataFrame, metrics: pd.DataFrame, labels_by_cell: dict[str, str], thumbs: Path, top: int, output: Path
) -> None:
    """One page per best ``top`` setting (its first seed that succeeded) plus an index page, in ``output``;
    ``labels_by_cell``: a cell's key (zsc.grid.cell_key) -> its labels file."""
    from zsc.evaluation.aggregate import KEYS, first_ok_cell, usable_settings
    from zsc.grid import cell_key

    output.mkdir(parents=True, exist_ok=True)
    relative = f"../{thumbs.name}"
    pages = []
    for _, setting in usable_settings(summary).head(top).iterrows():
        cell = first_ok_cell(metrics, setting)
        labels = pd.read_parquet(labels_by_cell[cell_key(cell)])
        paths = {
            i: f"{relative}/{thumbnail_name(i)}" for i in labels["image_id"] if (thumbs / thumbnail_name(i)).exists()
        }
        title = " / ".join(str(cell[k]) for k in KEYS)
        facts = {
            "rank": setting["rank"],
            **{k: cell[k] for k in KEYS},
            **{
                k: round(float(cell[k]), 4)
                for k in ("v_measure_retained", "ari_retained", "noise_fraction")
                if k in cell
            },
            "clusters found": cell.get("clusters_found"),
            "species": cell.get("true_k"),
        }
        name = "__".join(str(cell[k]) for k in KEYS) + ".html"
        (output / name).write_text(render_page(title, facts, labels, paths))
        pages.append((name, title, f"(rank {setting['rank']}, V-measure {cell['v_measure_retained']:.3f})"))
    (output / "index.html").write_text(render_index(pages))
