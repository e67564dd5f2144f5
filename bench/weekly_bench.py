"""`bench.py --only weekly`: a season sorted week by week, against sorting the whole season again.

Week 1: 8 of the 10 photos of each of 30 Oxford breeds (label-free names, one flat folder) are sorted
and reviewed (the week-1 review is the truth: a reviewer who files every photo right), the review
applied. Week 2: the other 2 photos of those breeds plus all 10 of the 7 breeds never seen are
copied in; the run names its week-1 review as ``known`` and is rerun by the workflow, timed. Then:
- how the week-2 photos were filed (assigned right / wrong / called new; unseen breeds called new),
- the week's cost: the rerun's wall time and its assignment step's against a from-scratch run and
  a from-scratch assignment (all photos clustered) of the whole season, same machine, same process,
- the review: the scripted reviewer of bench/review_bench.py reviews week 2's page (actions) and the
  whole season's page of the from-scratch run; the week-2 export is applied, week-1 files of final/
  are compared byte for byte (and link for link) before and after.
The same at 2,000 + 200 generated photos (10 species seen in week 1; week 2: 10 more of each plus 100
of a species never seen), without the browser.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import time
from datetime import datetime
from pathlib import Path

import pandas as pd
import yaml
from review_bench import (
    CHROMIUM,
    FixesReviewer,
    final_accuracy,
    generated_inbox,
    launch_chromium,
    oxford_inbox,
    snakemake,
)

from zsc.tables import ASSIGNMENTS, read_setting

RUN = "season"


def season_config(inbox: Path, cache: Path, k: int, known: bool) -> dict:
    run = {
        "root": str(inbox),
        "setting": {"model": "efficientnet_lite0", "reducer": "tsne", "clusterer": "ward"},
        "k": k,
        "link": "symlink",
    }
    if known:
        run["known"] = f"reviews/{RUN}.csv"
    from review_bench import MODEL

    return {
        "models": {"efficientnet_lite0": MODEL},
        "reducers": {"tsne": {"method": "tsne", "n_components": 2}},
        "clusterers": {"ward": {"method": "ward"}},
        "sort": {RUN: run},
        "embed": {"cache": str(cache)},
    }


def split_season(truth: dict[str, str], seen_species: int, per_species_week1: int, seed: int = 0):
    """(week-1 photo names, week-2 photo names, the species seen in week 1)."""
    species = sorted(set(truth.values()))
    random.Random(seed).shuffle(species)
    seen = set(species[:seen_species])
    week1, week2 = [], []
    for name in sorted(set(truth.values())):
        photos = sorted(p for p, s in truth.items() if s == name)
        if name in seen:
            week1 += photos[:per_species_week1]
            week2 += photos[per_species_week1:]
        else:
            week2 += photos
    return week1, week2, seen


def copy_photos(source: Path, names: list[str], inbox: Path) -> None:
    inbox.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy2(source / name, inbox / name)


def timed_snakemake(workdir: Path, config: dict) -> float:
    return timed_jobs(workdir, config, quiet=True)[0]


def timed_jobs(workdir: Path, config: dict, quiet: bool = False) -> tuple[float, dict[str, int]]:
    """A timed run: (wall seconds, seconds per rule from the job log's timestamps, whole seconds,
    jobs of one rule summed; empty when ``quiet``)."""
    (workdir / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    started = time.perf_counter()
    printed = snakemake(workdir, workdir / "config.yaml", quiet=quiet)
    return time.perf_counter() - started, rule_seconds(printed)


def rule_seconds(log: str) -> dict[str, int]:
    """Per rule, the seconds between its jobs' start and "Finished" lines in a Snakemake log."""
    now, current, started, rule_of, spent = None, None, {}, {}, {}
    for line in log.splitlines():
        line = line.strip()
        if re.fullmatch(r"\[\w{3} \w{3} +\d+ [\d:]{8} \d{4}\]", line):
            now = datetime.strptime(line[1:-1], "%a %b %d %H:%M:%S %Y")
        elif match := re.fullmatch(r"(?:local)?rule (\w+):", line):
            current = match.group(1)
        elif match := re.fullmatch(r"jobid: (\d+)", line):
            started[match.group(1)], rule_of[match.group(1)] = now, current
        elif match := re.match(r"Finished jobid: (\d+)", line):
            job = match.group(1)
            if job in started and rule_of[job] != "all":
                rule = rule_of[job]
                spent[rule] = spent.get(rule, 0) + int((now - started[job]).total_seconds())
    return spent


def write_truth_review(path: Path, names: list[str], truth: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"image_id": names, "label": [truth[n] for n in names]}).to_csv(path, index=False)


def final_state(final: Path, names: list[str]) -> dict[str, tuple]:
    """Per week-1 photo: its file in final/ (path, link target or bytes hash, inode)."""
    from zsc.io import content_hash

    state = {}
    for name in names:
        found = [path for path in final.glob(f"*/{name}") if path.is_file() or path.is_symlink()]
        for path in found:
            target = os.readlink(path) if path.is_symlink() else content_hash(path)
            state[name] = (str(path.relative_to(final)), target, path.lstat().st_ino, path.lstat().st_mtime_ns)
    return state


def week_shares(assignments: pd.DataFrame, week2: list[str], truth: dict[str, str], seen: set[str]) -> dict:
    rows = assignments.set_index("image_id").loc[week2]
    species = rows.index.map(truth)
    of_known = species.isin(seen)
    assigned = rows["status"] == "assigned"
    right = assigned & (rows["label"] == species)
    return {
        "photos_known_species_week2": int(of_known.sum()),
        "photos_unseen_species_week2": int((~of_known).sum()),
        "known_correct_share": float(right[of_known].mean()),
        "known_wrong_share": float((assigned & ~right)[of_known].mean()),
        "known_new_share": float((~assigned)[of_known].mean()),
        "unseen_new_share": float((~assigned)[~of_known].mean()),
    }


def time_assign_step(run_dir: Path, known: Path | None, run: dict) -> float:
    """The assignment step alone, in this process, on the run's own inputs (written to a scratch folder)."""
    from zsc.steps.sort import assign

    scratch = run_dir.parent / f"{run_dir.name}-assign-timing"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir()
    setting = run_dir / "setting.json"
    embeddings = next((run_dir / "embeddings").glob("*.parquet"))
    spec = {"seed": 0, "min_silhouette": 0.0, "known_quantile": 0.9, "link": "symlink", **run}
    if known is not None:  # the reviewed set's index exists after the workflow run: reused, as every week
        shutil.copy(run_dir / "known-index.npz", scratch / "known-index.npz")
    times = []
    for _ in range(3):  # the best of 3: the first call of a process also pays its imports
        shutil.rmtree(scratch / "clusters", ignore_errors=True)
        started = time.perf_counter()
        assign(
            str(run_dir / "manifest.parquet"),
            str(embeddings),
            str(setting),
            spec,
            run["root"],
            str(scratch / "assignments.csv"),
            str(scratch / "review.csv"),
            str(scratch / "assign.json"),
            str(scratch / "clusters"),
            known_path=str(known) if known else None,
            index_path=str(scratch / "known-index.npz"),
        )
        times.append(time.perf_counter() - started)
    shutil.rmtree(scratch, ignore_errors=True)
    return min(times)


def snakemake_start_s(workdir: Path) -> float:
    """Snakemake's fixed cost on this machine: a run with nothing to do (parse, DAG, plugins)."""
    started = time.perf_counter()
    snakemake(workdir, workdir / "config.yaml", "-n")
    return time.perf_counter() - started


def review_page_actions(workdir: Path, truth: dict[str, str], reviewer_class, export_to: Path | None) -> dict:
    from playwright.sync_api import sync_playwright

    page_path = workdir / f"results/sort/{RUN}/review.html"
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True).new_page()
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(page_path.as_uri())
        page.wait_for_selector("body[data-ready]")
        reviewer = reviewer_class(page, truth)
        reviewer.review()
        if export_to is not None:
            reviewer.export(export_to)
        browser.close()
    if errors:
        raise RuntimeError(f"page errors: {errors[:3]}")
    return {"actions": sum(reviewer.actions.values()), "scrolls": reviewer.scrolls, "by_phase": reviewer.actions}


class WeekReviewer(FixesReviewer):
    """The scripted reviewer of a week's page: the groups assigned to reviewed species carry their names
    already; it names the new clusters (from the first unnamed one), then fixes as on a full page."""


def new_photo_v(run_dir: Path, assignments: pd.DataFrame, truth: dict[str, str], setting: dict) -> dict:
    """V-measure of the week's new photos' clusters against their species, and of clustering the same
    photos alone with the run's setting and the right k (their number of species)."""
    from sklearn.metrics import v_measure_score

    from zsc.io import read_embeddings
    from zsc.sorting.assign import assign_clusters

    new = assignments[(assignments["status"] == "new") & (assignments["duplicate_of"] == "")]
    if len(new) < 3:
        return {}
    species = new["image_id"].map(truth)
    frame, matrix = read_embeddings(next((run_dir / "embeddings").glob("*.parquet")))
    rows = frame.reset_index(drop=True).reset_index().set_index("image_id").loc[new["image_id"], "index"].to_numpy()
    k = species.nunique()
    alone, _ = assign_clusters(matrix[rows], setting["reducer_spec"], setting["clusterer_spec"], k, 0, 0.0)
    return {
        "new_photos": len(new),
        "new_species": k,
        "new_k_used": new["cluster"].nunique(),
        "new_v": float(v_measure_score(species, new["cluster"])),
        "new_v_right_k": float(v_measure_score(species, alone["cluster"])),
    }


def bench_season(
    name: str, out: Path, truth: dict[str, str], source: Path, seen_species: int, per_week1: int, k: int, browser: bool
) -> dict:
    work = out / f"weekly-{name}"
    shutil.rmtree(work, ignore_errors=True)
    week1, week2, seen = split_season(truth, seen_species, per_week1)
    inbox, cache = work / "inbox", work / "embed-cache"
    season = work / "season"
    season.mkdir(parents=True)
    copy_photos(source, week1, inbox)
    timed_snakemake(season, season_config(inbox, cache, k, known=False))
    write_truth_review(season / f"reviews/{RUN}.csv", week1, truth)
    timed_snakemake(season, season_config(inbox, cache, k, known=True))  # week 1 applied: final/
    before = final_state(season / f"results/sort/{RUN}/final", week1)
    copy_photos(source, week2, inbox)
    week_s, week_jobs = timed_jobs(season, season_config(inbox, cache, k, known=True))
    run_dir = season / f"results/sort/{RUN}"
    assignments = ASSIGNMENTS.read(run_dir / "assignments.csv")
    shares = week_shares(assignments, week2, truth, seen)
    shares.update(new_photo_v(run_dir, assignments, truth, read_setting(run_dir / "setting.json")))
    shares["expected"] = json.loads((run_dir / "assign.json").read_text())["known"]["expected"]
    scratch = work / "from-scratch"
    scratch.mkdir()
    full_k = round(k * len(truth) / len(week1))
    full_s, full_jobs = timed_jobs(scratch, season_config(inbox, work / "scratch-cache", full_k, known=False))
    known_csv = season / f"reviews/{RUN}.csv"
    assign_week_s = time_assign_step(run_dir, known_csv, {"root": str(inbox), "k": k})
    assign_full_s = time_assign_step(scratch / f"results/sort/{RUN}", None, {"root": str(inbox), "k": full_k})
    start_s = snakemake_start_s(scratch)
    result = {
        "name": f"weekly {name}",
        "photos_known": len(week1),
        "photos_new": len(week2),
        **shares,
        "week_rerun_s": week_s,
        "from_scratch_s": full_s,
        "cost_ratio": week_s / full_s,
        "snakemake_start_s": start_s,
        "jobs_cost_ratio": (week_s - start_s) / (full_s - start_s),
        "assign_week_s": assign_week_s,
        "assign_full_s": assign_full_s,
        "assign_cost_ratio": assign_week_s / assign_full_s,
        "week_jobs_s": week_jobs,
        "from_scratch_jobs_s": full_jobs,
        "review_actions_week": None,
        "review_actions_full": None,
    }
    if browser:
        week = review_page_actions(season, truth, WeekReviewer, known_csv)
        snakemake(season, season / "config.yaml")  # the week's export applied
        after = final_state(run_dir / "final", week1)
        accuracy, found = final_accuracy(run_dir, truth)
        full = review_page_actions(scratch, truth, FixesReviewer, None)
        result.update(
            review_actions_week=week["actions"],
            review_scrolls_week=week["scrolls"],
            review_actions_full=full["actions"],
            review_scrolls_full=full["scrolls"],
            review_ratio=week["actions"] / full["actions"],
            review_per_photo_week=week["actions"] / len(week2),
            review_per_photo_full=full["actions"] / len(truth),
            final_accuracy_after_week2=accuracy,
            photos_in_final=found,
            week1_files_unchanged=sum(after.get(n) == before[n] for n in week1),
            week1_files=len(week1),
        )
    print(
        "  "
        + ", ".join(
            f"{key} {value:.3f}" if isinstance(value, float) else f"{key} {value}" for key, value in result.items()
        ),
        flush=True,
    )
    return result


def bench_weekly(out: Path, pets: Path | None, quick: bool = False) -> list[dict]:
    rows = []
    if pets is not None and pets.is_dir():
        inbox = out / "oxford-inbox"
        truth_path = out / "oxford-truth.json"
        if not inbox.exists():
            truth_path.write_text(json.dumps(oxford_inbox(pets, inbox)))
        truth = json.loads(truth_path.read_text())
        rows.append(bench_season("oxford", out, truth, inbox, 30, 8, 30, browser=CHROMIUM is not None))
    else:
        print("  (ZSC_OXFORD_PETS not set: the Oxford row is skipped)")
    rows.append(bench_lookalike(out, 20 if quick else 60, browser=CHROMIUM is not None))
    # 2,000 + 200 as the issue asks; 8,000 + 200 shows what the reviewed set's size adds to a week
    for per_species in [60] if quick else [210, 810]:
        rows.append(bench_generated(out, per_species))
    return rows


def bench_lookalike(out: Path, per_species: int, browser: bool) -> dict:
    """Lookalikes (zsc.data.demo.LOOKALIKES: 4 shapes x 5 coats): 16 species reviewed from 60 % of their
    photos in week 1; week 2: their other 40 % and every photo of the 4 species never reviewed (the
    held-out birds' season in small: 80 species x 60 %, then 40 % + 20 unseen species)."""
    generated = out / f"weekly-lookalike-{per_species}"
    truth_path = out / f"weekly-lookalike-{per_species}-truth.json"
    if not generated.exists():
        truth_path.write_text(json.dumps(generated_inbox(generated, 20, per_species, lookalikes=True)))
    truth = json.loads(truth_path.read_text())
    week1_per = round(per_species * 0.6)
    return bench_season(f"lookalike{20 * per_species}", out, truth, generated, 16, week1_per, 16, browser)


def bench_generated(out: Path, per_species: int) -> dict:
    """10 species seen in week 1 (all but 10 photos of each); week 2: their other 10, and 100 photos of
    an 11th species (the rest of it is left out of the season)."""
    generated = out / f"weekly-generated-{per_species}"
    truth_path = out / f"weekly-generated-{per_species}-truth.json"
    if not generated.exists():
        truth_path.write_text(json.dumps(generated_inbox(generated, n_species=11, per_species=per_species)))
    truth = json.loads(truth_path.read_text())
    week1_per = per_species - 10
    species = sorted(set(truth.values()))
    week1, _, seen = split_season(truth, 10, week1_per)
    unseen = next(s for s in species if s not in seen)
    keep = {n for n in truth if truth[n] != unseen} | set(sorted(n for n in truth if truth[n] == unseen)[:100])
    truth = {n: s for n, s in truth.items() if n in keep}
    name = f"generated{len(week1)}+{len(truth) - len(week1)}"
    return bench_season(name, out, truth, generated, 10, week1_per, 10, False)
