"""Datasets without torchvision: MNIST and Fashion-MNIST (IDX, gzip) and CIFAR-10 (binary or python tarball).

Loaders return uint8 image tensors (N, 28, 28) or (N, 3, 32, 32) and int64 labels (N,). Checksums
are verified before a file is parsed (before unpickling, for the python CIFAR tarball); any missing,
corrupt or mis-formatted file raises ``DataError`` saying what was wrong and what to do.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import pathlib
import pickle
import tarfile

import numpy as np
import torch

__all__ = [
    "CHECKSUMS",
    "DataError",
    "FASHION_MNIST_SYSTEM_DIR",
    "IDX_FILES",
    "default_root",
    "find_dataset_dir",
    "load_cifar10",
    "load_idx_dataset",
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

#: Accepted MD5 checksums per file. Fashion-MNIST: the upstream files and Debian's recompressed copies.
CHECKSUMS = {
    "mnist": {
        "train-images-idx3-ubyte.gz": {"f68b3c2dcbeaaa9fbdd348bbdeb94873"},
        "train-labels-idx1-ubyte.gz": {"d53e105ee54ea40749a09fcbcd1e9432"},
        "t10k-images-idx3-ubyte.gz": {"9fb629c4189551a2d022fa330f9573f3"},
        "t10k-labels-idx1-ubyte.gz": {"ec29112dd5afa0611ce80d1b7f02629c"},
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": {"8d4fb7e6c68d591d4c3dfef9ec88bf0d", "cf8536b0aa1a6ac5fa3f23001093305c"},
        "train-labels-idx1-ubyte.gz": {"25c81989df183df01b3e8a0aad5dffbe", "10bea18fdb374794d4bb42e356e600c9"},
        "t10k-images-idx3-ubyte.gz": {"bef4ecab320f06d8554ea6380940ec79", "f78720b4224f21cce2f2ccf2d7a94c9a"},
        "t10k-labels-idx1-ubyte.gz": {"bb300cfdad3c16e7a12a480ee83cd310", "0d30e22e447f3c33dab9ed536400ac01"},
    },
    "cifar10": {
        "cifar-10-binary.tar.gz": {"c32a1d4ab5d03f1284b67883e8d87530"},
        "cifar-10-python.tar.gz": {"c58f30108f718f92721af3b95e74349a"},
    },
}

_IDX_MAGIC = {"images": 0x00000803, "labels": 0x00000801}


class DataError(RuntimeError):
    """A dataset file is missing, corrupt or not in the expected format."""


def default_root() -> pathlib.Path:
    """The data folder: $LOSSNAV_DATA if set, else data/ at the repository root."""
    env = os.environ.get("LOSSNAV_DATA")
    return pathlib.Path(env) if env else pathlib.Path(__file__).resolve().parents[1] / "data"


def md5sum(path) -> str:
    """MD5 hex digest of a file, read in 1 MiB chunks."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _hint(dataset: str, root: pathlib.Path) -> str:
    return f"Put the files in {root}/ or download them with `python -m functions.download {dataset} --root {root}`" + (
        " (or `apt-get install dataset-fashion-mnist`)." if dataset == "fashion-mnist" else "."
    )


def _verify(path: pathlib.Path, dataset: str, root: pathlib.Path) -> None:
    expected = CHECKSUMS[dataset].get(path.name)
    actual = md5sum(path)
    if expected is not None and actual not in expected:
        raise DataError(
            f"Checksum mismatch for {path}: MD5 {actual}, expected {' or '.join(sorted(expected))}. "
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
    except (OSError, EOFError) as err:
        raise DataError(f"Cannot read {path}: {err}. The file is truncated or not gzip; re-download it.") from err
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
    """The folder holding ``dataset``'s files: root/<dataset>, then (Fashion-MNIST) the Debian package's."""
    root = pathlib.Path(root) if root is not None else default_root()
    candidates = [root / dataset, root]
    if dataset == "fashion-mnist":
        candidates.append(FASHION_MNIST_SYSTEM_DIR)
    needed = list(CHECKSUMS[dataset]) if dataset != "cifar10" else []
    for folder in candidates:
        if dataset == "cifar10":
            if any((folder / name).exists() for name in CHECKSUMS["cifar10"]):
                return folder
        elif all((folder / name).exists() for name in needed):
            return folder
    files = ", ".join(CHECKSUMS[dataset])
    raise DataError(
        f"{dataset} not found (looked in {', '.join(str(c) for c in candidates)}; "
        f"needed: {files}). {_hint(dataset, root / dataset)}"
    )


def load_idx_dataset(dataset: str, train: bool = True, root=None, verify: bool = True):
    """Load MNIST or Fashion-MNIST: (images uint8 (N, 28, 28), labels int64 (N,)).

    Args:
        dataset: "mnist" or "fashion-mnist".
        train: the 60,000-image training split, or the 10,000-image test split.
        root: data folder (``default_root()`` when None); Fashion-MNIST also falls back to the
            Debian package's folder.
        verify: check MD5s against ``CHECKSUMS`` before parsing.
    """
    if dataset not in ("mnist", "fashion-mnist"):
        raise ValueError(f"Invalid dataset value: {dataset!r}; expected 'mnist' or 'fashion-mnist'.")
    folder = find_dataset_dir(dataset, root)
    arrays = {}
    for kind in ("images", "labels"):
        path = folder / IDX_FILES[(train, kind)]
        if verify:
            _verify(path, dataset, folder)
        arrays[kind] = read_idx(path, kind)
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
    folder = find_dataset_dir("cifar10", root)
    names = [f"data_batch_{i}" for i in range(1, 6)] if train else ["test_batch"]
    binary, python = folder / "cifar-10-binary.tar.gz", folder / "cifar-10-python.tar.gz"
    path = binary if binary.exists() else python
    if verify or path == python:
        _verify(path, "cifar10", folder)
    try:
        with tarfile.open(path, "r:gz") as tar:
            images, labels = (_cifar_binary if path == binary else _cifar_python)(tar, names)
    except (tarfile.TarError, KeyError, OSError, EOFError) as err:
        raise DataError(f"Cannot read {path}: {err}. The archive is corrupt or incomplete; re-download it.") from err
    return torch.from_numpy(np.concatenate(images)), torch.from_numpy(np.concatenate(labels))
