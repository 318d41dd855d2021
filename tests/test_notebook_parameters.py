"""Editing the parameters cell and re-running works: no hidden state, no hard-coded coordinates.

Each case appends overrides to the notebook's cell tagged `parameters`, redirects RESULTS and
FIG_IMAGES to a temporary folder, executes the whole notebook, and checks that it ran and wrote
its results for the new values.
"""

import json
import os
import pathlib
import re

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = pathlib.Path(__file__).resolve().parents[1]

CASES = [
    ("fig1-overview.ipynb", "fig1", "GAMMA = 1.0\nTHETA0 = [-0.8, -0.4]", {"gamma": 1.0, "theta0": [-0.8, -0.4]}),
    ("fig3-nongrad.ipynb", "fig3", "GAMMA = 1.0\nQ = 5.0\nTHETA0 = [-1.0, 1.2]", {"gamma": 1.0, "q": 5.0}),
    # one-element lists once broke the Explore cell (after every result was written) or panel d's printout
    ("fig2-momentum.ipynb", "fig2", "GAMMAS = [1.0]", {"gammas": [1.0]}),
    (
        "fig4-adam.ipynb",
        "fig4",
        "CS = [0.5]\nGAMMAS_2D = [0.0]\nRATE_SEEDS = 100\nTRAJ_SEEDS = 40",
        {"cs": [0.5], "gammas_2d": [0.0]},
    ),
]


def run_with(notebook: str, overrides: str, out: pathlib.Path, outputs: str | None = None) -> nbformat.NotebookNode:
    """Execute ``notebook`` with ``overrides`` appended to its parameters cell, writing under ``out`` (or where
    ``outputs``, a line setting RESULTS and FIG_IMAGES, says)."""
    nb = nbformat.read(ROOT / notebook, as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", []))
    outputs = outputs or f"RESULTS, FIG_IMAGES = {str(out / 'results')!r}, {str(out / 'fig_images')!r}"
    cell.source += f"\n{overrides}\n{outputs}\n"
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()
    return nb


@pytest.mark.parametrize(
    ("notebook", "stem", "overrides", "expected"), CASES, ids=[c[2].replace("\n", "; ") for c in CASES]
)
def test_notebook_runs_with_edited_parameters(tmp_path, notebook, stem, overrides, expected):
    nb = run_with(notebook, overrides, tmp_path)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    stored = json.loads((tmp_path / "results" / f"{stem}.json").read_text())
    for key, value in expected.items():
        assert stored["parameters"][key] == value
    composed = pathlib.Path(notebook).stem
    assert sorted(p.name for p in (tmp_path / "fig_images").iterdir()) == [f"{composed}.png"]


BAD = [
    ("fig1-overview.ipynb", "PLOT_LIM = -1.5", r"Invalid PLOT_LIM value: -1.5; PLOT_LIM must be > 0"),
    ("fig1-overview.ipynb", "THETA0 = [2.0, 0.0]", r"Invalid THETA0 value: \(2, 0\) lies outside the drawn area"),
    ("fig2-momentum.ipynb", "GAMMAS = []", r"Invalid GAMMAS value: \[\]; expected a list of 1 to 5 rates"),
    (
        "fig2-momentum.ipynb",
        "TRAINING_DIR = 'no-runs-here'",
        r"no-runs-here/mnist_mlp_sgd_seed0.json: no such run record",
    ),
    ("fig3-nongrad.ipynb", "THETA0 = [1.5, 2.5]", r"Invalid THETA0 value: \(1.5, 2.5\) lies outside"),
    # issue 29: each of these once computed, then wrote collapsed curves, a wrong check or a solver error
    ("fig2-momentum.ipynb", "GAMMAS = [1.0, 1.0]", r"Invalid GAMMAS value: \[1.0, 1.0\]; 1 is listed more than once"),
    ("fig3-nongrad.ipynb", "BVP_MARGIN = 1e-3", r"Invalid BVP_MARGIN value: 0.001; .*set BVP_MARGIN >= 9.21"),
    ("fig3-nongrad.ipynb", "Q = 1e4", r"Invalid Q value: 10000; panel c's spiral would turn"),
    ("fig1-overview.ipynb", "T = 1e-6", r"Invalid T value: 1e-06; .*set T >= 0.00152"),
    (
        "fig4-adam.ipynb",
        "SWEEP_DATASET = 'fashion-mnist'",
        r"fashion-mnist_mlp_sgd_lr0.001_ep1_seed0.json: no such run",
    ),
]


@pytest.mark.parametrize(("notebook", "overrides", "match"), BAD, ids=[f"{b[0][:4]}: {b[1]}" for b in BAD])
def test_bad_parameters_stop_in_the_check_cell_before_anything_is_written(tmp_path, notebook, overrides, match):
    with pytest.raises(CellExecutionError) as err:
        run_with(notebook, overrides, tmp_path)
    assert re.search(match, str(err.value))
    assert ".Params(" in str(err.value), "raised by the check cell right after the parameters"
    assert not (tmp_path / "results").exists() and not (tmp_path / "fig_images").exists(), "nothing written"


@pytest.mark.parametrize("notebook", ["fig1-overview.ipynb", "fig2-momentum.ipynb", "fig3-nongrad.ipynb",
                                      "fig4-adam.ipynb"])  # fmt: skip
def test_an_output_folder_that_cannot_be_written_stops_the_check_cell(tmp_path, read_only_folder, notebook):
    """Issue 29: RESULTS in a read-only folder once computed for seconds and failed in a late cell; FIG_IMAGES
    naming a file, or an empty RESULTS (the current directory), likewise. Now each stops the check cell."""
    (tmp_path / "a-file").write_text("x")
    cases = [
        (f"RESULTS, FIG_IMAGES = {str(read_only_folder / 'results')!r}, {str(tmp_path / 'fig_images')!r}",
         r"Invalid RESULTS value: .*read-only/results is not writable"),
        (f"RESULTS, FIG_IMAGES = {str(tmp_path / 'results')!r}, {str(tmp_path / 'a-file')!r}",
         r"Invalid FIG_IMAGES value: .*a-file is a file; expected a folder"),
        (f"RESULTS, FIG_IMAGES = '', {str(tmp_path / 'fig_images')!r}", r"Invalid RESULTS value: ''"),
    ]  # fmt: skip
    for outputs, match in cases if notebook == "fig1-overview.ipynb" else cases[:1]:
        with pytest.raises(CellExecutionError) as err:
            run_with(notebook, "", tmp_path, outputs=outputs)
        assert re.search(match, str(err.value)), str(err.value)[-600:]
        assert ".Params(" in str(err.value), "raised by the check cell right after the parameters"
        assert not (tmp_path / "results").exists() and not (tmp_path / "fig_images").exists(), "nothing written"
        assert os.listdir(read_only_folder) == [] and (tmp_path / "a-file").read_text() == "x"
