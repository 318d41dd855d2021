"""The library installs as a package (only ``functions``, with its data) and imports from anywhere."""

import pathlib
import shutil
import subprocess
import sys
import tomllib

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_installed_package_imports_from_another_directory(tmp_path):
    """`pip install .` (no network: no dependencies, no build isolation) into a folder, then import it elsewhere."""
    target, elsewhere, source = tmp_path / "site", tmp_path / "elsewhere", tmp_path / "source"
    elsewhere.mkdir()
    # build from a copy, so that setuptools' build/ and *.egg-info never land in the checkout
    shutil.copytree(
        ROOT, source, ignore=shutil.ignore_patterns(".venv", ".git", "data", "results", "*.ipynb", "__pycache__")
    )
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index"]
    subprocess.run([*pip, "--target", str(target), str(source)], check=True, capture_output=True, cwd=tmp_path)
    installed = sorted(p.name for p in target.iterdir() if not p.name.endswith(".dist-info") and p.name != "bin")
    assert installed == ["functions"], "only the library is packaged"
    code = (
        "import functions, functions.fig2 as f2, functions.data as d; "
        "print(functions.__file__); print(f2.published('mnist')['sgd']['epochs'][-1]); print(d.default_root())"
    )
    env = {"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=elsewhere, env=env
    )
    module_file, last_epoch, data_root = out.stdout.split()
    assert pathlib.Path(module_file).is_relative_to(target), "imported the installed copy, not the checkout"
    assert last_epoch == "10", "package data (published curves) installed"
    assert pathlib.Path(data_root) == elsewhere / "data", (
        "an installed package looks for data/ in the working directory"
    )


def test_dependencies_are_ranges_and_requirements_exact_pins():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert all(any(op in dep for op in (">=", "<")) and "==" not in dep for dep in project["dependencies"])
    pins = [line for line in (ROOT / "requirements.txt").read_text().splitlines() if line and not line.startswith("#")]
    assert all("==" in line for line in pins)
    pinned = {line.split("==")[0].lower() for line in pins}
    for dep in project["dependencies"]:
        name = dep.split(">")[0].split("<")[0].split("=")[0].strip().lower()
        assert name in pinned, f"{name} is a dependency but not pinned in requirements.txt"
