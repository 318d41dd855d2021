"""Output locations checked before any work (``_io.check_output_folder``), on real files and folders."""

import os

import pytest

from functions._io import check_output_folder, nearest_existing


def test_a_missing_folder_in_a_writable_place_is_accepted_and_nothing_is_left_behind(tmp_path):
    target = tmp_path / "a" / "b"
    assert check_output_folder(str(target), "RESULTS") == target
    assert os.listdir(tmp_path) == [], "neither the folder nor the write probe is left"
    assert nearest_existing(target) == tmp_path


@pytest.mark.parametrize("empty", ["", "   ", None, 3])
def test_an_empty_or_non_path_value_is_refused_by_name(empty):
    with pytest.raises(ValueError, match=r"Invalid --out value: .*expected a folder path .*current directory"):
        check_output_folder(empty, "--out")


def test_a_file_and_a_path_under_a_file_are_refused(tmp_path):
    f = tmp_path / "notes.txt"
    f.write_text("x")
    with pytest.raises(ValueError, match=r"Invalid FIG_IMAGES value: .*notes.txt is a file; expected a folder"):
        check_output_folder(f, "FIG_IMAGES")
    with pytest.raises(ValueError, match=r"Invalid RESULTS value: .*notes.txt/out lies under the file .*notes.txt"):
        check_output_folder(f / "out", "RESULTS")
    assert f.read_text() == "x"


def test_a_read_only_folder_is_refused_with_the_reason(read_only_folder):
    reason = r"\((Permission denied|Read-only file system) in .*read-only\)"
    with pytest.raises(ValueError, match=r"Invalid RESULTS value: .*results is not writable " + reason):
        check_output_folder(read_only_folder / "results", "RESULTS")
    assert os.listdir(read_only_folder) == []
