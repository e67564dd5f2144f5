"""Shared by every step: a job's log, its console line, its memory, its rejects."""

from __future__ import annotations

import contextlib
import resource
import sys
import traceback
from pathlib import Path

import pandas as pd

from zsc.io import InputError


@contextlib.contextmanager
def logged(log_path: str | None):
    """Send stderr (warnings, tqdm, tracebacks) of a job to its Snakemake log file. An ``InputError``
    ends the job with its message alone (exit 1); any other error also leaves its traceback in the log."""
    if not log_path:
        yield
        return
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w") as log, contextlib.redirect_stderr(log):
        try:
            yield
        except InputError as error:  # the user's input, not a bug: the message is the whole report
            print(f"error: {one_line(error)}", file=log)
            print(f"error: {one_line(error)} (log: {log_path})", file=sys.__stderr__, flush=True)
            raise SystemExit(1) from None
        except Exception as error:
            traceback.print_exc(file=log)
            print(f"error: {one_line(error)} (log: {log_path})", file=sys.__stderr__, flush=True)
            raise


def one_line(error: BaseException) -> str:
    """The error as a person reads it on the console: its first lines joined, or its type."""
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    return " ".join(lines[:4]) if lines else type(error).__name__


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def print_rejects(rejects: pd.DataFrame, limit: int = 200) -> None:
    """The rejects table in the job's log (stderr), which survives a failed job."""
    print(f"{len(rejects)} rejected file(s):", file=sys.stderr)
    print(rejects.head(limit).to_string(index=False), file=sys.stderr)
    if len(rejects) > limit:
        print(f"... and {len(rejects) - limit} more", file=sys.stderr)
