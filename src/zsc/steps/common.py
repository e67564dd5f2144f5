"""Shared by every step: a job's log, its console line, its memory, its rejects."""

from __future__ import annotations

import contextlib
import logging
import resource
import sys
import traceback
from pathlib import Path

import pandas as pd

from zsc.io import LOG, InputError, console, log


class _MarkedForConsole(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return getattr(record, "console", False) or record.levelno >= logging.WARNING


def _handler(stream, console_only: bool) -> logging.Handler:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    if console_only:
        handler.addFilter(_MarkedForConsole())
    return handler


@contextlib.contextmanager
def logged(log_path: str | None):
    """A job's logging: every record of the ``zsc`` logger and stderr (warnings, tqdm, tracebacks) into its
    Snakemake log file, the records marked for the console (``zsc.io.console``) on the console too. An
    ``InputError`` ends the job with its message alone (exit 1); any other error also leaves its
    traceback in the log."""
    if not log_path:
        yield
        return
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w") as log, contextlib.redirect_stderr(log):
        handlers = [_handler(log, console_only=False), _handler(sys.__stderr__, console_only=True)]
        for handler in handlers:
            LOG.addHandler(handler)
        LOG.setLevel(logging.INFO)
        LOG.propagate = False
        try:
            yield
        except InputError as error:  # the user's input, not a bug: the message is the whole report
            console(f"error: {one_line(error)} (log: {log_path})")
            raise SystemExit(1) from None
        except Exception as error:
            traceback.print_exc(file=log)
            console(f"error: {one_line(error)} (log: {log_path})")
            raise
        finally:
            for handler in handlers:
                handler.flush()
                LOG.removeHandler(handler)
            LOG.propagate = True


def one_line(error: BaseException) -> str:
    """The error as a person reads it on the console: its first lines joined, or its type."""
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    return " ".join(lines[:4]) if lines else type(error).__name__


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def print_rejects(rejects: pd.DataFrame, limit: int = 200) -> None:
    """The rejects table in the job's log, which survives a failed job."""
    log(f"{len(rejects)} rejected file(s):")
    log(rejects.head(limit).to_string(index=False))
    if len(rejects) > limit:
        log(f"... and {len(rejects) - limit} more")
