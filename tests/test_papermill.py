"""papermill runs a figure notebook with parameters injected after its `parameters` cell, and a bad value stops
in the check cell that builds the figure's Params, before anything is written."""

import json
import pathlib

import nbformat
import papermill
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _run(tmp_path, **parameters):
    out = tmp_path / "out.ipynb"
    parameters |= {"RESULTS": str(tmp_path / "results"), "FIG_IMAGES": str(tmp_path / "fig_images")}
    papermill.execute_notebook(str(ROOT / "fig3-nongrad.ipynb"), str(out), parameters=parameters, cwd=str(ROOT),
                               kernel_name="python3", progress_bar=False)  # fmt: skip
    return out


def test_papermill_injects_an_override(tmp_path):
    out = _run(tmp_path, Q=5)
    stored = json.loads((tmp_path / "results" / "fig3.json").read_text())
    assert stored["parameters"]["q"] == 5.0, "the override reached the figure (as a float)"
    nb = nbformat.read(out, as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and "Q = 5" in injected[0].source


def test_papermill_stops_in_the_check_cell_on_a_bad_value(tmp_path):
    with pytest.raises(papermill.PapermillExecutionError, match="Invalid q value: -1.0") as err:
        _run(tmp_path, Q=-1.0)
    assert err.value.ename == "ValueError"
    nb = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    failed = [c for c in nb.cells if c.cell_type == "code" and any(o.get("output_type") == "error" for o in c.outputs)]
    assert len(failed) == 1 and "fig3.Params(" in failed[0].source
    assert not (tmp_path / "results").exists() and not (tmp_path / "fig_images").exists(), "nothing written"
