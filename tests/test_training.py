"""Models, augmentation, optimiser factory, determinism, and a real-data smoke test of one short epoch."""

import json
import re

import pytest
import torch

from functions import data as D
from functions import training as T
from functions.models import MLP, SmallCNN, build_model
from functions.run_records import record_path as run_path
from functions.training import (
    NORMALISATION,
    PROTOCOLS,
    RunConfig,
    augment_crop_flip,
    load_split,
    pick_device,
    protocol_optimiser,
    train_run,
)


def test_model_shapes_and_sizes():
    assert MLP()(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    assert sum(p.numel() for p in MLP().parameters()) == 784 * 512 + 512 + 512 * 256 + 256 + 256 * 10 + 10
    cnn = SmallCNN()
    assert cnn(torch.zeros(2, 3, 32, 32)).shape == (2, 10)
    assert cnn[11].in_features == 8192, "flatten(128 x 8 x 8) -> linear(8192 -> 256)"
    with pytest.raises(ValueError, match="Invalid model value"):
        build_model("resnet")


def test_augmentation_is_a_crop_or_flip_of_the_padded_image():
    g = torch.Generator().manual_seed(0)
    x = torch.arange(2 * 3 * 8 * 8, dtype=torch.float32).reshape(2, 3, 8, 8)
    out = augment_crop_flip(x, g, padding=2)
    assert out.shape == x.shape
    padded = torch.nn.functional.pad(x, (2, 2, 2, 2))
    for i in range(2):
        crops = [padded[i, :, a : a + 8, b : b + 8] for a in range(5) for b in range(5)]
        assert any(torch.equal(out[i], c) or torch.equal(out[i], c.flip(-1)) for c in crops)
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    assert torch.equal(augment_crop_flip(x, g1), augment_crop_flip(x, g2)), "seeded"


def test_protocol_optimiser():
    params = [torch.nn.Parameter(torch.zeros(3))]
    assert isinstance(protocol_optimiser("sgd", params, 0.1), torch.optim.SGD)
    adam = protocol_optimiser("adam", params, 1e-3)
    assert adam.param_groups[0]["weight_decay"] == 0.0
    ball = protocol_optimiser("ballistic", params, 5e-4, model="cnn")
    assert ball.param_groups[0]["betas"] == (0.0, PROTOCOLS["cnn"]["ballistic_beta2"])
    with pytest.raises(ValueError, match="Invalid optimiser value"):
        protocol_optimiser("lion", params, 1e-3)


#: Devices the training tests run on: the CPU always, CUDA where a GPU is present (skipped otherwise).
DEVICES = [
    "cpu",
    pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")),
]


def test_pick_device(monkeypatch):
    assert pick_device("cpu") == torch.device("cpu")
    assert pick_device("cuda:1") == torch.device("cuda", 1)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert pick_device("auto") == torch.device("cuda"), "auto prefers CUDA"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert pick_device("auto") == torch.device("mps"), "then Apple MPS"
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert pick_device("auto") == torch.device("cpu"), "then the CPU"
    for bad in ("gpu", "cuda:x", "cpu:0", ""):
        with pytest.raises(ValueError, match="Invalid device value.*auto, cpu, cuda, mps or cuda:N"):
            pick_device(bad)


def test_protocol_constants():
    """The paper's protocol, asserted value by value (the paper's Figure 2e-f)."""
    assert {m: (p["epochs"], p["batch_size"], p["clip"], p["augment"]) for m, p in PROTOCOLS.items()} == {
        "mlp": (10, 128, 5.0, False),
        "cnn": (25, 128, 5.0, True),
    }
    assert PROTOCOLS["mlp"]["lr"] == {"sgd": 0.1, "adam": 1e-3, "ballistic": 5e-4}
    assert PROTOCOLS["cnn"]["lr"] == {"sgd": 0.1, "adam": 5e-4, "ballistic": 5e-4}
    mnist = ((0.1307,), (0.3081,))
    cifar = ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616))
    assert NORMALISATION == {"mnist": mnist, "fashion-mnist": mnist, "cifar10": cifar, "cifar10-jpeg": cifar}


@pytest.mark.parametrize("dataset", ["mnist", "cifar10-jpeg"])
def test_load_split_normalises_with_the_protocol_constants(monkeypatch, dataset):
    raw = torch.randint(0, 256, (5, 28, 28) if dataset == "mnist" else (5, 3, 32, 32), dtype=torch.uint8)
    labels = torch.arange(5)
    monkeypatch.setattr(T, "load_idx_dataset", lambda *a, **k: (raw, labels))
    monkeypatch.setattr(T, "load_cifar10_jpeg", lambda *a, **k: (raw, labels))
    x, y = load_split(dataset, True, "mlp" if dataset == "mnist" else "cnn")
    mean, std = (torch.tensor(v).view(1, -1, 1, 1) for v in NORMALISATION[dataset])
    expected = (raw.reshape(x.shape).double() / 255 - mean) / std
    torch.testing.assert_close(x.double(), expected, rtol=0, atol=1e-6)
    assert torch.equal(y, labels)
    if dataset == "mnist":  # the CNN sees MNIST zero-padded (in normalised units) to 3x32x32
        x_cnn, _ = load_split(dataset, True, "cnn")
        assert x_cnn.shape == (5, 3, 32, 32)
        torch.testing.assert_close(x_cnn[:, 1, 2:30, 2:30], x[:, 0])
        torch.testing.assert_close(x_cnn[:, :, 0, 0], torch.full((5, 3), -0.1307 / 0.3081, dtype=torch.float32))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("model", ["mlp", "cnn"])
def test_every_step_is_clipped_at_5_and_only_training_batches_augmented(monkeypatch, model, device):
    clip_calls, augmented, step_norms = [], [], []
    real_clip, real_augment = torch.nn.utils.clip_grad_norm_, T.augment_crop_flip

    def clip(params, max_norm, *args, **kwargs):
        params = list(params)
        clip_calls.append(max_norm)
        out = real_clip(params, max_norm, *args, **kwargs)
        step_norms.append(torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in params])).item())
        return out

    def augment(x, generator, *args, **kwargs):
        augmented.append(x.shape[0])
        return real_augment(x, generator, *args, **kwargs)

    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", clip)
    monkeypatch.setattr(T, "augment_crop_flip", augment)
    (x, y), test = _tiny_data(model)
    cfg = RunConfig("mnist", model, "sgd", seed=0, epochs=2, lr=10.0, device=device)
    train_run(cfg, data=((x * 100, y), test), progress=False)  # large inputs: unclipped gradients far above 5
    n_steps = 2 * -(-len(y) // PROTOCOLS[model]["batch_size"])
    assert clip_calls == [5.0] * n_steps, "clip_grad_norm_(max_norm=5.0) before every step"
    assert max(step_norms) <= 5.0 + 1e-4
    assert augmented == ([len(y)] * n_steps if model == "cnn" else []), "training batches only, CNN only"


def _tiny_data(model="mlp"):
    g = torch.Generator().manual_seed(0)
    shape = (64, 1, 28, 28) if model == "mlp" else (64, 3, 32, 32)
    x, y = torch.randn(shape, generator=g), torch.randint(0, 10, (64,), generator=g)
    return (x, y), (x[:32], y[:32])


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("model", ["mlp", "cnn"])
def test_seeded_runs_are_deterministic_and_written(tmp_path, model, device):
    cfg = RunConfig("fashion-mnist", model, "ballistic", seed=1, epochs=2, device=device)
    a = train_run(cfg, out_dir=tmp_path, data=_tiny_data(model), progress=False)
    b = train_run(cfg, data=_tiny_data(model), progress=False)
    assert a["train_loss"] == b["train_loss"] and a["test_accuracy"] == b["test_accuracy"]
    stored = json.loads(run_path(tmp_path, cfg).read_text())
    assert stored["seed"] == 1 and stored["hyperparameters"]["lr"] == PROTOCOLS[model]["lr"]["ballistic"]
    assert stored["torch_version"] == torch.__version__ and len(stored["train_loss"]) == 2
    assert stored["device"] == device and stored["protocol"].startswith(model.upper())
    assert stored["wall_time_s"] > 0 and stored["dataset"] == "fashion-mnist" and stored["device_name"]
    assert run_path(tmp_path, cfg).name == f"fashion-mnist_{model}_ballistic_ep2_seed1.json", "epochs tagged"


@pytest.mark.skipif(not D.FASHION_MNIST_SYSTEM_DIR.exists(), reason="apt-get install dataset-fashion-mnist")
def test_real_fashion_mnist_smoke(tmp_path):
    """One short epoch on a 2,000-image subset of the real data: below chance-level loss, accuracy > 0.5."""
    x, _ = load_split("fashion-mnist", True, "mlp", root=tmp_path)
    assert x.shape == (60000, 1, 28, 28) and x.dtype == torch.float32
    assert abs(x[:1000].mean().item()) < 1.0
    cfg = RunConfig("fashion-mnist", "mlp", "ballistic", seed=0, epochs=1, subset=2000, test_subset=1000)
    rec = train_run(cfg, root=tmp_path, out_dir=tmp_path, progress=False)
    assert rec["n_train"] == 2000 and rec["n_test"] == 1000
    assert rec["train_loss"][0] < 2.3026, "mean epoch loss below chance level ln(10)"
    assert rec["test_accuracy"][0] > 0.5, "far above chance (0.1) after one short epoch"
    x_cnn, _ = load_split("fashion-mnist", False, "cnn", root=tmp_path)
    assert x_cnn.shape == (10000, 3, 32, 32)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"dataset": "imagenet"}, "Invalid dataset value: 'imagenet'; expected one of mnist, fashion-mnist"),
        ({"model": "resnet"}, "Invalid model value"),
        ({"optimiser": "lion"}, "Invalid optimiser value"),
        ({"epochs": 0}, "Invalid epochs value: 0; epochs must be an integer >= 1"),
        ({"seed": -1}, "Invalid seed value: -1"),
        ({"subset": -5}, "Invalid subset value: -5; subset must be an integer >= 1"),
        ({"subset": 0}, "Invalid subset value: 0"),
        ({"test_subset": 0}, "Invalid test_subset value: 0"),
        ({"lr": float("inf")}, "Invalid lr value: inf; lr must be a finite number > 0"),
        ({"device": "tpu"}, "Invalid device value: 'tpu'"),
    ],
)
def test_run_config_refuses_bad_values(kwargs, match):
    fields = {"dataset": "mnist", "model": "mlp", "optimiser": "sgd"} | kwargs
    with pytest.raises(ValueError, match=match):
        RunConfig(**fields)


def test_subset_larger_than_the_data_is_refused(tmp_path):
    cfg = RunConfig("mnist", "mlp", "sgd", subset=65, epochs=1)
    with pytest.raises(ValueError, match="Invalid subset value: 65; the training set has 64 images"):
        train_run(cfg, out_dir=tmp_path, data=_tiny_data(), progress=False)
    assert not list(tmp_path.iterdir()), "nothing written"


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["fig2e", "--epochs", "0"], "--epochs: 0 is out of range; it must be an integer >= 1"),
        (["fig2e", "--seeds", "0"], "--seeds: 0 is out of range"),
        (["fig2f", "--subset", "-5"], "--subset: -5 is out of range"),
        (["fig2f", "--test-subset", "0"], "--test-subset: 0 is out of range"),
        (["fig2f", "--device", "gpu"], "--device: Invalid device value: 'gpu'"),
        (["fig2f", "--dataset", "imagenet"], "--dataset: invalid choice: 'imagenet'.*cifar10-jpeg"),
    ],
)
def test_experiments_cli_refuses_bad_options_before_writing(tmp_path, capsys, argv, match):
    from functions.experiments import main

    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--out", str(tmp_path / "runs"), "--root", str(tmp_path)])
    assert exit_info.value.code == 2
    assert re.search(match, capsys.readouterr().err)
    assert not (tmp_path / "runs").exists(), "nothing written"


def test_run_config_takes_numpy_numbers_as_one_float():
    import numpy as np

    a, b = RunConfig("mnist", "mlp", "adam", lr=np.float32(1e-3)), RunConfig("mnist", "mlp", "adam", lr=1e-3)
    assert isinstance(a.lr, float) and a.lr == pytest.approx(1e-3, rel=1e-6)
    assert RunConfig("mnist", "mlp", "sgd", lr=1).lr == 1.0 and RunConfig("mnist", "mlp", "sgd", lr=1) == RunConfig(
        "mnist", "mlp", "sgd", lr=1.0
    )
    assert b.config_hash() == RunConfig("mnist", "mlp", "adam", lr=np.float64(1e-3)).config_hash()
    with pytest.raises(ValueError, match="Invalid lr value: '0.1'; expected a number"):
        RunConfig("mnist", "mlp", "sgd", lr="0.1")
