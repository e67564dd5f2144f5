"""The review page in real Chromium, on a real sort run (a sort-only config run by Snakemake: generated
demo photos, a random-weight model, PCA + Ward): similarity order, large view, live neighbour
suggestions, split, lasso, side panel, type-ahead, vocabulary, done/hide, and export -> apply from the
conventional path without a config edit. The season-sized page (100,000 entries) is generated data."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from conftest import needs_chromium, open_page, page_data, run_snakemake, tiny_config, write_config

pytestmark = [pytest.mark.slow, needs_chromium]
SPECIES = ["Red fox", "Roe deer", "Wild boar", "Bécasse"]  # the run's vocabulary (sort.<run>.species)


def sort_only_config() -> dict:
    return {
        "models": tiny_config()["models"],  # the random-weight MobileNetV2 of the plumbing tests
        "reducers": {"pca": {"method": "pca", "n_components": 2}},
        "clusterers": {"ward": {"method": "ward"}},
        "sort": {
            "inbox": {
                "demo": {"n_species": 4, "per_species": 12, "seed": 4, "size": 96, "nested": False},
                "setting": {"model": "rand_mnv2", "reducer": "pca", "clusterer": "ward"},
                "k": 4,
                "min_silhouette": 0.05,
                "species": SPECIES,
            }
        },
    }


@pytest.fixture(scope="module")
def sorted_run(tmp_path_factory, numba_cache):
    workdir = tmp_path_factory.mktemp("review_page")
    run_snakemake(workdir, write_config(workdir, sort_only_config()))
    return workdir


def own_copy(workdir: Path, tmp_path: Path) -> Path:
    """A copy of a finished run (links as links, times kept, so Snakemake sees it up to date)."""
    import shutil

    copy = tmp_path / "run"
    shutil.copytree(workdir, copy, symlinks=True)
    assert str(workdir) not in (copy / "config.yaml").read_text()  # paths relative to the run: the copy is whole
    return copy


def section_ids(page, g: str) -> list[int]:
    return page.evaluate(
        f"""() => Array.from(document.querySelectorAll('section[data-g="{g}"] figure')).map(f => +f.dataset.i)"""
    )


def cluster_groups(page) -> list[str]:
    return page.evaluate(
        "() => Array.from(document.querySelectorAll('#sections section')).map(s => s.dataset.g).filter(g => g[0] === 'c')"
    )


def name(page, g: str, text: str) -> None:
    page.fill(f'input[data-name="{g}"]', text)
    page.press(f'input[data-name="{g}"]', "Enter")


def test_a_sort_only_config_sorts_and_writes_the_page_with_its_neighbours(sorted_run):
    run_dir = sorted_run / "results/sort/inbox"
    data = page_data(run_dir)
    assert len(data["ids"]) == 48 and data["k"] == 10
    neighbours = np.array(data["neighbours"]).reshape(48, 10)
    assert not (neighbours == np.arange(48)[:, None]).any()  # never its own neighbour
    assert sorted(data["order"]) == list(range(48))
    assert data["vocabulary"] == SPECIES
    assert data["apply"]["csv"] == "reviews/inbox.csv"
    assert len(data["map"]) == 96
    # the large view's previews are bounded copies, never the original bytes
    preview = run_dir / (data["preview_prefix"] + data["previews"][0])
    with Image.open(preview) as image:
        assert max(image.size) <= 1024
    assert not (sorted_run / "datasets").exists() and not (sorted_run / "results/demo").exists()


def test_similarity_order_with_its_core_marker_is_stable_across_reloads(sorted_run, browser):
    run_dir = sorted_run / "results/sort/inbox"
    data = page_data(run_dir)
    page = open_page(browser, run_dir / "review.html")
    rank = {i: r for r, i in enumerate(data["order"])}
    before = {g: section_ids(page, g) for g in cluster_groups(page)}
    for g, shown in before.items():
        home = int(g[1:])
        core = [i for i in shown if data["core"][i] and data["cluster"][i] == home]
        assert shown[: len(core)] == sorted(core, key=rank.get)  # core first, in the run's similarity order
        rest = shown[len(core) :]
        assert rest == sorted(rest, key=rank.get)
        marker = page.locator(f'section[data-g="{g}"] .coreend')
        assert marker.count() == (1 if core and rest else 0)
    page.reload()
    page.wait_for_selector("body[data-ready]")
    assert {g: section_ids(page, g) for g in cluster_groups(page)} == before
    # the strip: every photo once, in the one similarity order
    page.keyboard.press("v")
    assert section_ids(page, "strip")[:120] == data["order"][:120]


def test_large_view_opens_with_double_click_and_space_and_steps_with_the_arrows(sorted_run, browser):
    page = open_page(browser, sorted_run / "results/sort/inbox/review.html")
    g = cluster_groups(page)[0]
    shown = section_ids(page, g)
    page.locator(f'section[data-g="{g}"] figure[data-i="{shown[0]}"]').dblclick()
    viewer = page.locator("#viewer")
    assert viewer.is_visible()
    data = page_data(sorted_run / "results/sort/inbox")
    assert data["ids"][shown[0]] in viewer.inner_text()
    assert "thumbnails/large/" in viewer.locator("img.big").get_attribute("src")
    assert viewer.locator(".strip img").count() == 10  # its nearest photos
    page.keyboard.press("ArrowRight")
    assert data["ids"][shown[1]] in viewer.inner_text() and "photo 2 of" in viewer.inner_text()
    page.keyboard.press("ArrowLeft")
    assert data["ids"][shown[0]] in viewer.inner_text()
    page.keyboard.press("Escape")
    assert viewer.is_hidden()
    page.locator(f'section[data-g="{g}"] figure[data-i="{shown[2]}"]').click()
    page.keyboard.press(" ")
    assert viewer.is_visible() and data["ids"][shown[2]] in viewer.inner_text()


def test_suggestions_follow_the_names_given_with_their_estimated_precision(sorted_run, browser):
    data = page_data(sorted_run / "results/sort/inbox")
    page = open_page(browser, sorted_run / "results/sort/inbox/review.html")
    assert page.locator("button.sg").count() == 0  # nothing named: nothing to suggest
    first = cluster_groups(page)[0]
    name(page, first, "Red fox")
    outside = page.evaluate(  # the photos on screen outside the named cluster
        f"""() => Array.from(document.querySelectorAll('section:not([data-g="{first}"]) figure')).map(f => +f.dataset.i)"""
    )
    assert outside and len(data["ids"]) > len(outside)
    # the classifier knows one name: every photo without a name is offered it
    for i in outside[:10]:
        text = page.locator(f'figure[data-i="{i}"] button.sg').first.text_content()
        assert text == "→ Red fox", text  # no precision before any suggestion is judged
    second = cluster_groups(page)[1]
    name(page, second, "Roe deer")
    assert page.locator("button.sg", has_text="Roe deer").count() > 0  # refitted on the new name at once


def test_split_makes_the_sub_groups_and_undo_restores(sorted_run, browser):
    data = page_data(sorted_run / "results/sort/inbox")
    page = open_page(browser, sorted_run / "results/sort/inbox/review.html")
    splittable = [g for g in cluster_groups(page) if page.locator(f'button[data-split="{g}"]').count()]
    assert splittable, "no cluster of the run has sub-groups"
    g = splittable[0]
    members = section_ids(page, g)
    page.click(f'button[data-split="{g}"]')
    parts = {}
    for i in members:
        parts.setdefault(data["sub"][i], []).append(i)
    assert sorted(section_ids(page, g)) == sorted(parts[0])
    new_groups = page.evaluate(
        "() => Array.from(document.querySelectorAll('#sections section')).map(s => s.dataset.g).filter(g => g[0] === 'g')"
    )
    assert sorted(sorted(section_ids(page, n)) for n in new_groups) == sorted(
        sorted(ids) for part, ids in parts.items() if part > 0
    )
    name(page, new_groups[0], "Wild boar")
    page.keyboard.press("Escape")
    page.keyboard.press("u")
    page.keyboard.press("u")
    assert sorted(section_ids(page, g)) == sorted(members)


def test_lasso_on_the_map_selects_the_points_inside_and_feeds_the_move(sorted_run, browser):
    data = page_data(sorted_run / "results/sort/inbox")
    page = open_page(browser, sorted_run / "results/sort/inbox/review.html")
    page.keyboard.press("p")
    canvas = page.locator("#mapCanvas")
    box = canvas.bounding_box()
    size = box["width"]
    points = np.array(data["map"]).reshape(-1, 2) / 10000 * (size - 16) + 8
    # a rectangle around the left half of the map, drawn as a person drags
    corners = [(2, 2), (size / 2, 2), (size / 2, size - 2), (2, size - 2)]
    page.mouse.move(box["x"] + corners[0][0], box["y"] + corners[0][1])
    page.mouse.down()
    for x, y in corners[1:] + corners[:1]:
        page.mouse.move(box["x"] + x, box["y"] + y, steps=4)
    page.mouse.up()
    inside = set(np.flatnonzero(points[:, 0] < size / 2).tolist())
    assert 0 < len(inside) < len(points)
    assert page.inner_text("#mapSel") == f"{len(inside)} selected"
    # shift + a second lasso adds the lower right quarter; a plain one would replace the selection
    page.keyboard.down("Shift")
    corners = [(size / 2 + 2, size / 2), (size - 2, size / 2), (size - 2, size - 2), (size / 2 + 2, size - 2)]
    page.mouse.move(box["x"] + corners[0][0], box["y"] + corners[0][1])
    page.mouse.down()
    for x, y in corners[1:] + corners[:1]:
        page.mouse.move(box["x"] + x, box["y"] + y, steps=4)
    page.mouse.up()
    page.keyboard.up("Shift")
    quarter = set(np.flatnonzero((points[:, 0] > size / 2 + 2) & (points[:, 1] > size / 2)).tolist())
    inside |= quarter
    assert page.inner_text("#mapSel") == f"{len(inside)} selected"
    page.keyboard.press("m")  # closes the map, asks for the name
    page.keyboard.type("Wild boar")
    page.keyboard.press("Enter")
    moved = page.evaluate(
        "() => Array.from(document.querySelectorAll('section')).filter(s => (s.querySelector('.title') || {}).textContent === 'Wild boar')"
        ".flatMap(s => Array.from(s.querySelectorAll('figure')).map(f => +f.dataset.i))"
    )
    assert set(moved) == inside


def test_side_panel_drop_search_and_type_ahead_move(sorted_run, browser):
    page = open_page(browser, sorted_run / "results/sort/inbox/review.html")
    first, second = cluster_groups(page)[:2]
    name(page, first, "Red fox")
    name(page, second, "Roe deer")
    dragged, typed = section_ids(page, first)[:2]
    page.locator(f'section[data-g="{first}"] figure[data-i="{dragged}"]').drag_to(
        page.locator('#entries div[data-label="Roe deer"]')
    )
    assert dragged in section_ids(page, second)
    # the panel lists names alphabetically, with counts, then the species list's unused names; search filters it
    labels = page.evaluate(
        "() => Array.from(document.querySelectorAll('#entries div:not([data-vocab])')).map(e => e.dataset.label)"
        ".filter(Boolean)"
    )
    assert labels == ["Red fox", "Roe deer"]
    assert panel_species(page) == ["Bécasse", "Wild boar"]
    page.fill("#search", "roe")
    assert page.locator("#entries div").count() == 1
    page.fill("#search", "")
    # a click on an unused name of the species list: the selection becomes a new group of that name
    listed = next(i for i in section_ids(page, second) if i != dragged)
    page.locator(f'section[data-g="{second}"] figure[data-i="{listed}"]').click()
    page.locator('#entries div[data-vocab][data-label="Wild boar"]').click()
    boar = page.evaluate(
        "() => Array.from(document.querySelectorAll('section')).find(s => s.querySelector('.title') &&"
        " s.querySelector('.title').textContent === 'Wild boar').dataset.g"
    )
    assert section_ids(page, boar) == [listed]
    assert panel_species(page) == ["Bécasse"]
    assert page.locator('#entries div:not([data-vocab])[data-label="Wild boar"] .n').inner_text() == "1"
    # m, a name typed in another case, Enter: the existing group
    page.locator(f'section[data-g="{first}"] figure[data-i="{typed}"]').click()
    page.keyboard.press("m")
    assert page.locator("#mover").is_visible()
    options = page.evaluate("() => Array.from(document.querySelectorAll('#names option')).map(o => o.value)")
    assert options == ["Bécasse", "Red fox", "Roe deer", "Wild boar"]  # given names and the list, alphabetical
    page.keyboard.type("ROE DEER")
    page.keyboard.press("Enter")
    assert typed in section_ids(page, second)
    assert page.locator("#entries div").count() >= 2


def panel_species(page) -> list[str]:
    """The species list's names the side panel offers as new groups."""
    return page.evaluate(
        "() => Array.from(document.querySelectorAll('#entries div[data-vocab]')).map(e => e.dataset.label)"
    )


def test_vocabulary_warns_and_names_equal_after_nfc_and_case_are_one(sorted_run, browser):
    page = open_page(browser, sorted_run / "results/sort/inbox/review.html")
    a, b, c = cluster_groups(page)[:3]
    name(page, a, "red FOX")  # the species list's spelling is kept
    assert page.locator(f'section[data-g="{a}"] .title').text_content() == "Red fox"
    assert "kept “Red fox”" in page.inner_text("#notice")
    name(page, b, "Badger")
    assert page.locator(f'section[data-g="{b}"] .warn').text_content() == "not in the species list"
    name(page, c, "Be\u0301casse")  # a combining accent: the same name as the list's precomposed Bécasse
    assert page.locator(f'section[data-g="{c}"] .title').text_content() == "Bécasse"
    assert page.locator(f'section[data-g="{c}"] .warn').count() == 0
    name(page, b, "RED fox")  # now one label with the first cluster: one panel line, one folder
    assert page.locator('#entries div[data-label="Red fox"]').count() == 1
    assert page.locator('#entries div[data-label="Red fox"] .n').inner_text() == str(
        len(section_ids(page, a)) + len(section_ids(page, b))
    )


def test_done_marks_and_hide_done_hides(sorted_run, browser):
    page = open_page(browser, sorted_run / "results/sort/inbox/review.html")
    g = cluster_groups(page)[0]
    name(page, g, "Red fox")
    page.check(f'input[data-done="{g}"]')
    assert "done" in page.get_attribute(f'section[data-g="{g}"]', "class")
    assert page.locator('#entries div[data-label="Red fox"] .done').count() == 1
    assert "1 groups done" in page.inner_text("#progress")
    page.check("#hideDone")
    assert page.locator(f'section[data-g="{g}"]').is_hidden()
    page.uncheck("#hideDone")
    assert page.locator(f'section[data-g="{g}"]').is_visible()


def test_export_then_apply_from_the_conventional_path_without_a_config_edit(sorted_run, browser, tmp_path):
    original, sorted_run = sorted_run, own_copy(sorted_run, tmp_path)  # it applies a review: the others keep theirs
    run_dir = sorted_run / "results/sort/inbox"
    data = page_data(run_dir)
    page = open_page(browser, run_dir / "review.html")
    groups = cluster_groups(page)
    names = ["Red fox", "Roe deer", "Wild boar", "fox"]  # 'fox' is not 'Red fox': a name outside the list
    for g, label in zip(groups, names):
        name(page, g, label)
    assert "reviews/inbox.csv" in page.inner_text("#applyHelp")
    with page.expect_download() as download:
        page.keyboard.press("e")
    assert download.value.suggested_filename == "inbox.csv"
    # the page's one line to paste: the download moved to the conventional path, then the run
    command = page.locator("#applyCommand").text_content()
    assert command.endswith(" && snakemake --cores all"), command
    home = sorted_run / "home"
    (home / "Downloads").mkdir(parents=True, exist_ok=True)
    download.value.save_as(home / "Downloads/inbox.csv")
    # the page was written in the original run: its line starts there; this copy runs the rest of it
    assert command.startswith(f"cd {original} && mkdir -p reviews && mv ~/Downloads/inbox.csv reviews/inbox.csv")
    moved = command.removeprefix(f"cd {original} && ").removesuffix(" && snakemake --cores all")
    subprocess.run(["bash", "-c", moved], check=True, cwd=sorted_run, env={**os.environ, "HOME": str(home)})
    assert (sorted_run / "reviews/inbox.csv").exists() and not (home / "Downloads/inbox.csv").exists()
    exported = pd.read_csv(sorted_run / "reviews/inbox.csv", keep_default_na=False)
    # the same config file, unedited: the run picks the review up
    result = run_snakemake(sorted_run, sorted_run / "config.yaml")
    assert "sort_apply_review" in result.stderr and "sort_assign" not in result.stderr
    labels = pd.read_csv(run_dir / "labels.csv", keep_default_na=False)
    assert dict(zip(labels["image_id"], labels["label"])) == dict(zip(exported["image_id"], exported["label"]))
    for row in labels.itertuples():
        assert (run_dir / "final" / row.file).exists()
    assert set(labels["image_id"]) == set(data["ids"])  # every photo accounted for


def test_apply_merges_labels_equal_after_nfc_and_case_folding(tmp_path):
    from zsc.sorting.apply import merge_spellings

    review = pd.Series(["Fox", "fox", " FOX ", "Be\u0301casse", "Bécasse", "hare"], index=list("abcdef"))
    merged, notes = merge_spellings(review)
    assert merged.tolist() == ["Fox", "Fox", "Fox", "Bécasse", "Bécasse", "hare"]
    assert "label 'fox' is the same name as 'Fox': filed as 'Fox'" in notes and len(notes) == 3
    merged, _ = merge_spellings(review, vocabulary=["FOX"])  # the species list's spelling wins
    assert set(merged[:3]) == {"FOX"}


def generated_season(n: int, clusters: int, path: Path) -> Path:
    """A season-sized page from generated entries (neighbours mostly in the own cluster); one real thumbnail."""
    from zsc.sorting.page import render_review_page

    rng = np.random.default_rng(0)
    cluster = rng.integers(0, clusters, n)
    members = [np.flatnonzero(cluster == c) for c in range(clusters)]
    assignments = pd.DataFrame(
        {
            "image_id": [f"cam{i % 50}/IMG_{i:06d}.jpg" for i in range(n)],
            "cluster": cluster,
            "doubtful": rng.random(n) < 0.03,
            "reason": "",
            "nearest_cluster": cluster,
            "distance_to_cluster": rng.random(n),
            "map_x": rng.random(n),
            "map_y": rng.random(n),
        }
    )
    extras = {
        "neighbours": np.stack([rng.choice(members[c], 10) for c in cluster]),
        "order": np.argsort(cluster + rng.random(n) * 0.5),
        "core": rng.random(n) > 0.1,
        "sub": rng.integers(-1, 2, n),
        "centres": rng.integers(0, clusters, (n, 3)),
    }
    (path / "thumbnails").mkdir(parents=True)
    Image.new("RGB", (160, 160), (90, 120, 60)).save(path / "thumbnails/a.jpg")
    thumbs = {i: "thumbnails/a.jpg" for i in assignments["image_id"]}
    (path / "review.html").write_text(render_review_page("season", assignments, thumbs, extras=extras))
    return path / "review.html"


PAINT_JS = """async (code) => {
  const t0 = performance.now();
  (new Function(code))();
  await new Promise(resolve => requestAnimationFrame(() => requestAnimationFrame(resolve)));
  return performance.now() - t0;
}"""


def test_a_100000_photo_page_with_1000_clusters_is_ready_in_2_s_and_paints_each_action_in_200_ms(browser, tmp_path):
    path = generated_season(100_000, 1000, tmp_path)
    page = open_page(browser, path)
    ready_ms = int(page.get_attribute("body", "data-ready"))
    first = page.locator("input.name").first.get_attribute("data-name")
    actions = {
        "name a cluster": f"const i = document.querySelector('input[data-name=\"{first}\"]'); i.value = 'Red fox';"
        " i.dispatchEvent(new Event('change', {bubbles: true}));",
        "select a photo": "document.querySelectorAll('section:not(.suggest) figure')[1].click();",
        "move it (panel)": "document.querySelectorAll('#entries div')[4].click();",
        "move by suggestion": "document.querySelector('figure button.sg').click();",
        "split": "document.querySelector('button.split').click();",
        "undo": "document.getElementById('undoBtn').click();",
        "open the map": "document.getElementById('mapBtn').click();",
    }
    timings = {}
    for label, code in actions.items():
        timings[label] = page.evaluate(PAINT_JS, code)
        if label == "open the map":
            page.keyboard.press("Escape")
    time.sleep(0.6)  # the deferred save
    print(f"100,000-photo page: ready after {ready_ms} ms; paint per action (ms): {timings}")
    assert page.inner_text("#progress").startswith("1 / 100000") is False  # a cluster of ~100 was named
    assert ready_ms < 2000
    assert all(ms < 200 for ms in timings.values()), timings
    assert page.locator("figure").count() < 2000  # sections are filled as they come near the screen
