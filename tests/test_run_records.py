"""Run records validated on load: each broken or foreign record is an error naming the file and the fault; a
copied file is never read (records are found by the name of the configuration they hold)."""

import json
import shutil

import pytest

from functions.protocol import panel_configs
from functions.run_records import (
    RecordError,
    StaleRecordError,
    load_record,
    load_records,
    make_record,
    record_path,
    record_status,
    write_record,
)

CFG = panel_configs("mlp", "mnist", 1, epochs=2)[0]


def _write(tmp_path, cfg=CFG):
    prov = {"torch_version": "x", "device": "cpu", "device_name": "cpu", "threads": 1, "memory_format": "contiguous",
            "code_version": "t", "wall_time_s": 1.0}  # fmt: skip
    rec = make_record(cfg, n_train=10, n_test=10, train_loss=[1.0, 0.5], test_accuracy=[0.5, 0.6], provenance=prov)
    return write_record(tmp_path, cfg, rec)


def _edit(path, fn):
    record = json.loads(path.read_text())
    fn(record)
    path.write_text(json.dumps(record))


@pytest.mark.parametrize(
    ("damage", "error", "match"),
    [
        (lambda p: p.write_text(p.read_text()[:50]), RecordError, "not valid JSON.*truncated or edited"),
        (lambda p: _edit(p, lambda r: r.pop("train_loss")), RecordError, "missing key 'train_loss'"),
        (lambda p: _edit(p, lambda r: r["test_accuracy"].pop()), RecordError, "'test_accuracy' has 1 values for 2"),
        (lambda p: _edit(p, lambda r: r.update(epochs=[1, 3])), RecordError, "'epochs' must be 1, 2, ..., E"),
        (lambda p: _edit(p, lambda r: r["train_loss"].__setitem__(0, None)), RecordError, "not a finite number"),
        (lambda p: _edit(p, lambda r: r["test_accuracy"].__setitem__(0, 1.5)), RecordError, r"must lie in \[0, 1\]"),
        (lambda p: _edit(p, lambda r: r["hyperparameters"].update(lr=0.5)), StaleRecordError, "hyperparameters lr"),
        (
            lambda p: _edit(p, lambda r: r.update(dataset="fashion-mnist")),
            StaleRecordError,
            "dataset = 'fashion-mnist'",
        ),
    ],
    ids=["truncated", "missing key", "ragged", "epochs", "non-finite", "accuracy range", "edited lr", "other dataset"],
)
def test_a_damaged_record_names_the_file_and_the_fault(tmp_path, damage, error, match):
    path = _write(tmp_path)
    damage(path)
    with pytest.raises(error, match=match) as err:
        load_record(path, CFG)
    assert str(path) in str(err.value)
    assert record_status(tmp_path, CFG) in ("invalid", "stale")


def test_a_copied_record_is_never_read(tmp_path):
    path = _write(tmp_path)
    shutil.copy(path, tmp_path / f"{path.stem} (copy).json")
    assert len(load_records(tmp_path, [CFG])) == 1, "found by its configuration's name, not by a glob"


def test_a_missing_record_says_how_to_make_it(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"python -m functions.experiments fig2e --dataset mnist --seeds 1 "
                                                 r"--epochs 2 --out"):  # fmt: skip
        load_record(record_path(tmp_path, CFG), CFG)


def test_a_hand_edited_configuration_no_longer_matches_its_hash(tmp_path):
    path = _write(tmp_path)
    _edit(path, lambda r: r["config"].update(test_batch_size=500))  # not among the hyperparameters
    with pytest.raises(StaleRecordError, match="does not match its hash"):
        load_record(path)  # without the configuration it should hold: the hash alone tells


def test_write_record_never_replaces_another_configuration_without_force(tmp_path):
    path = _write(tmp_path)
    _edit(path, lambda r: r["config"].update(test_batch_size=500))
    snapshot = path.read_bytes()
    prov = {"torch_version": "x", "device": "cpu", "device_name": "cpu", "threads": 1, "memory_format": "contiguous",
            "code_version": "t", "wall_time_s": 2.0}  # fmt: skip
    rec = make_record(CFG, n_train=10, n_test=10, train_loss=[1.0, 0.4], test_accuracy=[0.5, 0.7], provenance=prov)
    with pytest.raises(StaleRecordError, match="Nothing was written; pass --force"):
        write_record(tmp_path, CFG, rec)
    assert path.read_bytes() == snapshot
    write_record(tmp_path, CFG, rec, force=True)
    assert load_record(path, CFG)["train_loss"] == [1.0, 0.4]
