"""Datasets without torchvision: MNIST and Fashion-MNIST (IDX, gzip), CIFAR-10 (binary or python tarball)
and CIFAR-10 from a class-folder copy (``cifar10-jpeg``, see ``image_folder``).

Loaders return uint8 image tensors (N, 28, 28) or (N, 3, 32, 32) and int64 labels (N,). Checksums
are verified before a file is parsed (before unpickling, for the python CIFAR tarball); any missing,
corrupt or mis-formatted file raises ``DataError`` saying what was wrong and what to do.

IDX files are verified by the MD5 of their *uncompressed payload* (streamed through gzip), which is
what the dataset authors publish; any faithful recompression of the official files (Debian's
Fashion-MNIST, a rebuilt MNIST) is therefore accepted, and any changed byte of the payload refused.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import pathlib
import pickle
import tarfile
import zlib

import numpy as np
import torch

from ._checks import check_choice
from ._io import nearest_existing

__all__ = [
    "DATASET_NAMES",
    "CHECKSUMS",
    "DATASETS",
    "DataError",
    "FASHION_MNIST_SYSTEM_DIR",
    "IDX_FILES",
    "data_root",
    "default_root",
    "find_dataset_dir",
    "load_cifar10",
    "load_idx_dataset",
    "content_md5",
    "md5sum",
    "read_idx",
]

#: Where Debian's dataset-fashion-mnist package installs the files.
FASHION_MNIST_SYSTEM_DIR = pathlib.Path("/usr/share/datasets/fashion-mnist")

IDX_FILES = {
    (True, "images"): "train-images-idx3-ubyte.gz",
    (True, "labels"): "train-labels-idx1-ubyte.gz",
    (False, "images"): "t10k-images-idx3-ubyte.gz",
    (False, "labels"): "t10k-labels-idx1-ubyte.gz",
}

#: MD5 of each file's checked content: the uncompressed IDX payload for MNIST and Fashion-MNIST (the
#: official digests, identical for the upstream .gz files and any faithful recompression such as
#: Debian's), the archive bytes for the official CIFAR-10 tarballs.
CHECKSUMS = {
    "mnist": {
        "train-images-idx3-ubyte.gz": "6bbc9ace898e44ae57da46a324031adb",
        "train-labels-idx1-ubyte.gz": "a25bea736e30d166cdddb491f175f624",
        "t10k-images-idx3-ubyte.gz": "2646ac647ad5339dbf082846283269ea",
        "t10k-labels-idx1-ubyte.gz": "27ae3e4e09519cfbb04c329615203637",
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
        "train-labels-idx1-ubyte.gz": "9018921c3c673c538a1fc5bad174d6f9",
        "t10k-images-idx3-ubyte.gz": "8181f5470baa50b63fa0f6fddb340f0a",
        "t10k-labels-idx1-ubyte.gz": "15d484375f8d13e6eb1aabb0c3f46965",
    },
    "cifar10": {
        "cifar-10-binary.tar.gz": "c32a1d4ab5d03f1284b67883e8d87530",
        "cifar-10-python.tar.gz": "c58f30108f718f92721af3b95e74349a",
    },
}

#: Every dataset name the loaders accept.
DATASETS = ("mnist", "fashion-mnist", "cifar10", "cifar10-jpeg")

#: Names on panels and in titles, exactly as the data are: the JPEG copy is never called plain CIFAR-10.
DATASET_NAMES = {
    "mnist": "MNIST",
    "fashion-mnist": "Fashion-MNIST",
    "cifar10": "CIFAR-10",
    "cifar10-jpeg": "CIFAR-10, JPEG copy",
}

_IDX_MAGIC = {"images": 0x00000803, "labels": 0x00000801}


class DataError(RuntimeError):
    """A dataset file is missing, corrupt or not in the expected format."""


def default_root() -> pathlib.Path:
    """The data folder: $LOSSNAV_DATA if set, else data/ at the repository root when the package is used from
    its checkout, else data/ in the current directory (an installed package)."""
    env = os.environ.get("LOSSNAV_DATA")
    if env:
        return pathlib.Path(env)
    checkout = pathlib.Path(__file__).resolve().parents[1]
    return checkout / "data" if (checkout / "pyproject.toml").is_file() else pathlib.Path.cwd() / "data"


def data_root(root=None, name: str = "root") -> pathlib.Path:
    """The data folder to read: ``root`` (named ``name`` in errors), else ``default_root()``; checked before any
    file is opened, so that a root naming a file, or a path under one, is refused with the variable that set it
    (``name``, or ``$LOSSNAV_DATA``) instead of a download hint that cannot work. A missing folder is fine here:
    the loaders say which files to put there."""
    if root is None:
        name = "$LOSSNAV_DATA" if os.environ.get("LOSSNAV_DATA") else "the default data folder"
        root = default_root()
    elif not isinstance(root, str | os.PathLike) or not str(root).strip():
        raise ValueError(f"Invalid {name} value: {root!r}; expected the data folder's path (e.g. data).")
    path = pathlib.Path(root)
    probe = nearest_existing(path)
    if not probe.is_dir():
        where = "is a file" if probe == path else f"lies under the file {probe}"
        raise ValueError(
            f"Invalid {name} value: {path} {where}; expected the data folder, which holds one folder per dataset "
            "(mnist/, fashion-mnist/, cifar10/, cifar10-jpeg/). Point it at a folder."
        )
    return path


_UNREADABLE = "The file is truncated, corrupt or not gzip; re-download it."


def md5sum(path) -> str:
    """MD5 hex digest of a file, read in 1 MiB chunks."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def content_md5(path, name: str | None = None) -> str:
    """MD5 of what ``CHECKSUMS`` records for ``path``: the gunzipped payload of a ``*-ubyte.gz`` file
    (streamed in 1 MiB chunks, nothing parsed), the file's own bytes otherwise. ``name`` (default: the
    file's name) decides which, for a temporary file that will be renamed.

    Raises:
        DataError: the file is not valid gzip or is truncated.
    """
    path = pathlib.Path(path)
    if not (name or path.name).endswith("-ubyte.gz"):
        return md5sum(path)
    digest = hashlib.md5(usedforsecurity=False)
    try:
        with gzip.open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    except (OSError, EOFError, zlib.error) as err:  # zlib.error: a corrupt deflate stream (a flipped byte)
        raise DataError(
            f"Cannot read {path}: {err}. The file is truncated, corrupt or not gzip; re-download it."
        ) from err
    return digest.hexdigest()


def _hint(dataset: str, root: pathlib.Path) -> str:
    """What to do when ``dataset`` is missing or corrupt under the data folder ``root``."""
    command = f"`python -m functions.download {dataset} --root {root}`"
    extra = " (or `apt-get install dataset-fashion-mnist`)" if dataset == "fashion-mnist" else ""
    return f"Put the files in {root / dataset}/ or download them with {command}{extra}."


def _verify(path: pathlib.Path, dataset: str, root: pathlib.Path) -> None:
    """Raise DataError unless ``path``'s content MD5 is the one in ``CHECKSUMS``."""
    expected = CHECKSUMS[dataset].get(path.name)
    if expected is None:
        return
    actual = content_md5(path)
    if actual != expected:
        what = "uncompressed payload MD5" if path.name.endswith("-ubyte.gz") else "MD5"
        raise DataError(
            f"Checksum mismatch for {path}: {what} {actual}, expected {expected} (the official file's). "
            f"The file is corrupt or not the official one; delete it. {_hint(dataset, root)}"
        )


def read_idx(path, kind: str) -> np.ndarray:
    """Parse an IDX file (optionally gzipped): big-endian magic, sizes, then the uint8 payload.

    Args:
        path: the file.
        kind: "images" (magic 0x00000803, sizes count, rows, cols) or "labels" (0x00000801, count).
    """
    path = pathlib.Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            raw = fh.read()
    except (OSError, EOFError, zlib.error) as err:
        raise DataError(
            f"Cannot read {path}: {err}. The file is truncated, corrupt or not gzip; re-download it."
        ) from err
    ndim = 3 if kind == "images" else 1
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path} is too short for an IDX {kind} header ({len(raw)} bytes); re-download it.")
    magic = int.from_bytes(raw[:4], "big")
    if magic != _IDX_MAGIC[kind]:
        raise DataError(
            f"{path}: IDX magic number 0x{magic:08x}, expected 0x{_IDX_MAGIC[kind]:08x} for {kind}; "
            "is this the right file?"
        )
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    expected = int(np.prod(dims))
    if len(raw) - header != expected:
        raise DataError(
            f"{path}: payload has {len(raw) - header} bytes, header promises {expected} ({dims}); "
            "the file is truncated or corrupt, re-download it."
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def find_dataset_dir(dataset: str, root=None) -> pathlib.Path:
    """The folder holding ``dataset``'s files: root/<dataset>, then (Fashion-MNIST) the Debian package's.

    Raises:
        ValueError: ``dataset`` is not one of the file-based datasets (mnist, fashion-mnist, cifar10); the JPEG
            copy cifar10-jpeg is a class-folder layout, found by ``image_folder.find_source`` instead.
        DataError: no folder holds the files; the message says where it looked and the command to run.
    """
    check_choice(dataset, "dataset", CHECKSUMS)
    root = data_root(root)
    candidates = [root / dataset, root]
    if dataset == "fashion-mnist":
        candidates.append(FASHION_MNIST_SYSTEM_DIR)
    for folder in candidates:
        if dataset == "cifar10":
            if any((folder / name).exists() for name in CHECKSUMS["cifar10"]):
                return folder
        elif all((folder / name).exists() for name in CHECKSUMS[dataset]):
            return folder
    needed = " or ".join(CHECKSUMS[dataset]) if dataset == "cifar10" else ", ".join(CHECKSUMS[dataset])
    raise DataError(
        f"{dataset} not found (looked in {', '.join(str(c) for c in candidates)}; needed: {needed}). "
        f"{_hint(dataset, root)}"
    )


def load_idx_dataset(dataset: str, train: bool = True, root=None, verify: bool = True):
    """Load MNIST or Fashion-MNIST: (images uint8 (N, 28, 28), labels int64 (N,)).

    Args:
        dataset: "mnist" or "fashion-mnist".
        train: the 60,000-image training split, or the 10,000-image test split.
        root: data folder (``default_root()`` when None); Fashion-MNIST also falls back to the
            Debian package's folder.
        verify: check each file's uncompressed payload MD5 against ``CHECKSUMS`` before parsing.
    """
    check_choice(dataset, "dataset", ("mnist", "fashion-mnist"))
    root = data_root(root)
    folder = find_dataset_dir(dataset, root)
    paths = {kind: folder / IDX_FILES[(train, kind)] for kind in ("images", "labels")}
    if verify:  # every file of the split, before any is parsed
        for path in paths.values():
            _verify(path, dataset, root)
    arrays = {kind: read_idx(path, kind) for kind, path in paths.items()}
    images, labels = arrays["images"], arrays["labels"]
    if images.shape[0] != labels.shape[0]:
        raise DataError(f"{folder}: {images.shape[0]} images but {labels.shape[0]} labels; files do not match.")
    return torch.from_numpy(images.copy()), torch.from_numpy(labels.astype(np.int64))


def _cifar_binary(tar: tarfile.TarFile, names: list[str]):
    record = 1 + 3 * 32 * 32
    images, labels = [], []
    for name in names:
        member = tar.extractfile(f"cifar-10-batches-bin/{name}.bin")
        raw = np.frombuffer(member.read(), dtype=np.uint8)
        if raw.size % record:
            raise DataError(f"cifar-10-batches-bin/{name}.bin: {raw.size} bytes is not a whole number of records.")
        raw = raw.reshape(-1, record)
        labels.append(raw[:, 0].astype(np.int64))
        images.append(raw[:, 1:].reshape(-1, 3, 32, 32))
    return images, labels


def _cifar_python(tar: tarfile.TarFile, names: list[str]):
    images, labels = [], []
    for name in names:
        batch = pickle.load(io.BytesIO(tar.extractfile(f"cifar-10-batches-py/{name}").read()), encoding="bytes")
        images.append(np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
        labels.append(np.asarray(batch[b"labels"], dtype=np.int64))
    return images, labels


def load_cifar10(train: bool = True, root=None, verify: bool = True):
    """Load CIFAR-10 from its binary (preferred) or python tarball: (uint8 (N, 3, 32, 32), int64 (N,)).

    The python tarball holds pickles: its checksum is always verified before anything is unpickled
    (``verify=False`` is refused for it).
    """
    root = data_root(root)
    folder = find_dataset_dir("cifar10", root)
    names = [f"data_batch_{i}" for i in range(1, 6)] if train else ["test_batch"]
    binary, python = folder / "cifar-10-binary.tar.gz", folder / "cifar-10-python.tar.gz"
    path = binary if binary.exists() else python
    if verify or path == python:
        _verify(path, "cifar10", root)
    try:
        with tarfile.open(path, "r:gz") as tar:
            images, labels = (_cifar_binary if path == binary else _cifar_python)(tar, names)
    except (tarfile.TarError, KeyError, OSError, EOFError) as err:
        raise DataError(f"Cannot read {path}: {err}. The archive is corrupt or incomplete; re-download it.") from err
    return torch.from_numpy(np.concatenate(images)), torch.from_numpy(np.concatenate(labels))
