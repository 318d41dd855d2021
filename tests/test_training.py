"""Models, augmentation, optimiser factory, determinism, and a real-data smoke test of one short epoch."""

import json

import pytest
import torch

from functions import data as D
from functions.models import MLP, SmallCNN, build_model
from functions.training import (
    PROTOCOLS,
    RunConfig,
    augment_crop_flip,
    load_split,
    pick_device,
    protocol_optimiser,
    run_path,
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


def test_pick_device():
    assert pick_device("cpu").type == "cpu"
    assert pick_device("auto").type in ("cpu", "cuda", "mps")


def _tiny_data(model="mlp"):
    g = torch.Generator().manual_seed(0)
    shape = (64, 1, 28, 28) if model == "mlp" else (64, 3, 32, 32)
    x, y = torch.randn(shape, generator=g), torch.randint(0, 10, (64,), generator=g)
    return (x, y), (x[:32], y[:32])


@pytest.mark.parametrize("model", ["mlp", "cnn"])
def test_seeded_runs_are_deterministic_and_written(tmp_path, model):
    cfg = RunConfig("fashion-mnist", model, "ballistic", seed=1, epochs=2)
    a = train_run(cfg, out_dir=tmp_path, data=_tiny_data(model), progress=False)
    b = train_run(cfg, data=_tiny_data(model), progress=False)
    assert a["train_loss"] == b["train_loss"] and a["test_accuracy"] == b["test_accuracy"]
    stored = json.loads(run_path(tmp_path, cfg).read_text())
    assert stored["seed"] == 1 and stored["hyperparameters"]["lr"] == PROTOCOLS[model]["lr"]["ballistic"]
    assert stored["torch_version"] == torch.__version__ and len(stored["train_loss"]) == 2
    assert run_path(tmp_path, cfg).name == f"fashion-mnist_{model}_ballistic_seed1.json"


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
