"""The README's generated tables equal what results/ gives (tests/readme_tables.py), and the generator would
notice a changed number."""

import json
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
import readme_tables  # noqa: E402


def test_the_readme_tables_are_generated_from_results():
    assert readme_tables.main(["--check"]) == 0, "run: python tests/readme_tables.py"


def test_a_changed_result_changes_the_table():
    fig2 = json.loads((ROOT / "results" / "fig2.json").read_text())
    before = readme_tables.training_table(fig2)
    fig2["numbers"]["training_e"]["adam"]["final_test_accuracy"][0] += 0.01
    fig2["numbers"]["claims_f"]["ballistic_close_to_adam"] = True
    after = readme_tables.training_table(fig2)
    assert "0.989 ± 0.001 (0.980)" in after and "0.989" not in before
    assert after.count("does **not** hold") == before.count("does **not** hold") - 1


def test_a_missing_block_is_an_error():
    with pytest.raises(ValueError, match="no block <!-- generated: training -->"):
        readme_tables.render("no markers here", {"training": "x"})
