"""CIFAR-10 from the class-folder layout (``cifar10-jpeg``): ``train/<class>/*.jpg|png``, ``test/<class>/...``.

This is the layout of public image copies of CIFAR-10 (for example a JPEG copy, whose pixels are *not*
the official ones: results on it must be labelled "CIFAR-10, JPEG copy"). The copy is read from a
folder or straight from a ``.tar.gz`` of it, checked (the 10 classes in CIFAR-10's label order, 5,000
training and 1,000 test images per class, each 32x32 RGB), decoded with Pillow, and the decoded arrays
are cached once, atomically, in ``<dataset folder>/.cache/``, keyed by a SHA-256 of the source's
content (the archive bytes, or every image file's path and bytes). The cache carries an MD5 of its
arrays, checked before use; a cache that fails the check is rebuilt.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import pathlib
import tarfile
import warnings
import zipfile
import zlib

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from ._io import atomic_path
from .data import DataError, data_root

__all__ = ["CIFAR10_CLASSES", "DATASET", "IMAGES_PER_CLASS", "find_source", "load_cifar10_jpeg"]

DATASET = "cifar10-jpeg"
#: CIFAR-10's class names in its label order 0-9.
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
#: Images per class in each split of CIFAR-10.
IMAGES_PER_CLASS = {"train": 5000, "test": 1000}
_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
_SIZE = (32, 32)


def _hint(root: pathlib.Path) -> str:
    return (
        f"Put the class-folder copy (train/<class>/*.jpg and test/<class>/*.jpg, or one .tar.gz holding them) in "
        f"{root / DATASET}/; the README (*Data*) says where to get it."
    )


def find_source(root=None) -> pathlib.Path:
    """The copy under ``root``: the folder ``root/cifar10-jpeg`` (holding train/ and test/), the one .tar.gz
    inside it, or ``root/cifar10-jpeg.tar.gz``.

    Raises:
        DataError: nothing found, or several archives (ambiguous).
    """
    root = data_root(root)
    folder = root / DATASET
    if (folder / "train").is_dir() and (folder / "test").is_dir():
        return folder
    archives = sorted(folder.glob("*.tar.gz")) + sorted(folder.glob("*.tgz")) if folder.is_dir() else []
    if len(archives) > 1:
        raise DataError(f"{folder} holds several archives ({', '.join(a.name for a in archives)}); keep one.")
    if not archives and (root / f"{DATASET}.tar.gz").is_file():
        archives = [root / f"{DATASET}.tar.gz"]
    if archives:
        return archives[0]
    raise DataError(
        f"{DATASET} not found (looked for {folder}/train and test, {folder}/*.tar.gz and {root / DATASET}.tar.gz). "
        f"{_hint(root)}"
    )


def _is_image(name: str) -> bool:
    base = name.rsplit("/", 1)[-1]
    return not base.startswith(".") and base.lower().endswith(_IMAGE_SUFFIXES)


def _split_files(source: pathlib.Path, split: str) -> dict[str, bytes]:
    """{member path: bytes} of every image file under ``split/<class>/`` (one pass over an archive)."""
    out = {}
    if source.is_dir():
        for path in sorted((source / split).rglob("*")):
            name = path.relative_to(source).as_posix()
            if path.is_file() and name.count("/") == 2 and _is_image(name):
                out[name] = path.read_bytes()
        return out
    try:
        with gzip.open(source, "rb") as gz:
            with tarfile.open(fileobj=gz, mode="r|") as tar:
                for info in tar:
                    name = info.name.removeprefix("./")
                    if info.isfile() and name.count("/") == 2 and name.startswith(f"{split}/") and _is_image(name):
                        out[name] = tar.extractfile(info).read()
            while gz.read(1 << 20):  # to the end of the gzip stream, where its CRC-32 and length are checked
                pass
    except (tarfile.TarError, OSError, EOFError, zlib.error) as err:
        raise DataError(f"Cannot read {source}: {err}. The archive is corrupt or incomplete; fetch it again.") from err
    return out


def _members(files: dict[str, bytes]) -> list[tuple[str, str]]:
    """(class name, member path), sorted by class then path."""
    return sorted((name.split("/")[1], name) for name in files)


def _check_layout(members, split: str, source: pathlib.Path, per_class: int) -> None:
    classes = sorted({c for c, _ in members})
    missing = [c for c in CIFAR10_CLASSES if c not in classes]
    extra = [c for c in classes if c not in CIFAR10_CLASSES]
    if missing or extra:
        raise DataError(
            f"{source}: {split}/ must hold exactly CIFAR-10's 10 class folders {', '.join(CIFAR10_CLASSES)}; "
            f"missing: {', '.join(missing) or 'none'}; unexpected: {', '.join(extra) or 'none'}."
        )
    counts = {c: sum(1 for k, _ in members if k == c) for c in CIFAR10_CLASSES}
    wrong = {c: n for c, n in counts.items() if n != per_class}
    if wrong:
        listed = ", ".join(f"{c} {n}" for c, n in wrong.items())
        raise DataError(
            f"{source}: {split}/ must hold {per_class} images per class (CIFAR-10); found {listed}. "
            "The copy is incomplete or not CIFAR-10."
        )


def _source_digest(source: pathlib.Path, files: dict[str, bytes] | None) -> str:
    """SHA-256 of the archive bytes, or of every image file's path and bytes for a folder."""
    digest = hashlib.sha256()
    if source.is_dir():
        for name in sorted(files):
            digest.update(name.encode() + b"\0" + len(files[name]).to_bytes(8, "big") + files[name])
    else:
        with open(source, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def _decode(name: str, payload: bytes, source: pathlib.Path) -> np.ndarray:
    try:
        with Image.open(io.BytesIO(payload)) as img:
            img.load()
            mode, size = img.mode, img.size
            if mode != "RGB":
                kind = "greyscale" if mode in ("L", "LA", "I", "I;16", "1") else f"mode {mode}"
                raise DataError(f"{source}: {name} is {kind}; CIFAR-10 images are RGB. The copy is not CIFAR-10.")
            if size != _SIZE:
                raise DataError(f"{source}: {name} is {size[0]}x{size[1]}; CIFAR-10 images are 32x32.")
            return np.asarray(img, dtype=np.uint8).transpose(2, 0, 1)
    except (UnidentifiedImageError, OSError) as err:
        raise DataError(f"{source}: cannot decode {name} ({err}); the file is corrupt, fetch the copy again.") from err


def _arrays_md5(images: np.ndarray, labels: np.ndarray) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    digest.update(np.ascontiguousarray(images).data)
    digest.update(np.ascontiguousarray(labels).data)
    return digest.hexdigest()


def _read_cache(path: pathlib.Path):
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            images, labels, stored = z["images"], z["labels"], str(z["md5"])
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as err:  # truncated, empty, foreign
        warnings.warn(f"Ignoring unreadable cache {path} ({err}); decoding again.", stacklevel=3)
        return None
    if _arrays_md5(images, labels) != stored:
        warnings.warn(f"Ignoring cache {path}: its checksum does not match; decoding again.", stacklevel=3)
        return None
    return images, labels


def _write_cache(path: pathlib.Path, images: np.ndarray, labels: np.ndarray) -> None:
    try:
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, images=images, labels=labels, md5=np.array(_arrays_md5(images, labels)))
    except OSError as err:
        warnings.warn(f"Could not write the decoded-image cache {path} ({err}); continuing without it.", stacklevel=3)


def load_cifar10_jpeg(train: bool = True, root=None, cache: bool = True, per_class: int | None = None):
    """Load the class-folder copy of CIFAR-10: (uint8 (N, 3, 32, 32), int64 (N,)), ordered by class, then file name.

    Args:
        train: the training split (5,000 per class) or the test split (1,000 per class).
        root: data folder (``default_root()`` when None); the copy lives in ``root/cifar10-jpeg/``.
        cache: read and write the decoded arrays in ``root/cifar10-jpeg/.cache/``.
        per_class: images expected per class (default: CIFAR-10's); for tests on small copies.

    Raises:
        DataError: missing copy, wrong classes or counts, an image that is not 32x32 RGB, corrupt files.
    """
    split = "train" if train else "test"
    per_class = IMAGES_PER_CLASS[split] if per_class is None else per_class
    root = data_root(root)
    source = find_source(root)
    files = _split_files(source, split) if source.is_dir() else None  # an archive is hashed without reading it
    cache_path = root / DATASET / ".cache" / f"{split}-{per_class}-{_source_digest(source, files)[:20]}.npz"
    cached = _read_cache(cache_path) if cache else None
    if cached is not None:
        return torch.from_numpy(cached[0]), torch.from_numpy(cached[1])
    files = files if files is not None else _split_files(source, split)
    members = _members(files)
    _check_layout(members, split, source, per_class)
    images = np.stack([_decode(m, files[m], source) for _, m in members])
    labels = np.array([CIFAR10_CLASSES.index(c) for c, _ in members], dtype=np.int64)
    if cache:
        _write_cache(cache_path, images, labels)
    return torch.from_numpy(images), torch.from_numpy(labels)
