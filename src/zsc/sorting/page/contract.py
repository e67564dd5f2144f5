"""The whole contract between Python and the review page: ``PageData``, inlined as JSON, read by the
page's scripts as ``D.<field>``. A field the scripts read must be here (``tests/test_review_page_unit``
checks every ``D.<name>`` of ``assets/*.js`` against this class)."""

from __future__ import annotations

import base64
import json
from dataclasses import asdict, dataclass, field

ACCEPT_PRECISION = 0.95  # the page offers one-click accepts only where its estimated precision is at least this
_HTML_UNSAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


def json_for_html(data) -> str:
    """``data`` as JSON safe inside an HTML ``<script>``: ``<``, ``>`` and ``&`` escaped, so no file name,
    label or EXIF field (``<!--<script>``, ``</script>``) can end or re-open the script element."""
    return json.dumps(data, separators=(",", ":")).translate(_HTML_UNSAFE)


@dataclass
class PageData:
    """One array per field, one entry per photo on the page (compact for 100,000 photos)."""

    run: str
    key: str  # identifies one clustering of one set of photos: saved work replays only on it
    ids: list[str]
    thumb_prefix: str  # thumbnail paths: a shared folder prefix plus per-photo rests
    thumbs: list[str]
    preview_prefix: str  # the large view's 1024-px previews, likewise
    previews: list[str]
    cluster: list[int]
    doubtful: list[int]  # 1: in the doubtful section
    reasons: dict[str, str]  # photo index -> why it is doubtful (only photos with a reason)
    order: list[int]  # the similarity order of the whole page
    core: list[int]  # 1: the photo's neighbours lie in its own cluster (shown before the dashed line)
    sub: list[int]  # the split sub-group of each photo within its cluster (-1 none)
    centres: list[int]  # per photo, the nearest other cluster centres (flattened)
    k: int  # neighbours per photo
    neighbours: list[int]  # per photo, its k nearest photos (flattened)
    map: list[int]  # the 2-D map as integers 0..MAP_SCALE, x and y interleaved
    vocabulary: list[str]  # the run's species list
    apply: dict  # where to save the export and the command that applies it
    preset: dict[str, str] = field(default_factory=dict)  # a week's page: group -> reviewed species name
    examples: dict[str, list] = field(default_factory=dict)  # group -> [image_id, thumbnail] of reviewed photos
    known: dict = field(default_factory=lambda: {"names": [], "ids": [], "codes": [], "hashes": []})
    support: list[int] = field(default_factory=list)  # percent of the nearest reviewed photos, -1 none
    hashes: list[str] = field(default_factory=list)  # content hash prefixes: saved work follows photos
    sequence: list[int] = field(default_factory=list)  # a camera-trap page's burst per crop, -1 none
    # a camera-trap page: per crop its frame (an index: a burst counts frames) and camera (an index into
    # cameras), its box in the frame (x, y, width, height as integers 0..10000, flattened); the large view
    # shows the frame (previews are then the frames') with the box drawn
    frame: list[int] = field(default_factory=list)
    camera: list[int] = field(default_factory=list)
    cameras: list[str] = field(default_factory=list)
    boxes: list[int] = field(default_factory=list)
    not_animal: str = ""  # the name that marks a false detection (key x), "" on a page of whole photos
    # the suggestions' classifier: per photo ``feature_dims`` principal components of its embedding (int8,
    # base64, row after row); accepts in one click only where the estimated precision >= accept_precision
    features: str = ""
    feature_dims: int = 0
    # a week's page: per reviewed species, its photos' count and the sum of their unit feature rows,
    # added to the classifier's centre of that name
    reviewed_centres: dict[str, dict] = field(default_factory=dict)
    accept_precision: float = ACCEPT_PRECISION

    def to_json(self) -> str:
        return json_for_html(asdict(self))


def pack_features(features) -> dict:
    """``PageData``'s ``features`` and ``feature_dims`` from an (n x dims) int8 array."""
    return {"features": base64.b64encode(features.tobytes()).decode(), "feature_dims": int(features.shape[1])}
