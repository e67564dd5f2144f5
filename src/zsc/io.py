"""Parquet and file helpers: outputs appear complete or not at all."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import logging
import os
import re
import shutil
import socket
import time
import unicodedata
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

LOG = logging.getLogger("zsc")  # a job's log file gets every record; the console those marked ``console``


def log(message: str) -> None:
    """A line for the job's log (the details: lists, tables, per-photo reasons)."""
    LOG.info(message)


def console(message: str) -> None:
    """A line for the person at the console (and the job's log): what happened, what to do."""
    LOG.info(message, extra={"console": True})


STALE_PARTIAL_SECONDS = 6 * 3600  # a partial file this old belongs to a killed writer, not a live one


class InputError(ValueError):
    """Input the run cannot use (a review CSV with no labels, k over the photos...): the message says
    what and where; a job reports it as one line, on the console and in its log, with no traceback."""


class DiskFull(OSError):
    """No space left while writing an output: one line naming the folder."""

    def __str__(self) -> str:
        return str(self.strerror)


_PARTIAL = re.compile(r"^\.(.+)\.partial-[^/]+$")


def public_path(path: Path) -> Path:
    """``path`` as the user will see it: a temporary ``.<name>.partial-...`` component shown as ``<name>``."""
    return Path(*[_PARTIAL.sub(r"\1", part) for part in Path(path).parts])


def partial_name(path: Path) -> Path:
    """A temporary sibling name unique across processes and machines (SLURM nodes share file systems)."""
    return path.with_name(f".{path.name}.partial-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:12]}")


_PARTIAL_OWNER = re.compile(r"\.partial-(?P<host>.+)-(?P<pid>\d+)-[0-9a-f]{12}$")


def _writer_is_gone(name: str) -> bool:
    """A partial file of a writer on this machine whose process no longer exists (killed)."""
    owner = _PARTIAL_OWNER.search(name)
    if not owner or owner["host"] != socket.gethostname():
        return False
    try:
        os.kill(int(owner["pid"]), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, another user's
    return False


def _remove(path: Path | str) -> None:
    """Remove a temporary file or folder (a folder is built under a temporary name too)."""
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        os.unlink(path)


def remove_stale_partials(folder: Path, name: str, max_age_s: float = STALE_PARTIAL_SECONDS) -> None:
    """Delete ``.<name>.partial-*`` files of killed writers: on this machine, those whose process is
    gone; from another machine (a SLURM node), those older than ``max_age_s``. A live writer's stays."""
    now = time.time()
    for stale in folder.glob(f".{name}.partial-*"):
        try:
            if _writer_is_gone(stale.name) or now - stale.lstat().st_mtime > max_age_s:
                _remove(stale)
        except OSError:
            pass  # another process removed or renamed it


@contextlib.contextmanager
def disk_full_message(folder: Path | str):
    """Turn ENOSPC/EDQUOT into one line naming the folder (the user's fix: free space there)."""
    try:
        yield
    except OSError as error:
        if error.errno in (errno.ENOSPC, errno.EDQUOT) and not isinstance(error, DiskFull):
            raise DiskFull(
                error.errno,
                f"No space left on the device holding {public_path(Path(folder).resolve())} "
                f"({error.strerror}); free space there and rerun",
            ) from None
        raise


@contextlib.contextmanager
def atomic_path(path: Path | str):
    """Yield a temporary sibling path; rename it onto ``path`` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_partials(path.parent, path.name)
    temporary = partial_name(path)
    try:
        with disk_full_message(path.parent):
            yield temporary
            os.replace(temporary, path)
    finally:
        if os.path.lexists(temporary):
            _remove(temporary)


CONTENT_HASH_CHARS = 24


def content_hash(path: Path | str) -> str:
    """A photo's identity: the first 24 hex digits of the SHA-256 of its bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:CONTENT_HASH_CHARS]


class ChangedSinceScan(ValueError):
    """A photo's bytes are no longer those the scan recorded: copying it would file another file."""


def copy_verified(source: Path | str, target: Path | str, expected_hash: str | None = None) -> None:
    """Copy ``source`` to ``target`` through a temporary name, checking the bytes copied against
    ``expected_hash`` (the scan's content hash): a half-written or swapped file never gets the final name."""
    target = Path(target)
    digest = hashlib.sha256()
    with atomic_path(target) as temporary:
        with open(source, "rb") as reader, open(temporary, "wb") as writer:
            for block in iter(lambda: reader.read(1 << 20), b""):
                digest.update(block)
                writer.write(block)
            writer.flush()
            os.fsync(writer.fileno())
        if expected_hash and digest.hexdigest()[:CONTENT_HASH_CHARS] != expected_hash:
            raise ChangedSinceScan(
                f"{source}: its content changed since the scan (hash "
                f"{digest.hexdigest()[:CONTENT_HASH_CHARS]}, scanned {expected_hash}); not copied"
            )
        shutil.copystat(source, temporary)


def symlink_atomic(link_target: str, path: Path | str) -> None:
    """Create the symlink ``path`` -> ``link_target`` through a temporary name."""
    with atomic_path(path) as temporary:
        os.symlink(link_target, temporary)


def write_table(frame: pd.DataFrame, path: Path | str, metadata: dict | None = None) -> None:
    """Write ``frame`` to parquet (or CSV by suffix) atomically."""
    path = Path(path)
    with atomic_path(path) as temporary:
        if path.suffix == ".csv":
            frame.to_csv(temporary, index=False)
            return
        table = pa.Table.from_pandas(frame, preserve_index=False)
        if metadata is not None:
            table = table.replace_schema_metadata(
                {**(table.schema.metadata or {}), b"zsc": json.dumps(metadata, sort_keys=True).encode()}
            )
        pq.write_table(table, temporary)


def write_json(data: dict, path: Path | str) -> None:
    with atomic_path(path) as temporary:
        Path(temporary).write_text(json.dumps(data, indent=2, sort_keys=True, default=_json_default) + "\n")


def _json_default(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def read_metadata(path: Path | str) -> dict:
    raw = pq.read_schema(path).metadata or {}
    return json.loads(raw.get(b"zsc", b"{}"))


def read_embeddings(path: Path | str) -> tuple[pd.DataFrame, np.ndarray]:
    """Return (image_id/label/group frame, float32 matrix) of an embeddings parquet.

    The matrix is filled row group by row group: a season's embeddings are held once, not twice
    (the whole table, then its combined column), and it is writeable (z-scored in place downstream)."""
    parquet = pq.ParquetFile(path)
    frame = parquet.read(columns=["image_id", "label", "group"]).to_pandas()
    dim = parquet.schema_arrow.field("embedding").type.list_size
    matrix = np.empty((parquet.metadata.num_rows, dim), np.float32)
    start = 0
    for group in range(parquet.num_row_groups):
        column = parquet.read_row_group(group, columns=["embedding"]).column("embedding")
        for chunk in column.chunks:
            values = chunk.flatten().to_numpy(zero_copy_only=False).reshape(-1, dim)
            matrix[start : start + len(values)] = values
            start += len(values)
    return frame, matrix


def select_rows(frame: pd.DataFrame, matrix: np.ndarray, image_ids) -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    """Rows for ``image_ids`` in that order, plus the ids that have no row."""
    position = pd.Series(np.arange(len(frame)), index=frame["image_id"])
    wanted = pd.Index(image_ids)
    present = wanted.isin(position.index)
    rows = position.loc[wanted[present]].to_numpy()
    return frame.iloc[rows].reset_index(drop=True), matrix[rows], wanted[~present].tolist()


def frame_fingerprint(frame: pd.DataFrame) -> str:
    return hashlib.sha256(pd.util.hash_pandas_object(frame, index=False).values.tobytes()).hexdigest()[:16]


def read_user_csv(path: Path, what: str) -> pd.DataFrame:
    """A CSV a person exported or edited: UTF-8 (with or without Excel's BOM), all cells as text.

    Another encoding is one line naming the file and the byte, not a UnicodeDecodeError."""
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except pd.errors.EmptyDataError:
        raise InputError(f"{what} {path} is empty (0 bytes): no header, no rows") from None
    except UnicodeDecodeError as error:
        raise InputError(
            f"{what} {path} is not UTF-8 text (byte {error.object[error.start : error.start + 1]!r} at "
            f"position {error.start}); save it as 'CSV UTF-8' and rerun"
        ) from None
    except pd.errors.ParserError as error:
        raise InputError(f"{what} {path} is not a readable CSV: {str(error).splitlines()[0]}") from None


def normalise_label(label: str) -> str:
    """One spelling per label: NFC (``Bécasse`` typed with a combining accent is the same label), trimmed."""
    return unicodedata.normalize("NFC", label).strip()


SPECIES_LIST_HEADERS = {"species", "name", "label", "scientific_name", "vernacular_name"}


def read_species_list(path: Path | str) -> list[str]:
    """Names from a text file, one per line (a one-column CSV too: a header such as 'species' is
    skipped, as are blank lines and '#' comments); UTF-8, a BOM allowed."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValueError(f"species list {path} is not UTF-8 text (byte {error.start}); save it as UTF-8") from None
    names = [line.strip().strip('"').strip() for line in text.splitlines()]
    names = [name for name in names if name and not name.startswith("#")]
    if names and names[0].casefold() in SPECIES_LIST_HEADERS:
        names = names[1:]
    if not names:
        raise ValueError(f"species list {path} holds no names (one name per line)")
    return names
