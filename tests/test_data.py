"""Loaders and downloader on generated files in the exact formats, and on the real Fashion-MNIST."""

import gzip
import io
import pathlib
import pickle
import re
import tarfile

import numpy as np
import pytest
import torch

from functions import data as D
from functions.download import download


def _idx_bytes(array: np.ndarray, magic: int) -> bytes:
    header = magic.to_bytes(4, "big") + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    return header + array.astype(np.uint8).tobytes()


def _write_idx_dataset(folder, n_train=12, n_test=5, seed=0):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for train, n in ((True, n_train), (False, n_test)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n, dtype=np.uint8)
        (folder / D.IDX_FILES[(train, "images")]).write_bytes(gzip.compress(_idx_bytes(images, 0x803), mtime=0))
        (folder / D.IDX_FILES[(train, "labels")]).write_bytes(gzip.compress(_idx_bytes(labels, 0x801), mtime=0))
        out[train] = (images, labels)
    return out


@pytest.fixture
def mnist_root(tmp_path, monkeypatch):
    arrays = _write_idx_dataset(tmp_path / "mnist")
    sums = {name: D.content_md5(tmp_path / "mnist" / name) for name in D.CHECKSUMS["mnist"]}
    monkeypatch.setitem(D.CHECKSUMS, "mnist", sums)
    return tmp_path, arrays


def test_idx_loader_round_trip(mnist_root):
    root, arrays = mnist_root
    for train in (True, False):
        images, labels = D.load_idx_dataset("mnist", train=train, root=root)
        assert images.dtype == torch.uint8 and labels.dtype == torch.int64
        np.testing.assert_array_equal(images.numpy(), arrays[train][0])
        np.testing.assert_array_equal(labels.numpy(), arrays[train][1])


def test_bad_checksum_is_refused(mnist_root, monkeypatch):
    root, _ = mnist_root
    monkeypatch.setitem(D.CHECKSUMS, "mnist", {k: "0" * 32 for k in D.CHECKSUMS["mnist"]})
    with pytest.raises(D.DataError, match="Checksum mismatch.*uncompressed payload MD5 .*expected 0{32}.*delete it"):
        D.load_idx_dataset("mnist", root=root)


def test_wrong_magic_and_truncation(tmp_path):
    labels = np.arange(10, dtype=np.uint8)
    bad_magic = tmp_path / "bad.gz"
    bad_magic.write_bytes(gzip.compress(_idx_bytes(labels, 0x803)))
    with pytest.raises(D.DataError, match="magic number 0x00000803, expected 0x00000801"):
        D.read_idx(bad_magic, "labels")
    short = tmp_path / "short.gz"
    short.write_bytes(gzip.compress(_idx_bytes(labels, 0x801)[:-3]))
    with pytest.raises(D.DataError, match="truncated"):
        D.read_idx(short, "labels")
    broken_gzip = tmp_path / "broken.gz"
    broken_gzip.write_bytes(gzip.compress(_idx_bytes(labels, 0x801))[:20])
    with pytest.raises(D.DataError, match="truncated, corrupt or not gzip"):
        D.read_idx(broken_gzip, "labels")


def test_missing_dataset_says_what_to_do(tmp_path):
    with pytest.raises(D.DataError, match=r"mnist not found.*train-images-idx3-ubyte.gz.*python -m functions.download"):
        D.load_idx_dataset("mnist", root=tmp_path)


def test_missing_data_hint_gives_a_command_that_works(tmp_path, monkeypatch):
    """The suggested `--root` is the data folder itself: the downloader then fills the folder the loader searches."""
    with pytest.raises(D.DataError) as err:
        D.load_idx_dataset("mnist", root=tmp_path)
    suggested = re.search(r"--root (\S+)`", str(err.value)).group(1)
    assert suggested == str(tmp_path)
    mirror = tmp_path / "mirror"
    _write_idx_dataset(mirror)
    monkeypatch.setitem(D.CHECKSUMS, "mnist", {n: D.content_md5(mirror / n) for n in D.CHECKSUMS["mnist"]})
    download("mnist", root=suggested, base_url=mirror.as_uri())
    assert D.load_idx_dataset("mnist", root=tmp_path)[0].shape == (12, 28, 28)


def test_recompressed_payload_is_accepted_and_a_changed_byte_refused(mnist_root):
    """Checksums are of the uncompressed payload: another gzip of the same bytes passes, one flipped pixel does not."""
    root, arrays = mnist_root
    path = root / "mnist" / D.IDX_FILES[(True, "images")]
    payload = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(payload, compresslevel=1, mtime=123456))
    assert D.md5sum(path) != D.CHECKSUMS["mnist"][path.name], "a different container"
    images, _ = D.load_idx_dataset("mnist", root=root)
    np.testing.assert_array_equal(images.numpy(), arrays[True][0])
    changed = bytearray(payload)
    changed[-1] ^= 1
    path.write_bytes(gzip.compress(bytes(changed), mtime=0))
    with pytest.raises(D.DataError) as err:
        D.load_idx_dataset("mnist", root=root)
    message = str(err.value)
    assert str(path) in message and D.CHECKSUMS["mnist"][path.name] in message
    assert D.content_md5(path) in message and "delete it" in message and "python -m functions.download" in message


def test_payload_is_verified_before_parsing(mnist_root, monkeypatch):
    root, _ = mnist_root
    monkeypatch.setitem(D.CHECKSUMS["mnist"], "train-labels-idx1-ubyte.gz", "0" * 32)
    monkeypatch.setattr(D, "read_idx", lambda *a, **k: pytest.fail("parsed before the checksum was checked"))
    with pytest.raises(D.DataError, match="Checksum mismatch"):
        D.load_idx_dataset("mnist", root=root)


def test_official_payload_checksums():
    """The published MD5s of the uncompressed payloads (MNIST: the widely published ones; Fashion-MNIST: upstream's)."""
    assert D.CHECKSUMS["mnist"] == {
        "train-images-idx3-ubyte.gz": "6bbc9ace898e44ae57da46a324031adb",
        "train-labels-idx1-ubyte.gz": "a25bea736e30d166cdddb491f175f624",
        "t10k-images-idx3-ubyte.gz": "2646ac647ad5339dbf082846283269ea",
        "t10k-labels-idx1-ubyte.gz": "27ae3e4e09519cfbb04c329615203637",
    }
    assert D.CHECKSUMS["fashion-mnist"]["train-images-idx3-ubyte.gz"] == "f4a8712d7a061bf5bd6d2ca38dc4d50a"


def _cifar_arrays(n, seed):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(n, 3, 32, 32), dtype=np.uint8), rng.integers(0, 10, size=n).astype(np.uint8)


def _add(tar, name, payload):
    info = tarfile.TarInfo(name)
    info.size = len(payload)
    tar.addfile(info, io.BytesIO(payload))


def _write_cifar(folder, fmt):
    folder.mkdir(parents=True, exist_ok=True)
    batches = {f"data_batch_{i}": _cifar_arrays(4, i) for i in range(1, 6)} | {"test_batch": _cifar_arrays(3, 9)}
    path = folder / f"cifar-10-{fmt}.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for name, (x, y) in batches.items():
            if fmt == "binary":
                records = np.concatenate([y[:, None], x.reshape(len(y), -1)], axis=1)
                _add(tar, f"cifar-10-batches-bin/{name}.bin", records.tobytes())
            else:
                payload = pickle.dumps({b"data": x.reshape(len(y), -1), b"labels": y.tolist()})
                _add(tar, f"cifar-10-batches-py/{name}", payload)
    return path, batches


@pytest.mark.parametrize("fmt", ["binary", "python"])
def test_cifar_loader_both_formats(tmp_path, monkeypatch, fmt):
    path, batches = _write_cifar(tmp_path / "cifar10", fmt)
    monkeypatch.setitem(D.CHECKSUMS, "cifar10", {path.name: D.md5sum(path)})
    x, y = D.load_cifar10(train=True, root=tmp_path)
    assert x.shape == (20, 3, 32, 32) and x.dtype == torch.uint8 and y.dtype == torch.int64
    np.testing.assert_array_equal(x[:4].numpy(), batches["data_batch_1"][0])
    np.testing.assert_array_equal(y[-4:].numpy(), batches["data_batch_5"][1])
    xt, yt = D.load_cifar10(train=False, root=tmp_path)
    np.testing.assert_array_equal(yt.numpy(), batches["test_batch"][1])
    np.testing.assert_array_equal(xt.numpy(), batches["test_batch"][0])


def test_cifar_python_checksum_checked_before_unpickling(tmp_path, monkeypatch):
    path, _ = _write_cifar(tmp_path / "cifar10", "python")
    monkeypatch.setitem(D.CHECKSUMS, "cifar10", {path.name: "f" * 32})
    monkeypatch.setattr(D.pickle, "load", lambda *a, **k: pytest.fail("unpickled before checking"))
    with pytest.raises(D.DataError, match="Checksum mismatch"):
        D.load_cifar10(root=tmp_path, verify=False)


def test_cifar_truncated_archive(tmp_path, monkeypatch):
    path, _ = _write_cifar(tmp_path / "cifar10", "binary")
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(D.DataError, match="corrupt or incomplete"):
        D.load_cifar10(root=tmp_path, verify=False)


def test_download_from_mirror_verifies_and_is_atomic(tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    _write_idx_dataset(mirror)
    sums = {name: D.content_md5(mirror / name) for name in D.CHECKSUMS["mnist"]}
    monkeypatch.setitem(D.CHECKSUMS, "mnist", sums)
    paths = download("mnist", root=tmp_path / "data", base_url=mirror.as_uri())
    assert [p.name for p in paths] == list(D.CHECKSUMS["mnist"])
    images, _ = D.load_idx_dataset("mnist", root=tmp_path / "data")
    assert images.shape == (12, 28, 28)
    # a corrupted mirror file is rejected and leaves nothing behind
    (tmp_path / "data" / "mnist" / "t10k-labels-idx1-ubyte.gz").unlink()
    (mirror / "t10k-labels-idx1-ubyte.gz").write_bytes(b"garbage")
    with pytest.raises(D.DataError, match="discarded"):
        download("mnist", root=tmp_path / "data", base_url=mirror.as_uri())
    assert sorted(p.name for p in (tmp_path / "data" / "mnist").iterdir()) == sorted(list(sums)[:3])


def test_download_offline_names_files_and_command(tmp_path):
    with pytest.raises(D.DataError, match=r"Without a network, copy train-images.*python -m functions.download mnist"):
        download("mnist", root=tmp_path, base_url=(tmp_path / "nowhere").as_uri())


@pytest.mark.skipif(not D.FASHION_MNIST_SYSTEM_DIR.exists(), reason="apt-get install dataset-fashion-mnist")
def test_real_fashion_mnist(tmp_path):
    images, labels = D.load_idx_dataset("fashion-mnist", train=True, root=tmp_path)
    assert images.shape == (60000, 28, 28) and images.dtype == torch.uint8
    assert torch.bincount(labels).tolist() == [6000] * 10
    assert images.min() == 0 and images.max() == 255
    test_images, test_labels = D.load_idx_dataset("fashion-mnist", train=False, root=tmp_path)
    assert test_images.shape == (10000, 28, 28) and torch.bincount(test_labels).tolist() == [1000] * 10


#: The offline copies of the paper's datasets beside the repository (see DEVELOPERS.md); absent for most users.
SHARED_DATA = pathlib.Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.mark.skipif(not (SHARED_DATA / "mnist").is_dir(), reason=f"no offline MNIST copy in {SHARED_DATA}")
def test_real_mnist_with_recompressed_training_images():
    """The official MNIST payloads, the training images in a recompressed gzip (see ../shared/data/README.md)."""
    images, labels = D.load_idx_dataset("mnist", train=True, root=SHARED_DATA)
    assert images.shape == (60000, 28, 28) and labels.shape == (60000,)
    assert torch.bincount(labels).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    test_images, test_labels = D.load_idx_dataset("mnist", train=False, root=SHARED_DATA)
    assert test_images.shape == (10000, 28, 28) and test_labels[:5].tolist() == [7, 2, 1, 0, 4]


@pytest.mark.parametrize("base_url", ["not-a-url", "ftp://example.org/mnist", ""])
def test_download_refuses_a_base_url_that_is_not_a_url(tmp_path, capsys, base_url):
    from functions.download import main

    with pytest.raises(SystemExit) as exit_info:
        main(["mnist", "--root", str(tmp_path), "--base-url", base_url])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "Invalid base_url value" in err and "http://, https:// or file:// URL" in err and "Traceback" not in err
    assert not (tmp_path / "mnist").exists(), "nothing created"


def _flip_into_a_zlib_error(path):
    """Flip the first byte whose change makes zlib itself fail (not only the CRC): the case that used to escape."""
    import zlib

    raw = path.read_bytes()
    for i in range(10, len(raw) - 8):  # after the 10-byte gzip header, before the CRC and length
        bad = raw[:i] + bytes([raw[i] ^ 0xFF]) + raw[i + 1 :]
        try:
            gzip.decompress(bad)
        except zlib.error:
            path.write_bytes(bad)
            return
        except (OSError, EOFError):
            continue
    raise AssertionError("no byte flip gives a zlib.error")


def test_a_flipped_byte_in_a_gzip_is_a_data_error_not_a_zlib_traceback(tmp_path):
    """A compressible IDX file (Huffman-coded, as real images are) with one byte flipped so that zlib itself fails:
    both the payload checksum and the parser raise a DataError naming the file."""
    images = np.tile(np.arange(28, dtype=np.uint8), (40, 28, 1))  # compressible: deflate codes it, not stores it
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(_idx_bytes(images, 0x803), mtime=0))
    _flip_into_a_zlib_error(path)
    with pytest.raises(D.DataError, match=rf"{path}.*truncated, corrupt or not gzip"):
        D.content_md5(path)
    with pytest.raises(D.DataError, match="truncated, corrupt or not gzip"):
        D.read_idx(path, "images")


def test_download_replaces_a_truncated_local_file(tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    _write_idx_dataset(mirror)
    sums = {name: D.content_md5(mirror / name) for name in D.CHECKSUMS["mnist"]}
    monkeypatch.setitem(D.CHECKSUMS, "mnist", sums)
    local = tmp_path / "data" / "mnist"
    local.mkdir(parents=True)
    name = "train-images-idx3-ubyte.gz"
    (local / name).write_bytes((mirror / name).read_bytes()[:40])  # an interrupted copy
    download("mnist", root=tmp_path / "data", base_url=mirror.as_uri())
    assert (local / name).read_bytes() == (mirror / name).read_bytes()


def test_a_data_root_naming_a_file_is_refused_by_the_variable_that_set_it(tmp_path, monkeypatch, capsys):
    """Issue 29: `download --root FILE` gave a traceback and $LOSSNAV_DATA=FILE a hint to run the impossible
    `download --root FILE`; now each names the option or variable, before any file is read or fetched."""
    from functions.download import main as download_main
    from functions.image_folder import load_cifar10_jpeg

    f = tmp_path / "data.tar"
    f.write_bytes(b"not a folder")
    with pytest.raises(SystemExit) as stop:
        download_main(["mnist", "--root", str(f), "--base-url", (tmp_path / "mirror").as_uri()])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and re.search(r"Invalid --root value: .*data.tar is a file; expected a folder", err)
    assert "Traceback" not in err
    monkeypatch.setenv("LOSSNAV_DATA", str(f))
    with pytest.raises(ValueError, match=r"Invalid \$LOSSNAV_DATA value: .*data.tar is a file; expected a folder"):
        download("mnist", base_url=(tmp_path / "mirror").as_uri())
    for load in (lambda: D.load_idx_dataset("mnist"), lambda: D.load_cifar10(), lambda: load_cifar10_jpeg()):
        with pytest.raises(ValueError, match=r"Invalid \$LOSSNAV_DATA value: .*data.tar is a file; expected the"):
            load()
    with pytest.raises(ValueError, match=r"Invalid root value: .*data.tar/inner lies under the file .*data.tar"):
        D.load_idx_dataset("mnist", root=f / "inner")
    assert f.read_bytes() == b"not a folder" and sorted(p.name for p in tmp_path.iterdir()) == ["data.tar"]


def test_download_into_a_read_only_data_folder_is_refused_before_fetching(read_only_folder, tmp_path):
    with pytest.raises(ValueError, match=r"Invalid root value: .*read-only is not writable"):
        download("mnist", root=read_only_folder, base_url=(tmp_path / "nowhere").as_uri())
