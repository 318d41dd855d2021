"""Download MNIST, Fashion-MNIST and CIFAR-10 with checksum verification and atomic writes.

Command line: ``python -m functions.download {mnist,fashion-mnist,cifar10} [--root data]``.
Each file is fetched to a temporary name beside its destination, its MD5 checked against
``data.CHECKSUMS``, and only then renamed into place; a file already present and valid is skipped.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import shutil
import urllib.error
import urllib.parse
import urllib.request

from ._io import atomic_path, check_output_folder
from .data import CHECKSUMS, DataError, content_md5, default_root

__all__ = ["SOURCES", "download", "main"]

#: Base URL and file names per dataset (CIFAR-10: the binary tarball, which needs no unpickling).
SOURCES = {
    "mnist": ("https://ossci-datasets.s3.amazonaws.com/mnist/", list(CHECKSUMS["mnist"])),
    "fashion-mnist": ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/", list(CHECKSUMS["fashion-mnist"])),
    "cifar10": ("https://www.cs.toronto.edu/~kriz/", ["cifar-10-binary.tar.gz"]),
}


def download(dataset: str, root=None, base_url: str | None = None, timeout: float = 60.0, *,
             root_name: str = "root") -> list[pathlib.Path]:  # fmt: skip
    """Fetch ``dataset``'s files into ``root/<dataset>/``; returns their paths.

    ``root`` (``root_name`` in messages; ``$LOSSNAV_DATA`` or data/ when None) must be a folder this user can
    write, checked before anything is fetched.

    Raises:
        ValueError: a bad dataset, mirror or root (a file, a path under one, a folder that cannot be written).
        DataError: a download failed (offline: the message lists the files, the folder and the
            command to run elsewhere) or a checksum did not match (nothing is left behind).
    """
    if dataset not in SOURCES:
        raise ValueError(
            f"Invalid dataset value: {dataset!r}; expected one of {sorted(SOURCES)} "
            "(cifar10-jpeg is not downloaded: see the README, *Data*)."
        )
    url_base, names = SOURCES[dataset]
    url_base = url_base if base_url is None else base_url
    if urllib.parse.urlsplit(url_base).scheme not in ("http", "https", "file"):
        raise ValueError(
            f"Invalid base_url value: {url_base!r}; expected an http://, https:// or file:// URL of a folder "
            f"holding {', '.join(names)}."
        )
    if root is None:
        root_name = "$LOSSNAV_DATA" if os.environ.get("LOSSNAV_DATA") else "the default data folder"
        root = default_root()
    root = check_output_folder(root, root_name)
    folder = root / dataset
    check_output_folder(folder, f"{root_name} (its {dataset}/ folder)")
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in names:
        dest = folder / name
        expected = CHECKSUMS[dataset][name]
        if dest.exists() and _local_md5(dest) == expected:
            written.append(dest)
            continue  # a truncated or corrupt local file is replaced by the download below
        url = url_base.rstrip("/") + "/" + name
        try:
            with atomic_path(dest) as tmp:
                with urllib.request.urlopen(url, timeout=timeout) as response, open(tmp, "wb") as out:
                    shutil.copyfileobj(response, out)
                try:
                    actual = content_md5(tmp, name=name)
                except DataError:
                    actual = "unreadable"
                if actual != expected:
                    raise DataError(
                        f"Downloaded {url} has content MD5 {actual}, expected {expected}; "
                        "discarded. Try again later or another mirror (--base-url)."
                    )
        except (urllib.error.URLError, OSError) as err:
            raise DataError(
                f"Could not download {url} ({err}). Without a network, copy {', '.join(names)} into "
                f"{folder}/ by hand, or run `python -m functions.download {dataset} --root {root}` on a "
                "machine with one."
            ) from err
        written.append(dest)
    return written


def _local_md5(path: pathlib.Path) -> str | None:
    """The content MD5 of a file already there, or None when it cannot be read (truncated, not gzip)."""
    try:
        return content_md5(path)
    except DataError:
        return None


def main(argv=None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", choices=sorted(SOURCES))
    parser.add_argument("--root", default=None, help="data folder (default: data/ or $LOSSNAV_DATA)")
    parser.add_argument("--base-url", default=None, help="mirror to use instead of the default")
    args = parser.parse_args(argv)
    try:
        paths = download(args.dataset, args.root, args.base_url, root_name="--root")
    except (ValueError, DataError) as err:
        parser.exit(2, f"{parser.prog}: error: {err}\n")
    for path in paths:
        print(f"ok  {path}")


if __name__ == "__main__":
    main()
