"""Run figure notebooks under two CPU-kernel settings and compare every file they write, byte for byte.

    python tests/byte_stability.py fig3-nongrad.ipynb [fig1-overview.ipynb ...] [--against-committed]

Each run executes a copy of the notebook in its own temporary folder (with ``functions/`` and the cached
training runs linked in), so the checkout is not touched. Setting "default" uses the machine's best kernels;
setting "baseline" forces the generic ones: ``ATEN_CPU_CAPABILITY=default`` (torch), ``NPY_DISABLE_CPU_FEATURES``
(numpy's dispatched SIMD), ``OPENBLAS_CORETYPE=Prescott`` (OpenBLAS). Exit status 1 and the differing files
when any byte differs; with ``--against-committed`` the files are also compared with the committed ones.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import subprocess
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import clear_explore_outputs

ROOT = pathlib.Path(__file__).resolve().parents[1]

SETTINGS = {
    "default": {},
    "baseline": {
        "ATEN_CPU_CAPABILITY": "default",
        "NPY_DISABLE_CPU_FEATURES": "X86_V3 X86_V4",
        "OPENBLAS_CORETYPE": "Prescott",
    },
}


def run(notebook: str, setting: str, workdir: pathlib.Path) -> dict[str, bytes]:
    """Execute ``notebook`` in ``workdir`` under ``setting``; return {relative path: bytes} of what it wrote."""
    workdir.mkdir(parents=True)
    (workdir / notebook).write_bytes((ROOT / notebook).read_bytes())
    (workdir / "functions").symlink_to(ROOT / "functions")
    (workdir / "results").mkdir()
    (workdir / "results" / "training").symlink_to(ROOT / "results" / "training")
    env = {k: v for k, v in os.environ.items() if k not in {"ATEN_CPU_CAPABILITY", "NPY_DISABLE_CPU_FEATURES",
                                                            "OPENBLAS_CORETYPE"}}  # fmt: skip
    env |= SETTINGS[setting] | {"MPLBACKEND": "agg"}  # as `make figures` runs the kernels
    cmd = [
        sys.executable,
        "-m",
        "jupyter",
        "nbconvert",
        "--to",
        "notebook",
        "--execute",
        "--inplace",
        "--ExecutePreprocessor.record_timing=False",
        "--ExecutePreprocessor.store_widget_state=False",
        notebook,
    ]  # fmt: skip  (as `make figures` does)
    subprocess.run(cmd, cwd=workdir, env=env, check=True, capture_output=True)
    clear_explore_outputs.clear(workdir / notebook)
    files = {}
    for path in sorted(workdir.rglob("*")):
        rel = path.relative_to(workdir)
        if (
            path.is_file()
            and not path.is_symlink()
            and rel.parts[:2] != ("results", "training")
            and rel.parts[0] != "functions"
        ):
            files[str(rel)] = path.read_bytes()
    return files


def compare(notebooks, against_committed: bool = False) -> list[str]:
    """The files that differ between the two settings (and from the committed ones, if asked)."""
    differ = []
    with tempfile.TemporaryDirectory() as tmp:
        for nb in notebooks:
            runs = {s: run(nb, s, pathlib.Path(tmp) / s / pathlib.Path(nb).stem) for s in SETTINGS}
            a, b = runs.values()
            for name in sorted(set(a) | set(b)):
                if a.get(name) != b.get(name):
                    differ.append(f"{name}: differs between settings {' and '.join(SETTINGS)}")
                elif against_committed and (ROOT / name).read_bytes() != a[name]:
                    differ.append(f"{name}: differs from the committed file")
            print(f"{nb}: {len(a)} files compared", flush=True)
    return differ


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+")
    parser.add_argument("--against-committed", action="store_true")
    args = parser.parse_args(argv)
    differ = compare(args.notebooks, args.against_committed)
    for line in differ:
        print(line)
    print("byte-stable" if not differ else f"{len(differ)} files differ")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
