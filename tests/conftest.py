"""Shared test setup: a headless matplotlib backend and float64 torch numerics."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import torch

torch.set_default_dtype(torch.float64)


@pytest.fixture
def rng():
    """A seeded numpy generator, fresh for every test."""
    return np.random.default_rng(20251030)


@pytest.fixture
def small_logistic():
    """A small L2-regularised logistic regression (d = 15) on seeded, class-structured data: a real-model stand-in
    with every method the learners and solvers call (gradients, Hessian, minibatch second moment)."""
    from functions.logistic import LogisticRegression

    rng = np.random.default_rng(3)
    n, p, C = 200, 4, 3
    X = rng.standard_normal((n, p)) * np.linspace(0.3, 1.5, p)
    y = np.argmax(X @ rng.standard_normal((C, p)).T + rng.gumbel(size=(n, C)), axis=1)
    return LogisticRegression(X, y, 1e-3, n_classes=C)


#: Test modules that start processes, kernels, browsers or clusters, or train: `pytest -m "not slow"` skips them
#: (and the notebooks under nbval) for a quick inner loop; `make test` runs everything.
SLOW_MODULES = {"test_browser", "test_byte_stability", "test_campaign", "test_checkpoint", "test_lab",
                "test_notebook_parameters", "test_packaging", "test_papermill", "test_run_lock",
                "test_bench_study"}  # fmt: skip


def pytest_collection_modifyitems(config, items):
    for item in items:
        path = getattr(item, "path", None)
        if path is not None and (path.suffix == ".ipynb" or path.stem in SLOW_MODULES):
            item.add_marker(pytest.mark.slow)
        if path is not None and path.stem in {"test_campaign", "test_lab", "test_browser", "test_papermill"}:
            item.add_marker(pytest.mark.integration)


def _tree_state(root):
    """The working tree as git sees it: every changed or new (not ignored) path, with its size and mtime."""
    import os
    import subprocess

    out = subprocess.run(["git", "status", "--porcelain", "-z", "--untracked-files=all"], cwd=root,
                         capture_output=True, timeout=60)  # fmt: skip
    if out.returncode != 0:
        return None  # not a git checkout (tests/mutation.py's copy): nothing to compare
    state = {}
    for entry in filter(None, out.stdout.split(b"\0")):
        path = os.path.join(root, os.fsdecode(entry[3:]))
        try:
            st = os.stat(path)
            state[entry] = (st.st_size, st.st_mtime_ns)
        except OSError:
            state[entry] = None  # deleted
    return state


@pytest.fixture(autouse=True)
def _working_tree_unchanged(request):
    """Every test leaves the working tree as it found it (``git status`` and the files it lists): a test
    of bad input that wrote results/, records or notebooks before refusing fails here, naming the paths."""
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[1]
    before = _tree_state(root)
    yield
    if before is None:
        return
    after = _tree_state(root)
    changed = sorted(k.decode(errors="replace") for k in set(before) | set(after) if before.get(k) != after.get(k))
    assert not changed, f"{request.node.nodeid} changed the working tree: {changed}"


@pytest.fixture
def read_only_folder(tmp_path):
    """A real folder this process cannot write into: permission bits 0555 for an ordinary user; for root (whom
    permission bits do not stop) a read-only tmpfs mounted there. Skipped, with the reason, where neither works."""
    import os
    import subprocess

    folder = tmp_path / "read-only"
    folder.mkdir()
    mounted = False
    if os.geteuid() == 0:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(folder)],
                              capture_output=True, text=True, timeout=30)  # fmt: skip
        if done.returncode != 0:
            pytest.skip(f"root, and a read-only tmpfs cannot be mounted here: {done.stderr.strip()}")
        mounted = True
    else:
        folder.chmod(0o555)
    try:
        (folder / "probe").touch()
    except OSError:
        pass
    else:
        pytest.fail(f"{folder} was meant to be read-only, yet a file could be created in it")
    yield folder
    if mounted:
        subprocess.run(["umount", str(folder)], check=True, timeout=30)
    else:
        folder.chmod(0o755)
