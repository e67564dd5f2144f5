"""`bench.py --only review`: a scripted reviewer drives the real review page in Chromium.

It reviews as an expert who knows each photo's species would, using only what the page shows plus the
true species of the photos it looks at, and counts every click, key press and typed name as one action
(scrolls separately). Each inbox is sorted by the real workflow; the reviewer's export is saved at the
conventional path (reviews/<run>.csv) and applied by the workflow; final/ is checked against the truth.
Today's page (`page: current`) and the page before issue 19 (`page: baseline`, bench/baseline/) are
reviewed in the same run, on the same sort.

Strategies, written out:
- baseline (what that page offers): name each cluster by its majority in its heading (click, type,
  Enter) or merge it into the cluster already carrying that name (one pick); then for every cluster,
  move each run of consecutive photos of one other species: click, shift-click, pick the target, move.
- current: click the first name box; type the majority name + Enter for each cluster (the page moves
  on to the next unnamed one). Then: the suggestions section (neighbours disagree with the name): mark
  each wrong suggestion *keep* and accept the rest in one click, when that is cheaper than one click per
  right one. Then, cluster by cluster, each photo still misfiled: its "-> name" button when it names
  the right species; else runs of consecutive photos of one species are selected (click, shift-click)
  and moved with one click on the name in the side panel (lone photos: each dragged there, one
  gesture each), or with m, the name, Enter for a new name.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from zsc.tables import ASSIGNMENTS

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SNAKEMAKE = Path(sys.executable).with_name("snakemake")
VIEWPORT = {"width": 1400, "height": 900}
CHROMIUM_ARGS = [  # as tests/conftest.py's: headless, no background connections, pages read their thumbnails
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--allow-file-access-from-files",
]
MODEL = {
    "backend": "timm",
    "id": "tf_efficientnet_lite0",
    "weights": "package:efficientnet_lite0",
    "img_size": 224,
    "batch_size": 32,
}


# ------------------------------------------------------------------ inboxes with hidden labels
def flat_inbox(photos: list[tuple[Path, str]], dest: Path, seed: int = 0) -> dict[str, str]:
    """Copy photos into one flat folder with label-free names (IMG_0001.jpg ...); return name -> species."""
    dest.mkdir(parents=True, exist_ok=True)
    order = list(photos)
    random.Random(seed).shuffle(order)
    truth = {}
    for number, (source, species) in enumerate(order, 1):
        name = f"IMG_{number:04d}{source.suffix.lower()}"
        shutil.copy(source, dest / name)
        truth[name] = species
    return truth


def oxford_inbox(pets: Path, dest: Path) -> dict[str, str]:
    photos = [
        (path, path.parent.name)
        for path in sorted(pets.glob("*/*/*"))
        if path.suffix.lower() in (".jpg", ".jpeg", ".png")
    ]
    return flat_inbox(photos, dest)


def generated_inbox(
    dest: Path, n_species: int = 10, per_species: int = 200, lookalikes: bool = False
) -> dict[str, str]:
    """A generated inbox; ``lookalikes``: species that share a body shape and differ only in their coat."""
    from zsc.data.demo import LOOKALIKES, SPECIES, generate

    source = dest.parent / (dest.name + "-labelled")
    if not source.exists():
        species_set = LOOKALIKES if lookalikes else SPECIES
        generate(source, n_species, per_species, seed=5, size=160, nested=False, species_set=species_set)
    photos = [(path, path.parent.name) for path in sorted(source.glob("*/*.jpg"))]
    return flat_inbox(photos, dest)


# ------------------------------------------------------------------ the sort run, by the workflow
def sort_config(inbox: Path, clusterer: dict, run: dict) -> dict:
    return {
        "models": {"efficientnet_lite0": MODEL},
        "reducers": {"tsne": {"method": "tsne", "n_components": 2}},
        "clusterers": {"chosen": clusterer},
        "sort": {
            "inbox": {
                "root": str(inbox),
                "setting": {"model": "efficientnet_lite0", "reducer": "tsne", "clusterer": "chosen"},
                "link": "symlink",
                **run,
            }
        },
        "embed": {"cache": str(REPO / "bench/out/resources/embed-cache")},
    }


def snakemake(workdir: Path, config_path: Path, *extra: str, quiet: bool = True) -> str:
    """Run the workflow on ``workdir``; return what it printed (its job log unless ``quiet``)."""
    command = [str(SNAKEMAKE), "-s", str(REPO / "Snakefile"), "-d", str(workdir), "--configfile", str(config_path)]
    result = subprocess.run(
        [*command, "--cores", "2", *(["-q"] if quiet else []), *extra], capture_output=True, text=True
    )
    if result.returncode:
        raise RuntimeError(f"snakemake failed:\n{result.stderr[-3000:]}")
    return result.stderr + result.stdout


# ------------------------------------------------------------------ measures on the page's data
def page_json(page_path: Path) -> dict:
    text = page_path.read_text()
    start = text.index("id=zsc-data>") + len("id=zsc-data>")
    return json.loads(text[start : text.index("</script>", start)])


def majority_names(assignments: pd.DataFrame, truth: dict[str, str]) -> pd.Series:
    """Each photo's label once every cluster is named by its majority (doubtful photos: none)."""
    species = assignments["image_id"].map(truth)
    kept = ~assignments["doubtful"]
    majority = species[kept].groupby(assignments["cluster"][kept]).agg(lambda s: s.value_counts().index[0])
    names = assignments["cluster"].map(majority).where(kept, "")
    return names.fillna("")


def fix_floor(assignments: pd.DataFrame, truth: dict[str, str]) -> dict:
    """What any page must at least do after naming every cluster by its majority: the misfiled named
    photos, the (cluster, true species) pairs they fall in (one pointing each, at least) and the species
    with no cluster of their own (a new name each)."""
    names = majority_names(assignments, truth)
    species = assignments["image_id"].map(truth)
    misfiled = (names != species) & (names != "")
    return {
        "misfiled_named": int(misfiled.sum()),
        "pairs": int(
            pd.DataFrame({"c": assignments["cluster"][misfiled], "s": species[misfiled]}).drop_duplicates().shape[0]
        ),
        "species_without_cluster": len(set(species) - set(names)),
    }


def neighbour_votes(neighbours: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(top label, its count) of each photo's named neighbours, as the page counts them (ties here: alphabetical)."""
    top, support = np.full(len(labels), "", dtype=object), np.zeros(len(labels), int)
    for i, row in enumerate(neighbours):
        votes = Counter(labels[j] for j in row if labels[j])
        if votes:
            label, count = sorted(votes.items(), key=lambda item: (-item[1], item[0]))[0]
            top[i], support[i] = label, count
    return top, support


def order_measures(data: dict, truth: dict[str, str]) -> dict:
    """Adjacent-same-species share: inbox file-name order, within clusters by file name (the old page)
    and by similarity (this page), and the whole run as one strip."""
    from zsc.sorting.similarity import adjacent_same_share

    ids = np.array(data["ids"])
    species = np.array([truth[i] for i in ids])
    places = np.where(np.array(data["doubtful"]) == 1, -1, np.array(data["cluster"]))
    by_name = np.argsort(ids, kind="stable")
    by_cluster_name = np.lexsort((ids, places))
    strip = np.array(data["order"])
    return {
        "inbox_file_names": adjacent_same_share(by_name, species),
        "clusters_file_names": adjacent_same_share(by_cluster_name, species, places),
        "clusters_similarity": adjacent_same_share(strip, species, places),
        "strip_whole_run": adjacent_same_share(strip, species),
    }


def suggestion_precision(data: dict, assignments: pd.DataFrame, truth: dict[str, str]) -> pd.DataFrame:
    """Per support level: how often the neighbours' top vote is the true species, with every cluster
    named by its majority (what the reviewer sees after naming), over all photos and over those whose
    suggestion differs from their current name (the ones the page offers to move)."""
    k = data["k"]
    neighbours = np.array(data["neighbours"]).reshape(-1, k)
    names = majority_names(assignments, truth).to_numpy()
    species = assignments["image_id"].map(truth).to_numpy()
    top, support = neighbour_votes(neighbours, names)
    rows = []
    for level in range(1, k + 1):
        at = support == level
        moved = at & (top != names)
        rows.append(
            {
                "support": f"{level}/{k}",
                "photos": int(at.sum()),
                "precision": float((top[at] == species[at]).mean()) if at.any() else float("nan"),
                "offered_moves": int(moved.sum()),
                "precision_of_moves": float((top[moved] == species[moved]).mean()) if moved.any() else float("nan"),
            }
        )
    return pd.DataFrame(rows)


# ------------------------------------------------------------------ driving the page
SNAPSHOT_JS = """
() => Array.from(document.querySelectorAll('#sections section')).map(s => ({
  g: s.dataset.g,
  label: (s.querySelector('input.name') || {}).value || '',
  count: +((s.querySelector('h2 .count') || {textContent: '0'}).textContent.match(/\\d+/) || [0])[0],
  filled: !!s.querySelector('.grid').dataset.filled,
  more: !!s.querySelector('button.more'),
  to: (s.querySelector('button.fixmove') || {dataset: {}}).dataset.toname || '',
  from_label: (s.querySelector('button.fixmove') || {dataset: {}}).dataset.fromname || '',
  figures: Array.from(s.querySelectorAll('figure')).map(f => ({
    i: +f.dataset.i,
    id: f.title.split('\\n')[0],
    ticked: f.classList.contains('ticked'),
    precision: +(((f.querySelector('.extra .hint') || {textContent: ''}).textContent.match(/^(\\d+)%$/) || [0, -1])[1]),
    sg: Array.from(f.querySelectorAll('button.sg')).map(b => [b.dataset.to, b.dataset.name])
  }))
}))
"""


class Reviewer:
    """Counts what a person would do: every click, key and typed name is an action; scrolls apart."""

    def __init__(self, page, truth: dict[str, str]):
        self.page, self.truth = page, truth
        self.actions = {"naming": 0, "fixing": 0, "export": 0}
        self.phase = "naming"
        self.scrolls = 0
        self.ops: Counter = Counter()  # which operations the fixes used (printed)

    def act(self, n: int = 1) -> None:
        self.actions[self.phase] += n

    def on_screen(self, locator) -> bool:
        return bool(
            locator.evaluate(
                "e => { const r = e.getBoundingClientRect(); const p = e.closest('#panel');"
                " const v = p ? p.getBoundingClientRect() : {top: 0, bottom: innerHeight};"
                " return r.top >= Math.max(0, v.top) && r.bottom <= Math.min(innerHeight, v.bottom) && r.height > 0; }"
            )
        )

    def reach(self, locator) -> None:
        if not self.on_screen(locator):
            locator.scroll_into_view_if_needed()
            self.scrolls += 1

    def click(self, locator, **options) -> None:
        self.reach(locator)
        locator.click(**options)
        self.act()

    def type(self, text: str) -> None:
        self.page.keyboard.type(text)
        self.act()

    def key(self, key: str) -> None:
        self.page.keyboard.press(key)
        self.act()

    def snapshot(self) -> list[dict]:
        return self.page.evaluate(SNAPSHOT_JS)

    def section(self, g: str) -> dict | None:
        return next((s for s in self.snapshot() if s["g"] == g), None)

    def look_at(self, g: str) -> dict:
        """The section's photos on screen, every one of them (scrolls there, shows the rest)."""
        locator = self.page.locator(f'section[data-g="{g}"]')
        section = self.section(g)
        if not section["filled"]:
            locator.locator("h2").scroll_into_view_if_needed()
            self.scrolls += 1
            filled = f"""document.querySelector('section[data-g="{g}"] .grid').dataset.filled"""
            try:
                self.page.wait_for_function(filled, timeout=5000)
            except Exception:  # the heading in view, the grid not near enough yet: the grid itself
                print(f"    (look_at {g}: heading in view, grid not filled; scrolling to the grid)", flush=True)
                locator.locator(".grid").scroll_into_view_if_needed()
                self.page.wait_for_function(filled, timeout=10000)
            section = self.section(g)
        while section["more"]:
            self.click(locator.locator("button.more"))
            section = self.section(g)
        return section

    def majority(self, figures: list[dict]) -> str:
        return Counter(self.truth[f["id"]] for f in figures).most_common(1)[0][0]

    def export(self, target: Path) -> None:
        self.phase = "export"
        with self.page.expect_download() as download:
            self.key("e")
        target.parent.mkdir(parents=True, exist_ok=True)
        download.value.save_as(target)

    def runs(self, figures: list[dict], species: str) -> list[list[dict]]:
        """Maximal runs of consecutive photos of ``species`` (what click + shift-click selects)."""
        found, current = [], []
        for figure in figures:
            if self.truth[figure["id"]] == species:
                current.append(figure)
            elif current:
                found.append(current)
                current = []
        return found + ([current] if current else [])

    def select_run(self, g: str, run: list[dict]) -> None:
        self.click(self.page.locator(f'section[data-g="{g}"] figure[data-i="{run[0]["i"]}"]'))
        if len(run) > 1:
            self.click(self.page.locator(f'section[data-g="{g}"] figure[data-i="{run[-1]["i"]}"]'), modifiers=["Shift"])


class BaselineReviewer(Reviewer):
    def review(self) -> None:
        named: dict[str, str] = {}  # species -> group
        for section in self.snapshot():
            g = section["g"]
            if g == "doubtful":
                continue
            figures = self.look_at(g)["figures"]
            species = self.majority(figures)
            if species in named:
                self.reach(self.page.locator(f'select[data-merge="{g}"]'))
                self.page.select_option(f'select[data-merge="{g}"]', named[species])
                self.act()
                continue
            self.click(self.page.locator(f'input[data-name="{g}"]'))
            self.type(species)
            self.key("Enter")
            named[species] = g
        self.phase = "fixing"
        label_of = {g: species for species, g in named.items()}
        for section in self.snapshot():
            g = section["g"]
            while True:
                figures = self.look_at(g)["figures"]
                wrong = [f for f in figures if self.truth[f["id"]] != label_of.get(g)]
                if not wrong:
                    break
                species = self.truth[wrong[0]["id"]]
                run = self.runs(figures, species)[0]
                self.select_run(g, run)
                if species in named:
                    self.page.select_option("#moveTo", named[species])
                    self.act()
                else:
                    self.page.select_option("#moveTo", "__new")
                    self.act()
                    self.page.fill("#newName", species)
                    self.act()
                self.click(self.page.locator("#moveBtn"))
                if species not in named:
                    named[species] = self.page.evaluate(
                        "() => Array.from(document.querySelectorAll('#moveTo option')).filter(o => o.value.startsWith('g')).pop().value"
                    )
                    label_of[named[species]] = species


class VoteReviewer(Reviewer):
    """The strategy for the page before issue 34 (neighbour votes, accept all with ✗ keep)."""

    def review(self) -> None:
        sections = [s for s in self.snapshot() if s["g"] not in ("doubtful", "suggest")]
        self.click(self.page.locator(f'input[data-name="{sections[0]["g"]}"]'))
        self.name_from_focus()
        self.phase = "fixing"
        self.fix_all()

    def name_from_focus(self) -> None:
        """Type each cluster's majority name, from the focused name box on (Enter moves to the next unnamed)."""
        while True:
            g = self.page.evaluate("() => document.activeElement && document.activeElement.dataset.name")
            if not g:
                break
            figures = self.look_at(g)["figures"]
            self.page.locator(f'input[data-name="{g}"]').focus()  # looking did not move the focus
            self.type(self.majority(figures))
            self.key("Enter")

    def fix_all(self) -> None:
        for round_number in range(10):
            self.bulk_step(round_number)
            remaining = {g: self.fix_by_buttons(g) for g in self.groups()}
            species = Counter(self.truth[f["id"]] for figures in remaining.values() for f in figures)
            if not species:
                return
            for name, _ in species.most_common():
                self.gather_and_move(name, [g for g, figures in remaining.items() if figures])

    def bulk_step(self, round_number: int) -> None:
        """What the page offers for many photos at once, before the photo-by-photo fixes of a round."""
        self.bulk_accept()

    def groups(self) -> list[str]:
        return [s["g"] for s in self.snapshot() if s["g"] != "suggest" and not s["g"].startswith("fix:")]

    def misfits(self, section: dict) -> list[dict]:
        return [f for f in section["figures"] if self.truth[f["id"]] != section["label"]]

    def bulk_accept(self) -> None:
        """Keep the wrong suggestions, accept the rest in one click, when cheaper than one click each."""
        while self.section("suggest"):
            figures = self.look_at("suggest")["figures"]
            right = [f for f in figures if f["sg"] and f["sg"][0][1] == self.truth[f["id"]]]
            wrong = [f for f in figures if f not in right]
            if len(wrong) + 1 >= len(right):
                return
            self.ops["bulk accept"] += 1
            self.ops["bulk accepted"] += len(right)
            for figure in wrong:
                self.click(self.page.locator(f'section[data-g="suggest"] figure[data-i="{figure["i"]}"] button.keep'))
            self.click(self.page.locator("#acceptShown"))

    def fix_by_buttons(self, g: str) -> list[dict]:
        """Click the "-> name" button of every misfiled photo of the section that names its species;
        return the misfiled photos left."""
        while True:
            if self.section(g) is None:
                return []
            section = self.look_at(g)
            wrong = self.misfits(section)
            hit = next(((f, to) for f in wrong for to, name in f["sg"] if name == self.truth[f["id"]]), None)
            if hit is None:
                return wrong
            figure, to = hit
            self.ops["suggestion button"] += 1
            photo = self.page.locator(f'section[data-g="{g}"] figure[data-i="{figure["i"]}"]')
            self.reach(photo)
            photo.hover()  # a photo in its cluster's core shows its alternatives under the pointer (not an action)
            self.click(photo.locator(f'button.sg[data-to="{to}"]'))

    def gather_and_move(self, species: str, groups: list[str]) -> None:
        """Select every misfiled photo of ``species`` in ``groups`` (runs: click, shift-click), then move
        them in one go: a click on the name in the side panel, or m, the name, Enter."""
        found = []
        for g in groups:
            if self.section(g) is None:
                continue
            section = self.look_at(g)
            if section["label"] != species:
                found += [(g, run) for run in self.runs(section["figures"], species)]
        if not found:
            return
        entry = self.page.locator(f"#entries div[data-label={json.dumps(species)}]")
        if entry.count() and all(len(run) == 1 for _, run in found):
            # lone photos: one drag each onto the name (cheaper than selecting each, then one click)
            for g, run in found:
                photo = self.page.locator(f'section[data-g="{g}"] figure[data-i="{run[0]["i"]}"]')
                if not photo.count():
                    continue
                self.reach(photo)
                self.ops["drag to the panel"] += 1
                photo.drag_to(entry)  # one gesture: press, move, release
                self.act()
            return
        for g, run in found:
            self.select_run(g, run)
            self.ops[f"run of {min(len(run), 3)}{'+' if len(run) >= 3 else ''}"] += 1
        if entry.count():
            self.ops["panel move"] += 1
            self.click(entry)
        else:
            self.ops["new name"] += 1
            self.key("m")
            self.type(species)
            self.key("Enter")


class FixesReviewer(VoteReviewer):
    """Today's page: name every cluster, then the fixes view (f): each group "N in A -> B" moved in one
    action when that costs less than one click per right photo there (unticking the wrong ones, ticking
    the right unticked ones first); the one-click accept whenever the page offers it (trusting the
    page's measured precision, as the level is meant; its true precision is recorded). What is left is
    fixed as the page before did: -> buttons, runs moved to the side panel, new names."""

    def __init__(self, page, truth):
        super().__init__(page, truth)
        self.offered: list[dict] = []  # each accept the page offered: photos and how many truly right

    def review(self) -> None:
        unnamed = [s for s in self.snapshot() if not s["g"].startswith(("doubtful", "fix:")) and not s["label"]]
        if unnamed:  # a week's page: the groups of photos assigned to reviewed species are named already
            self.click(self.page.locator(f'input[data-name="{unnamed[0]["g"]}"]'))
            self.name_from_focus()
            self.page.evaluate("() => document.activeElement.blur()")
        self.phase = "fixing"
        self.fix_all()
        self.page.keyboard.press("f")  # the check below is the bench's, not the reviewer's: not counted
        self.offered_after_review = self.acceptable() if self.page.locator("#acceptAllBtn").is_visible() else []
        self.page.keyboard.press("f")

    def bulk_step(self, round_number: int) -> None:
        """The fixes view in the first round, and again whenever the one-click accept is offered."""
        if round_number == 0 or self.page.locator("#acceptAllBtn").is_visible():
            self.fixes_view()

    def acceptable(self) -> list[tuple[dict, str]]:
        """In the fixes view: the photos the one-click accept would move, with their target."""
        return [
            (f, s["to"])
            for s in self.snapshot()
            if s["g"].startswith("fix:")
            for f in self.look_at(s["g"])["figures"]
            if f["precision"] >= 95
        ]

    def fixes_view(self) -> None:
        """One pass over the fixes view: the one-click accept while offered; then every group's ticks set
        to the truth (or the group kept whole, when cheaper), and one click moves every ticked photo."""
        self.key("f")
        for _ in range(60):  # each pass: one keep, or every group's ticks and one move
            while self.page.locator("#acceptAllBtn").is_visible():
                items = self.acceptable()
                right = sum(self.truth[f["id"]] == to for f, to in items)
                self.offered.append({"photos": len(items), "right": right})
                self.ops["accept"] += 1
                self.click(self.page.locator("#acceptAllBtn"))
            if not self.fix_one_group():
                break
        self.key("f")

    def fix_one_group(self) -> bool:
        """The first group worth its own move: where fixing its ticks plus one click costs less than one
        click per photo it sets right (what the photos' -> buttons would cost at best): ticks set to the
        truth (an unticked photo is not offered that name again), moved. A group whose photos are all
        right where they are is kept whole. False: no group is worth an action."""
        for section in self.snapshot():
            if not section["g"].startswith("fix:"):
                continue
            g = section["g"]
            figures = self.look_at(g)["figures"]
            right = [f for f in figures if self.truth[f["id"]] == section["to"]]
            flips = [f for f in figures if f["ticked"] != (f in right)]
            if not right:
                if len(figures) > 1 and all(self.truth[f["id"]] == section["from_label"] for f in figures):
                    self.ops["group kept"] += 1
                    self.click(self.page.locator(f'section[data-g="{g}"] button.fixkeep'))
                    return True
                continue
            if len(flips) + 1 >= len(right):
                continue
            for figure in flips:
                self.click(self.page.locator(f'section[data-g="{g}"] figure[data-i="{figure["i"]}"]'))
            self.ops["group move"] += 1
            self.ops["group moved photos"] += len(right)
            self.click(self.page.locator(f'section[data-g="{g}"] button.fixmove'))
            return True
        return False


# ------------------------------------------------------------------ one review, checked
def final_accuracy(run_dir: Path, truth: dict[str, str]) -> tuple[float, int]:
    """(share of photos in final/<their species>/, photos accounted for in final/)."""
    right = found = 0
    for path in (run_dir / "final").rglob("*"):
        if path.is_dir() or path.name.startswith("final."):
            continue
        label, image_id = (
            path.relative_to(run_dir / "final").parts[0],
            "/".join(path.relative_to(run_dir / "final").parts[1:]),
        )
        if image_id not in truth:
            continue
        found += 1
        right += label == truth[image_id]
    return right / len(truth), found


def launch_chromium(playwright):
    """The bench's one way to start Debian's Chromium."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def review_once(workdir: Path, config_path: Path, page_path: Path, truth: dict, reviewer_class, page_name: str) -> dict:
    from playwright.sync_api import sync_playwright

    run_dir = workdir / "results/sort/inbox"
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(page_path.as_uri())
        page.wait_for_selector("body[data-ready]")
        reviewer = reviewer_class(page, truth)
        started = time.perf_counter()
        reviewer.review()
        seconds = time.perf_counter() - started
        if page_name == "current":
            page.screenshot(path=str(workdir / f"review-{page_name}.png"))
        reviewer.export(workdir / "reviews/inbox.csv")
        browser.close()
    if errors:
        raise RuntimeError(f"page errors: {errors[:3]}")
    snakemake(workdir, config_path)
    accuracy, found = final_accuracy(run_dir, truth)
    if reviewer.ops:
        print(f"    operations ({page_name}): {dict(reviewer.ops)}", flush=True)
    offered = getattr(reviewer, "offered", [])
    for number, accept in enumerate(offered, 1):
        print(f"    accept {number} offered: {accept['right']} of {accept['photos']} right", flush=True)
    return {
        "accepts_offered": len(offered),
        "accepted_photos": sum(a["photos"] for a in offered),
        "accepted_right": sum(a["right"] for a in offered),
        "accept_offered_after_review": len(getattr(reviewer, "offered_after_review", [])),
        "actions": reviewer.actions,
        "scrolls": reviewer.scrolls,
        "final_accuracy": accuracy,
        "photos_in_final": found,
        "drive_s": seconds,
    }


def bench_inbox(name: str, inbox: Path, truth: dict, clusterer: dict, run: dict, workdir: Path) -> list[dict]:
    sys.path.insert(0, str(REPO / "bench" / "baseline"))
    import page as baseline_page
    from previous_page.page import render_previous_page

    workdir.mkdir(parents=True, exist_ok=True)
    config_path = workdir / "config.yaml"
    config_path.write_text(yaml.safe_dump(sort_config(inbox, clusterer, run), sort_keys=False))
    shutil.rmtree(workdir / "reviews", ignore_errors=True)
    snakemake(workdir, config_path, "--forcerun", "sort_review_page")  # the page of this code, not a cached one
    run_dir = workdir / "results/sort/inbox"
    assignments = ASSIGNMENTS.read(run_dir / "assignments.csv")
    names = majority_names(assignments, truth)
    species = assignments["image_id"].map(truth)
    misfiled = int((names != species).sum())
    print(f"  after naming by majority ({name}, {clusterer['method']}): {fix_floor(assignments, truth)}", flush=True)
    data = page_json(run_dir / "review.html")
    thumbs = {i: t for i, t in zip(data["ids"], data["thumbs"])}
    baseline_path = run_dir / "review-baseline.html"
    baseline_path.write_text(baseline_page.render_review_page("inbox", assignments, thumbs))
    previous_path = run_dir / "review-previous.html"
    previous_path.write_text(render_previous_page(data))
    rows = []
    for page_name, reviewer_class, path in (  # the same sort, three pages
        ("baseline", BaselineReviewer, baseline_path),
        ("previous", VoteReviewer, previous_path),
        ("current", FixesReviewer, run_dir / "review.html"),
    ):
        result = review_once(workdir, config_path, path, truth, reviewer_class, page_name)
        actions = sum(result["actions"].values())
        fix = result["actions"]["fixing"]
        rows.append(
            {
                "name": f"review {name} {clusterer['method']}{' species list' if 'species' in run else ''} {page_name}",
                "inbox": name,
                "clusterer": clusterer["method"] + (f" k={run['k']}" if "k" in run else ""),
                "species_list": len(run.get("species", [])),
                "page": page_name,
                "photos": len(truth),
                "actions": actions,
                "actions_per_photo": actions / len(truth),
                "naming_actions": result["actions"]["naming"],
                "fix_actions": fix,
                "export_actions": result["actions"]["export"],
                "misfiled_after_naming": misfiled,
                "fix_actions_per_misfiled": fix / misfiled if misfiled else 0.0,
                "scrolls": result["scrolls"],
                "accuracy_before_review": 1 - misfiled / len(truth),
                "final_accuracy": result["final_accuracy"],
                "photos_in_final": result["photos_in_final"],
                "accepts_offered": result["accepts_offered"],
                "accepted_photos": result["accepted_photos"],
                "accepted_precision": (
                    result["accepted_right"] / result["accepted_photos"] if result["accepted_photos"] else float("nan")
                ),
                "accept_offered_after_review": result["accept_offered_after_review"],
            }
        )
        print(
            f"  {rows[-1]['name']}: {actions} actions ({actions / len(truth):.2f} per photo; naming "
            f"{result['actions']['naming']}, fixing {fix} = {rows[-1]['fix_actions_per_misfiled']:.2f} per misfiled "
            f"photo of {misfiled}), {result['scrolls']} scrolls, accuracy {1 - misfiled / len(truth):.3f} -> "
            f"{result['final_accuracy']:.3f} ({result['photos_in_final']} of {len(truth)} photos in final/)",
            flush=True,
        )
    if name == "oxford" and clusterer["method"] == "ward" and "species" not in run:
        print("  screenshots:", ", ".join(str(p) for p in screenshots(run_dir / "review.html", truth, workdir)))
        print("  adjacent pairs of the same species:", flush=True)
        for key, value in order_measures(data, truth).items():
            print(f"    {key}: {value:.3f}", flush=True)
        print("  neighbour suggestions (every cluster named by its majority), precision per support level:")
        print(suggestion_precision(data, assignments, truth).to_string(index=False, float_format="%.3f"), flush=True)
    return rows


def bench_review(out: Path, pets: Path | None, quick: bool = False) -> list[dict]:
    if CHROMIUM is None:
        raise SystemExit("bench review needs Debian's chromium (apt-get install chromium)")
    rows = []
    inboxes = []
    if pets is not None and pets.is_dir():
        truth = oxford_inbox(pets, out / "oxford-inbox") if not (out / "oxford-inbox").exists() else None
        if truth is None:
            truth = json.loads((out / "oxford-truth.json").read_text())
        (out / "oxford-truth.json").write_text(json.dumps(truth))
        inboxes += [
            ("oxford", out / "oxford-inbox", truth, {"method": "ward"}, {"k": 37}),
            ("oxford", out / "oxford-inbox", truth, {"method": "hdbscan"}, {"expected_group_size": 10}),
            # the same with the breeds as the run's species list (sort.<run>.species), as a survey has one
            (
                "oxford",
                out / "oxford-inbox",
                truth,
                {"method": "ward"},
                {"k": 37, "species": sorted(set(truth.values()))},
            ),
        ]
    else:
        print("  (ZSC_OXFORD_PETS not set: the Oxford rows are skipped)")
    per_species = 40 if quick else 200
    generated = out / f"generated-{10 * per_species}"
    truth_file = out / f"generated-{10 * per_species}-truth.json"
    if not generated.exists():
        truth_file.write_text(json.dumps(generated_inbox(generated, per_species=per_species)))
    inboxes.append(
        (f"generated{10 * per_species}", generated, json.loads(truth_file.read_text()), {"method": "ward"}, {"k": 10})
    )
    per_lookalike = 20 if quick else 60  # about the held-out birds' photos per species (59)
    lookalike = out / f"lookalike-{20 * per_lookalike}"
    lookalike_truth = out / f"lookalike-{20 * per_lookalike}-truth.json"
    if not lookalike.exists():
        lookalike_truth.write_text(json.dumps(generated_inbox(lookalike, 20, per_lookalike, lookalikes=True)))
    inboxes.append(
        (
            f"lookalike{20 * per_lookalike}",
            lookalike,
            json.loads(lookalike_truth.read_text()),
            {"method": "ward"},
            {"k": 20},
        )
    )
    for name, inbox, truth, clusterer, run in inboxes:
        listed = "-species-list" if "species" in run else ""
        rows += bench_inbox(name, inbox, truth, clusterer, run, out / f"review-{name}-{clusterer['method']}{listed}")
    return rows


def screenshots(page_path: Path, truth: dict[str, str], out: Path) -> list[Path]:
    """The page as the README shows it: a few clusters named, the large view, the map with a lasso."""
    from playwright.sync_api import sync_playwright

    shots = []
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_context(viewport=VIEWPORT).new_page()
        page.goto(page_path.as_uri())
        page.wait_for_selector("body[data-ready]")
        reviewer = Reviewer(page, truth)
        for section in [s for s in reviewer.snapshot() if s["g"].startswith("c")][:6]:
            figures = reviewer.look_at(section["g"])["figures"]
            page.fill(f'input[data-name="{section["g"]}"]', reviewer.majority(figures))
            page.press(f'input[data-name="{section["g"]}"]', "Enter")
        page.evaluate("() => window.scrollTo(0, 0)")
        marker = page.locator(".coreend").first
        marker.scroll_into_view_if_needed()
        page.evaluate("() => window.scrollBy(0, -420)")
        shots.append(out / "review-page.jpg")
        page.screenshot(path=str(shots[-1]), quality=80, type="jpeg")
        page.locator("section[data-g^='c'] figure").nth(2).dblclick()
        shots.append(out / "review-large-view.jpg")
        page.screenshot(path=str(shots[-1]), quality=80, type="jpeg")
        page.keyboard.press("Escape")
        page.keyboard.press("p")
        box = page.locator("#mapCanvas").bounding_box()
        x, y, w = box["x"], box["y"], box["width"]
        page.mouse.move(x + w * 0.30, y + w * 0.30)
        page.mouse.down()
        for fx, fy in ((0.45, 0.28), (0.5, 0.45), (0.38, 0.52), (0.28, 0.42), (0.30, 0.30)):
            page.mouse.move(x + w * fx, y + w * fy, steps=6)
        page.mouse.up()
        shots.append(out / "review-map.jpg")
        page.screenshot(path=str(shots[-1]), quality=80, type="jpeg")
        page.keyboard.press("Escape")
        for section in [s for s in reviewer.snapshot() if s["g"].startswith("c") and not s["label"]]:
            figures = reviewer.look_at(section["g"])["figures"]
            page.fill(f'input[data-name="{section["g"]}"]', reviewer.majority(figures))
            page.press(f'input[data-name="{section["g"]}"]', "Enter")
        page.evaluate("() => document.activeElement.blur()")
        page.keyboard.press("f")
        page.locator("section.fix figure").first.click()  # one photo unticked
        page.evaluate("() => window.scrollTo(0, 0)")
        shots.append(out / "review-fixes.jpg")
        page.screenshot(path=str(shots[-1]), quality=80, type="jpeg")
        browser.close()
    return shots


# ------------------------------------------------------------------ paint budget at a season's size
CLICK_AND_PAINT_JS = """async (selector) => {
  const started = performance.now();
  document.querySelector(selector).click();
  await new Promise(done => requestAnimationFrame(() => setTimeout(done, 0)));  // the frame after it painted
  return performance.now() - started;
}"""


def season_page(out: Path, n: int, clusters: int, misfiled: float, seed: int = 0) -> Path:
    """A review page of ``n`` generated entries in ``clusters`` clusters (a share ``misfiled`` of each
    placed in the cluster of a lookalike species), with synthetic 64-d embeddings: the page's own
    computations at a season's size, not a model's (one real thumbnail file shared)."""
    from PIL import Image

    from zsc.sorting.page import render_review_page, review_extras

    rng = np.random.default_rng(seed)
    species = rng.integers(0, clusters, n)
    centres = rng.normal(size=(clusters, 64))
    embeddings = centres[species] + 0.5 * rng.normal(size=(n, 64))
    cluster = np.where(rng.random(n) < misfiled, (species + 1) % clusters, species)
    assignments = pd.DataFrame(
        {
            "image_id": [f"cam{i % 9}/IMG_{i:06d}.jpg" for i in range(n)],
            "cluster": cluster,
            "doubtful": False,
            "reason": "",
            "nearest_cluster": cluster,
            "distance_to_cluster": 0.0,
            "map_x": embeddings[:, 0],
            "map_y": embeddings[:, 1],
        }
    )
    out.mkdir(parents=True, exist_ok=True)
    (out / "thumbnails").mkdir(exist_ok=True)
    Image.new("RGB", (160, 160), (90, 120, 60)).save(out / "thumbnails/a.jpg")
    extras = review_extras(assignments, embeddings)
    page_path = out / f"season-{n}.html"
    thumbs = {i: "thumbnails/a.jpg" for i in assignments["image_id"]}
    page_path.write_text(render_review_page("season", assignments, thumbs, extras=extras))
    return page_path


def paint_timings(out: Path) -> list[dict]:
    """Milliseconds from a click to the next painted frame on a 5,902-photo, 100-cluster page (every
    cluster named, 15 % misfiled): a batch move in the fixes view, then the one-click accept once the
    judged moves measured its precision; and the page's ready time at 100,000 entries."""
    from playwright.sync_api import sync_playwright

    rows = []
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_context(viewport=VIEWPORT).new_page()
        page.goto(season_page(out, 5_902, 100, 0.15).as_uri())
        page.wait_for_selector("body[data-ready]")
        page.evaluate(  # every cluster named, as typed in its heading
            """() => document.querySelectorAll('input.name').forEach(box => {
                 box.value = 'species ' + box.dataset.name.slice(1); box.dispatchEvent(new Event('change', {bubbles: true})); })"""
        )
        page.keyboard.press("f")
        moves = []
        while not page.locator("#acceptAllBtn").is_visible() and page.locator("button.fixmove").count():
            moves.append(page.evaluate(CLICK_AND_PAINT_JS, "section.fix button.fixmove:not([disabled])"))
        accept = (
            page.evaluate(CLICK_AND_PAINT_JS, "#acceptAllBtn") if page.locator("#acceptAllBtn").is_visible() else None
        )
        rows.append(
            {"name": "paint 5902/100 batch move ms (median)", "ms": float(np.median(moves)), "moves": len(moves)}
        )
        rows.append({"name": "paint 5902/100 accept ms", "ms": accept})
        page = browser.new_context(viewport=VIEWPORT).new_page()
        page.goto(season_page(out, 100_000, 100, 0.15).as_uri())
        page.wait_for_selector("body[data-ready]")
        rows.append(
            {"name": "page ready 100000 ms", "ms": float(page.get_attribute("body", "data-ready")), "paint": True}
        )
        browser.close()
    for row in rows:
        print(f"  {row['name']}: {row['ms'] if row['ms'] is None else round(row['ms'])}", flush=True)
    return rows
