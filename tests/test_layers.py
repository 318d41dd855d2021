"""The package's layers, kept by a test: theory <- learning rules <- data/training <- figures.

Every module of functions/ belongs to one layer; it may import from its own layer or a lower one, never a
higher one. Figure modules do not import one another, and the explorer imports no figure module. Imports
are read from the source (``ast``), function-level imports included.
"""

import ast
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1] / "functions"

#: Lowest first. A new module must be placed here (the test fails until it is).
LAYERS = {
    "base": {"_backend", "_checks", "_cli", "_io", "_params", "_parallel", "errors", "protocols"},
    "theory": {"landscapes", "geometry", "objective", "euler_lagrange", "bvp", "least_action", "closed_form",
               "flows", "beliefs", "tasks", "logistic", "lq", "paths", "newton_krylov", "escape", "gd_limit",
               "mode_rates"},
    "learning rules": {"optimisers", "noisy_quadratic", "learner_flows", "regret", "directions", "bench_rules",
                       "exact_rule"},
    "data and training": {"data", "image_folder", "download", "models", "protocol", "checkpoint", "run_records",
                          "training", "campaign", "experiments", "real_model", "solver_checks", "real_model_runs",
                          "run_lock", "bench_workloads", "bench_trials", "bench_records", "bench_study",
                          "bench_profiles"},
    "figures": {"results_io", "plotting", "fig1", "fig2", "fig3", "fig4", "explore", "bench_figure"},
}  # fmt: skip
RANK = {module: rank for rank, modules in enumerate(LAYERS.values()) for module in modules}
FIGURES = {"fig1", "fig2", "fig3", "fig4"}


def imports(path: pathlib.Path) -> set[str]:
    """The package modules ``path`` imports (``from .x import``, ``from . import x``, ``from functions.x``)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 and node.module:
                out.add(node.module.split(".")[0])
            elif node.level == 1:
                out.update(alias.name for alias in node.names)
            elif node.module and node.module.split(".")[0] == "functions" and "." in node.module:
                out.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            out.update(a.name.split(".")[1] for a in node.names if a.name.startswith("functions."))
    return out


MODULES = sorted(p.stem for p in ROOT.glob("*.py") if p.stem != "__init__")


def test_every_module_has_a_layer():
    assert sorted(set(MODULES) - set(RANK)) == [], "place the new module in LAYERS"
    assert sorted(set(RANK) - set(MODULES)) == [], "LAYERS names a module that does not exist"


@pytest.mark.parametrize("module", MODULES)
def test_imports_point_down(module):
    up = sorted(m for m in imports(ROOT / f"{module}.py") if m in RANK and RANK[m] > RANK[module])
    assert up == [], f"{module} ({list(LAYERS)[RANK[module]]}) imports from a higher layer: {up}"


def test_figures_and_the_explorer_do_not_import_figures():
    for module in [*FIGURES, "explore"]:
        crossing = sorted(imports(ROOT / f"{module}.py") & (FIGURES - {module}))
        assert crossing == [], f"{module} imports {crossing}; move the shared names down a layer"


def test_the_import_reader_sees_every_form():
    """The parser itself: each import form is found (a reader that missed one would pass everything)."""
    src = ROOT.parent / "tests" / "_layers_probe.py"
    src.write_text("from .fig1 import x\nfrom . import data, plotting\nfrom functions.bvp import y\n"
                   "import functions.flows\ndef f():\n    from .campaign import z\n")  # fmt: skip
    try:
        assert imports(src) == {"fig1", "data", "plotting", "bvp", "flows", "campaign"}
    finally:
        src.unlink()


def test_the_root_docstring_names_every_module_in_its_layer():
    """functions/__init__.py describes the layout: every module under the heading of its layer in LAYERS."""
    import functions

    doc = functions.__doc__
    for layer, modules in LAYERS.items():
        if layer == "base":
            continue
        line = next((part for part in doc.split("\n- ") if part.startswith(f"{layer}:")), None)
        assert line is not None, f"the root docstring has no '- {layer}:' entry"
        named = set(re.findall(r"\b([a-z_][a-z0-9_]+)\b", line))
        missing = modules - named
        assert missing == set(), f"the root docstring's '{layer}' entry lacks {sorted(missing)}"
