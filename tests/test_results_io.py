import json

import matplotlib.pyplot as plt
import numpy as np
import pytest

from functions.plotting import save_figure
from functions.results_io import atomic_path, fmt_point, fmt_small, read_json, rounded, write_json


def test_rounded_and_write_json(tmp_path):
    path = write_json(tmp_path / "r.json", {"x": np.float64(1 / 3), "v": np.array([2 / 3, 0.0]), "ok": np.bool_(1)})
    assert json.loads(path.read_text()) == {"x": 0.333333, "v": [0.666667, 0.0], "ok": True}
    assert rounded({"n": np.int64(3)}) == {"n": 3}


def test_atomic_write_keeps_old_file_on_failure(tmp_path):
    path = write_json(tmp_path / "r.json", {"a": 1})
    with pytest.raises(RuntimeError), atomic_path(path) as tmp:
        tmp.write_text("partial")
        raise RuntimeError("crash while writing")
    assert read_json(path) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"], "temporary file cleaned up"


def test_read_json_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="make figures"):
        read_json(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        read_json(tmp_path / "bad.json")


def test_formatters():
    assert fmt_small(3e-15) == "< 1e-12" and fmt_small(2.5e-3) == "2.5e-03"
    assert fmt_point([-1e-18, 0.5]) == "(+0.0000, +0.5000)"


def test_saved_figures_are_byte_stable(tmp_path):
    def draw(stem):
        fig, ax = plt.subplots()
        ax.plot([0, 1], [1, 0])
        ax.set_title("x")
        paths = save_figure(fig, stem)
        plt.close(fig)
        return [p.read_bytes() for p in paths]

    assert draw(tmp_path / "one") == draw(tmp_path / "two")


def test_atomic_write_leaves_an_ordinary_readable_file(tmp_path):
    """mkstemp creates 0600 files; results must end up 0644 like any file the user writes."""
    path = write_json(tmp_path / "sub" / "x.json", {"a": 1.0})
    assert path.stat().st_mode & 0o777 == 0o644
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["x.json"], "no temporary file left"


def test_write_json_keeps_small_measured_numbers_when_asked(tmp_path):
    """Figures' numbers below 1e-9 are stored as 0 (CPU noise); a record of measured errors keeps them."""
    data = {"residual": 1.234567e-12, "big": 2.0}
    assert read_json(write_json(tmp_path / "a.json", data))["residual"] == 0.0
    assert read_json(write_json(tmp_path / "b.json", data, digits=4, floor=0.0))["residual"] == 1.235e-12


def test_verdict_words():
    from functions.results_io import verdict

    assert (verdict(True), verdict(False)) == ("holds", "does not hold")
