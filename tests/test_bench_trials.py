"""Benchmark trials and workloads: the noisy quadratic's gradient is the stated one, a trial's numbers depend only
on its configuration, steps-to-target is read off its curve, divergence is caught, and the held-out validation
set is the training split's tail."""

import dataclasses
import math

import numpy as np
import pytest
import torch
from test_campaign import FASHION

from functions import bench_workloads as BW
from functions.bench_trials import Trial, run_trial

HP = {"lr": 0.05, "beta2": 0.99, "eps": 1e-8}


@pytest.fixture
def short(monkeypatch):
    """The workloads with their step budgets cut to ``steps`` (and evaluations every ``every``)."""

    def cut(name, steps, every):
        w = dataclasses.replace(BW.WORKLOADS[name], steps=steps, eval_every=every)
        monkeypatch.setitem(BW.WORKLOADS, name, w)
        return w

    return cut


def test_the_noisy_quadratic_gradient_is_h_theta_plus_sigma_sqrt_h_xi():
    w = BW.WORKLOADS["noisy_quadratic"]
    model = BW.make_model(w, 0)
    with torch.no_grad():
        model.theta.copy_(torch.linspace(-1, 2, BW.QUADRATIC_D, dtype=torch.float32))
    xi = torch.randn(BW.QUADRATIC_D, dtype=torch.float32)
    BW.loss_fn(w, model, None, None, xi).backward()
    h = BW.quadratic_h()
    assert torch.allclose(model.theta.grad, h * model.theta.detach() + w.noise * h.sqrt() * xi, atol=1e-6)
    assert float(h[0]) == pytest.approx(1.0) and float(h[-1]) == pytest.approx(1e-4)
    assert BW.evaluate(w, model, None, None)["val_loss"] == pytest.approx(
        float(0.5 * (h * model.theta.detach() ** 2).sum()), rel=1e-6
    )


def test_targets_are_met_in_their_direction():
    acc, loss = BW.Target("val_accuracy", 0.9), BW.Target("val_loss", 0.1)
    assert acc.met({"val_accuracy": 0.9}) and not acc.met({"val_accuracy": 0.89})
    assert loss.met({"val_loss": 0.1}) and not loss.met({"val_loss": 0.11}) and not loss.met({"val_loss": math.nan})


def test_a_trial_depends_only_on_its_configuration_and_reads_its_target_off_the_curve(short):
    w = short("noisy_quadratic", 400, 20)
    a = run_trial(Trial(workload="noisy_quadratic", rule="ballistic", hyperparameters=HP, seed=3))
    b = run_trial(Trial(workload="noisy_quadratic", rule="ballistic", hyperparameters=HP, seed=3))
    c = run_trial(Trial(workload="noisy_quadratic", rule="ballistic", hyperparameters=HP, seed=4))
    for key in ("step", "val_loss", "train_loss"):
        assert a["curve"][key] == b["curve"][key]
    assert a["curve"]["val_loss"] != c["curve"]["val_loss"], "the seed draws the noise"
    assert a["curve"]["step"] == list(range(0, 401, 20)) and a["curve"]["train_loss"][0] is None
    met = [s for s, v in zip(a["curve"]["step"], a["curve"]["val_loss"], strict=True) if v <= w.target.value]
    assert a["steps_to_target"] == (met[0] if met else None) and not a["diverged"]
    assert a["final"] == {"val_loss": a["curve"]["val_loss"][-1]}
    assert torch.get_num_threads() >= 1


def test_a_diverging_trial_stops_and_counts_as_not_reaching_its_target(short):
    short("noisy_quadratic", 300, 10)
    # SGD at lr 3 on h = 1: |1 - 3| > 1 so the stiffest direction grows by 2x a step until it overflows float32
    r = run_trial(Trial(workload="noisy_quadratic", rule="sgd", hyperparameters={"lr": 3.0}))
    assert r["diverged"] and r["final"]["val_loss"] == math.inf and r["steps_to_target"] is None
    assert r["curve"]["step"][-1] < 300


@FASHION
def test_validation_is_the_training_splits_tail_and_a_classifier_trial_runs(short):
    w = short("mlp_fashion", 30, 10)
    x_tr, y_tr, x_val, y_val = BW.load_workload(w)
    assert (x_tr.shape[0], x_val.shape[0]) == (50_000, 10_000) and x_tr.dtype == torch.float32
    assert 0.0 <= float(x_tr.min()) and float(x_tr.max()) <= 1.0
    from functions.data import load_idx_dataset

    x_all, _ = load_idx_dataset("fashion-mnist", train=True)
    assert torch.equal((x_all[-10_000:].float() / 255), x_val), "the last 10,000 training images"
    r = run_trial(Trial(workload="mlp_fashion", rule="adam_beta1_0", hyperparameters=HP), (x_tr, y_tr, x_val, y_val))
    assert r["curve"]["step"] == [0, 10, 20, 30] and set(r["final"]) == {"val_loss", "val_accuracy"}
    assert r["curve"]["val_accuracy"][-1] > r["curve"]["val_accuracy"][0], "30 steps of a tuned-ish rule learn"
    assert np.isfinite(r["step_time_s"]) and r["step_time_s"] > 0


def test_mnist1d_is_generated_offline_the_same_each_time_and_leaves_the_global_generators_alone(short):
    import random

    w = short("mnist1d_cnn", 20, 10)
    np.random.seed(7)  # noqa: NPY002 (the global state the package would otherwise change)
    random.seed(7)
    expected_np, expected_py = np.random.random(), random.random()  # noqa: NPY002
    np.random.seed(7)  # noqa: NPY002
    random.seed(7)
    a = BW.load_workload(w)
    assert (np.random.random(), random.random()) == (expected_np, expected_py)  # noqa: NPY002
    b = BW.load_workload(w)
    assert all(torch.equal(x, y) for x, y in zip(a, b, strict=True))
    assert [tuple(t.shape) for t in a] == [(3000, 40), (3000,), (1000, 40), (1000,)] and a[0].dtype == torch.float32
    assert sorted(set(a[1].tolist())) == list(range(10))
    hp = {"lr": 1e-3, "beta2": 0.99, "eps": 1e-8}
    for name in ("mnist1d_cnn", "mnist1d_mlp"):
        short(name, 20, 10)
        r = run_trial(Trial(workload=name, rule="ballistic", hyperparameters=hp), a)
        assert r["curve"]["step"] == [0, 10, 20] and 0.0 <= r["final"]["val_accuracy"] <= 1.0
    assert sum(p.numel() for p in BW.make_model(w, 0).parameters()) == 25 * 6 + 25 * 76 * 2 + 1260


def test_the_cifar_workload_trains_on_a_fixed_shuffled_subset_disjoint_from_its_validation_set(short, monkeypatch):
    from functions import training

    per_class = 60  # a stand-in for the JPEG copy: ordered by class, as load_cifar10_jpeg returns it
    gen = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (10 * per_class, 3, 32, 32), generator=gen, dtype=torch.uint8)
    labels = torch.arange(10).repeat_interleave(per_class)
    monkeypatch.setattr(training, "load_cifar10_jpeg", lambda train, root=None: (images, labels))
    w = dataclasses.replace(short("cnn_cifar", 20, 10), n_train=400, n_val=100)
    monkeypatch.setitem(BW.WORKLOADS, "cnn_cifar", w)
    x_tr, y_tr, x_val, y_val = BW.load_workload(w)
    assert (x_tr.shape, x_val.shape) == ((400, 3, 32, 32), (100, 3, 32, 32))
    perm = np.random.default_rng(w.subset_seed).permutation(10 * per_class)
    assert torch.equal(y_tr, labels[perm[:400]]) and torch.equal(y_val, labels[perm[400:500]])
    assert len(set(y_val.tolist())) == 10, "shuffled: every class in the validation set"
    assert abs(float(x_tr.mean())) < 1.0 and torch.equal(BW.load_workload(w)[0], x_tr), "normalised, fixed"
    r = run_trial(Trial(workload="cnn_cifar", rule="adam", hyperparameters={"lr": 1e-3, "beta1": 0.9,
                                                                            "beta2": 0.999, "eps": 1e-8}),
                  (x_tr, y_tr, x_val, y_val))  # fmt: skip
    assert r["curve"]["step"] == [0, 10, 20] and 0.0 <= r["final"]["val_accuracy"] <= 1.0
    assert sum(p.numel() for p in BW.make_model(w, 0).parameters()) == 448 + 4640 + 18496 + 10250


def test_fields_added_for_the_cifar_subset_are_stored_only_where_set():
    assert {"n_train", "subset_seed"}.isdisjoint(BW.get("mlp_mnist").as_dict()), "earlier records keep their hash"
    assert (BW.get("cnn_cifar").as_dict()["n_train"], BW.get("cnn_cifar").as_dict()["subset_seed"]) == (10_000, 0)
