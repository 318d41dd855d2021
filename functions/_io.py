"""Files that must never be half-written: atomic writes (temporary file, then rename) and rounded JSON.

The lowest layer of the package: data, training and figures all write through it.
"""

from __future__ import annotations

import json
import math
import os
import pathlib
import tempfile
from contextlib import contextmanager

import numpy as np

__all__ = [
    "NOISE_FLOOR",
    "atomic_path",
    "check_output_folder",
    "nearest_existing",
    "read_json",
    "rounded",
    "write_json",
]


@contextmanager
def atomic_path(path, suffix: str | None = None):
    """Yield a temporary path beside ``path``; on success rename it onto ``path`` (atomic on POSIX).

    A failed write leaves the previous file untouched and removes the temporary one.
    """
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=suffix or path.suffix, dir=path.parent)
    os.close(fd)
    try:
        yield pathlib.Path(tmp)
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; results are ordinary readable files
        os.replace(tmp, path)
    except BaseException:
        pathlib.Path(tmp).unlink(missing_ok=True)
        raise


def nearest_existing(path) -> pathlib.Path:
    """``path`` itself if it exists, else its nearest existing ancestor."""
    path = pathlib.Path(path)
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_output_folder(folder, name: str) -> pathlib.Path:
    """``folder`` as a Path once it is sure to be a folder that can be written (it is created later, if missing).

    Checked before any work, so that a bad output location fails at once with the parameter's ``name``, not in a
    late write: an empty path (it would write into the current directory), a file, a path under a file, and a
    folder that refuses a file (read-only, on a read-only file system, or not the user's), tested by writing and
    removing a probe file in the nearest existing folder (permission bits alone would pass for root).
    """
    if not isinstance(folder, str | os.PathLike) or not str(folder).strip():
        raise ValueError(
            f"Invalid {name} value: {folder!r}; expected a folder path (an empty one would write into the current "
            "directory; use '.' to mean it)."
        )
    path = pathlib.Path(folder)
    if path.exists() and not path.is_dir():
        raise ValueError(f"Invalid {name} value: {path} is a file; expected a folder (it is created if missing).")
    probe = nearest_existing(path)
    if not probe.is_dir():
        raise ValueError(f"Invalid {name} value: {path} lies under the file {probe}; expected a folder path.")
    try:
        fd, tmp = tempfile.mkstemp(prefix=".write-probe.", dir=probe)
        os.close(fd)
        os.unlink(tmp)
    except OSError as err:
        raise ValueError(
            f"Invalid {name} value: {path} is not writable ({err.strerror} in {probe}); point {name} at a folder "
            "you can write."
        ) from None
    return path


#: Absolute noise floor of stored numbers: magnitudes below it are round-off (solver residuals, e^{-rt} at
#: large t, differences of equal quantities) that change with the CPU's vector kernels, and are stored as 0.
NOISE_FLOOR = 1e-9


def rounded(value, digits: int = 6, floor: float = NOISE_FLOOR):
    """Round floats to ``digits`` significant digits, and those with |x| < ``floor`` to 0, recursively through
    dicts, lists and arrays. Six digits and the 1e-9 floor keep stored results identical across CPUs."""
    if isinstance(value, dict):
        return {str(k): rounded(v, digits, floor) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [rounded(v, digits, floor) for v in value]
    if isinstance(value, np.ndarray):
        return rounded(value.tolist(), digits, floor)
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer | int):
        return int(value)
    if isinstance(value, np.floating | float):
        value = float(value)
        if not math.isfinite(value):
            return value
        if abs(value) < floor:
            return 0.0
        return float(f"{value:.{digits}g}")
    return value


def write_json(path, data: dict, digits: int = 6, floor: float = NOISE_FLOOR) -> pathlib.Path:
    """Write ``data`` as indented JSON with floats rounded to ``digits`` significant digits, atomically.

    ``floor``: smaller magnitudes are stored as 0 (figures' numbers); a record of measured errors, whose size is
    the result, passes 0.0.
    """
    text = json.dumps(rounded(data, digits, floor), indent=1, sort_keys=False) + "\n"
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return pathlib.Path(path)


def read_json(path) -> dict:
    """Read a results JSON file, with a clear error when it is missing or corrupt."""
    path = pathlib.Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: run the notebook that writes it (`make figures`).")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is not valid JSON ({err}); regenerate it with `make figures`.") from err
