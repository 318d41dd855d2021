"""The class-folder CIFAR-10 loader (cifar10-jpeg) on generated copies, folder and archive, and on the real copy."""

import pathlib
import tarfile

import numpy as np
import pytest
import torch
from PIL import Image

from functions import image_folder as F
from functions.data import DataError

PER_CLASS = 2


def _write_copy(root, per_class=PER_CLASS, size=(32, 32), mode="RGB", classes=F.CIFAR10_CLASSES, fmt="png"):
    """A small copy in root/cifar10-jpeg/{train,test}/<class>/NNNN.<fmt>; returns the train images by class."""
    rng = np.random.default_rng(0)
    expected = {}
    for split in ("train", "test"):
        for c in classes:
            folder = root / F.DATASET / split / c
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(per_class):
                pixels = rng.integers(0, 256, size=(size[1], size[0], 3), dtype=np.uint8)
                img = Image.fromarray(pixels, "RGB").convert(mode)
                img.save(folder / f"{i:04d}.{fmt}")
                if split == "train":
                    expected.setdefault(c, []).append(pixels.transpose(2, 0, 1))
    return expected


def _as_archive(root):
    folder = root / F.DATASET
    archive = root / "copy.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for split in ("train", "test"):
            tar.add(folder / split, arcname=split)
    for path in sorted(folder.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    archive.rename(folder / "copy.tar.gz")


@pytest.mark.parametrize("source", ["folder", "archive"])
def test_round_trip_in_label_order(tmp_path, source):
    expected = _write_copy(tmp_path)
    if source == "archive":
        _as_archive(tmp_path)
    x, y = F.load_cifar10_jpeg(train=True, root=tmp_path, per_class=PER_CLASS)
    assert x.dtype == torch.uint8 and x.shape == (10 * PER_CLASS, 3, 32, 32) and y.dtype == torch.int64
    assert y.tolist() == [k for k in range(10) for _ in range(PER_CLASS)], "CIFAR-10 label order"
    for k, c in enumerate(F.CIFAR10_CLASSES):
        np.testing.assert_array_equal(x[k * PER_CLASS].numpy(), expected[c][0])  # PNG: lossless
    xt, yt = F.load_cifar10_jpeg(train=False, root=tmp_path, per_class=PER_CLASS)
    assert xt.shape == (10 * PER_CLASS, 3, 32, 32) and torch.bincount(yt).tolist() == [PER_CLASS] * 10


def test_cache_is_used_and_a_corrupt_cache_rebuilt(tmp_path, monkeypatch):
    _write_copy(tmp_path, fmt="jpg")
    x1, y1 = F.load_cifar10_jpeg(root=tmp_path, per_class=PER_CLASS)
    caches = list((tmp_path / F.DATASET / ".cache").glob("train-*.npz"))
    assert len(caches) == 1 and caches[0].stat().st_mode & 0o777 == 0o644
    real_decode = F._decode
    monkeypatch.setattr(F, "_decode", lambda *a: pytest.fail("decoded although cached"))
    x2, y2 = F.load_cifar10_jpeg(root=tmp_path, per_class=PER_CLASS)
    assert torch.equal(x1, x2) and torch.equal(y1, y2)
    with np.load(caches[0]) as z:
        images, labels, md5 = z["images"].copy(), z["labels"], z["md5"]
    images[0, 0, 0, 0] ^= 1
    np.savez(caches[0], images=images, labels=labels, md5=md5)
    monkeypatch.setattr(F, "_decode", real_decode)
    with pytest.warns(UserWarning, match="checksum does not match"):
        x3, _ = F.load_cifar10_jpeg(root=tmp_path, per_class=PER_CLASS)
    assert torch.equal(x1, x3), "rebuilt from the images"


def test_changed_image_changes_the_cache_key(tmp_path):
    _write_copy(tmp_path)
    x1, _ = F.load_cifar10_jpeg(root=tmp_path, per_class=PER_CLASS)
    Image.new("RGB", (32, 32), (1, 2, 3)).save(tmp_path / F.DATASET / "train" / "cat" / "0000.png")
    x2, _ = F.load_cifar10_jpeg(root=tmp_path, per_class=PER_CLASS)
    assert torch.equal(x2[3 * PER_CLASS], torch.tensor([1, 2, 3], dtype=torch.uint8).view(3, 1, 1).expand(3, 32, 32))
    assert not torch.equal(x1, x2)


def test_missing_class(tmp_path):
    _write_copy(tmp_path, classes=F.CIFAR10_CLASSES[:-1])
    with pytest.raises(DataError, match="10 class folders.*missing: truck; unexpected: none"):
        F.load_cifar10_jpeg(root=tmp_path, per_class=PER_CLASS)


def test_wrong_count_names_the_class(tmp_path):
    _write_copy(tmp_path)
    (tmp_path / F.DATASET / "train" / "dog" / "0001.png").unlink()
    with pytest.raises(DataError, match="2 images per class.*found dog 1"):
        F.load_cifar10_jpeg(root=tmp_path, per_class=PER_CLASS)
    with pytest.raises(DataError, match="5000 images per class"):
        F.load_cifar10_jpeg(root=tmp_path)


def test_wrong_size(tmp_path):
    _write_copy(tmp_path, size=(28, 28))
    with pytest.raises(DataError, match=r"airplane/0000.png is 28x28; CIFAR-10 images are 32x32"):
        F.load_cifar10_jpeg(root=tmp_path, per_class=PER_CLASS)


def test_greyscale_is_refused(tmp_path):
    _write_copy(tmp_path, mode="L")
    with pytest.raises(DataError, match="is greyscale; CIFAR-10 images are RGB"):
        F.load_cifar10_jpeg(root=tmp_path, per_class=PER_CLASS)


def test_corrupt_image_and_archive(tmp_path):
    _write_copy(tmp_path)
    (tmp_path / F.DATASET / "test" / "ship" / "0000.png").write_bytes(b"not an image")
    with pytest.raises(DataError, match="cannot decode test/ship/0000.png"):
        F.load_cifar10_jpeg(train=False, root=tmp_path, per_class=PER_CLASS)
    _as_archive(tmp_path)
    archive = tmp_path / F.DATASET / "copy.tar.gz"
    archive.write_bytes(archive.read_bytes()[:300])
    with pytest.raises(DataError, match="corrupt or incomplete"):
        F.load_cifar10_jpeg(root=tmp_path, per_class=PER_CLASS)


def test_missing_copy_says_where_to_put_it(tmp_path):
    with pytest.raises(DataError, match=r"cifar10-jpeg not found.*README"):
        F.load_cifar10_jpeg(root=tmp_path)


SHARED_COPY = pathlib.Path(__file__).resolve().parents[2] / "shared" / "data" / "cifar10-jpeg.tar.gz"


@pytest.mark.skipif(not SHARED_COPY.is_file(), reason=f"no offline CIFAR-10 JPEG copy at {SHARED_COPY}")
def test_real_jpeg_copy_test_split(tmp_path):
    (tmp_path / F.DATASET).mkdir()
    (tmp_path / F.DATASET / SHARED_COPY.name).symlink_to(SHARED_COPY)
    x, y = F.load_cifar10_jpeg(train=False, root=tmp_path)
    assert x.shape == (10000, 3, 32, 32) and torch.bincount(y).tolist() == [1000] * 10
    mean = (x.double() / 255).mean(dim=(0, 2, 3))
    torch.testing.assert_close(mean, torch.tensor([0.4914, 0.4822, 0.4465]).double(), atol=0.01, rtol=0)


def test_a_flipped_byte_in_the_archive_is_refused_not_cached(tmp_path):
    """One flipped byte mid-archive: the gzip CRC (checked at the end of the stream) refuses it; no cache."""
    _write_copy(tmp_path, fmt="png")
    _as_archive(tmp_path)
    archive = tmp_path / F.DATASET / "copy.tar.gz"
    raw = bytearray(archive.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    archive.write_bytes(bytes(raw))
    with pytest.raises(DataError, match=r"copy.tar.gz.*corrupt or incomplete; fetch it again"):
        F.load_cifar10_jpeg(root=tmp_path, per_class=PER_CLASS)
    assert not list((tmp_path / F.DATASET).glob(".cache/*.npz")), "nothing cached"


@pytest.mark.parametrize("damage", ["empty", "truncated"])
def test_an_empty_or_truncated_cache_is_rebuilt(tmp_path, damage):
    _write_copy(tmp_path, fmt="jpg")
    x1, _ = F.load_cifar10_jpeg(root=tmp_path, per_class=PER_CLASS)
    (cache,) = (tmp_path / F.DATASET / ".cache").glob("train-*.npz")
    cache.write_bytes(b"" if damage == "empty" else cache.read_bytes()[: cache.stat().st_size // 2])
    with pytest.warns(UserWarning, match="Ignoring unreadable cache"):
        x2, _ = F.load_cifar10_jpeg(root=tmp_path, per_class=PER_CLASS)
    assert torch.equal(x1, x2)
    assert F._read_cache(cache) is not None, "rewritten"
