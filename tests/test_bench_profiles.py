"""Performance profiles, scores and the two verdicts, on hand-made studies whose answers are known."""

import math

import numpy as np
import pytest

from functions import bench_profiles as P


def _rec(steps, metric_value, metric="val_accuracy"):
    return {"steps_to_target": steps, "final": {metric: metric_value}}


def test_the_profile_counts_workloads_within_a_factor_of_the_fastest():
    cost = {"a": {"x": 100, "y": 200, "z": math.inf}, "b": {"x": 300, "y": 100, "z": 150}}
    rho = P.performance_profile(cost, [1.0, 1.5, 2.0, 3.0, 10.0])
    assert rho["x"].tolist() == [0.5, 0.5, 0.5, 1.0, 1.0]
    assert rho["y"].tolist() == [0.5, 0.5, 1.0, 1.0, 1.0]
    assert rho["z"].tolist() == [0.0, 0.5, 0.5, 0.5, 0.5], "never reaching a target is never within"
    nobody = P.performance_profile({"c": {"x": math.inf, "y": math.inf}}, [1.0, 4.0])
    assert nobody["x"].tolist() == [0.0, 0.0]
    at_zero = P.performance_profile({"d": {"x": 0, "y": 10}}, [1.0, 100.0])
    assert at_zero["x"].tolist() == [1.0, 1.0] and at_zero["y"].tolist() == [0.0, 0.0]
    with pytest.raises(ValueError, match="lists rules"):
        P.performance_profile({"a": {"x": 1}, "b": {"y": 1}}, [1.0])


def test_the_score_is_the_profiles_normalised_area_up_to_tau_max_4():
    cost = {"a": {"x": 100, "y": 200}, "b": {"x": 100, "y": 100}}
    score = P.profile_score(cost)
    assert score["x"] == pytest.approx(1.0, abs=1e-3)
    assert score["y"] == pytest.approx(0.5 + 0.5 * (4 - 2) / 3, abs=1e-3), "b from tau 1, a from tau 2"


def test_costs_take_the_median_seed_with_misses_last():
    study = {"mlp_mnist": {"x": [_rec(100, 0.97), _rec(300, 0.97), _rec(None, 0.9)],
                           "y": [_rec(None, 0.9), _rec(None, 0.9), _rec(200, 0.97)]}}  # fmt: skip
    assert P.costs(study) == {"mlp_mnist": {"x": 300.0, "y": math.inf}}
    stats = P.final_stats(study)["mlp_mnist"]["x"]
    assert stats[0] == pytest.approx((0.97 + 0.97 + 0.9) / 3) and stats[1] == pytest.approx(
        np.std([0.97, 0.97, 0.9], ddof=1)
    )


def _study(ballistic, adam, sgd):
    """Two workloads; each rule given (steps, accuracy) per seed for both."""
    return {w: {"ballistic": [_rec(*b) for b in ballistic], "adam": [_rec(*a) for a in adam],
                "sgd": [_rec(*s) for s in sgd]} for w in ("mlp_mnist", "mlp_fashion")}  # fmt: skip


def test_the_verdicts_follow_their_criteria():
    even = _study([(100, 0.970), (100, 0.972)], [(100, 0.971), (100, 0.973)], [(300, 0.96), (None, 0.95)])
    v = P.verdicts(even)
    assert v["as_good_as_adam"]["holds"] and v["better_than_sgd"]["holds"]
    assert v["better_than_sgd"]["faster_per_workload"] == {"mlp_mnist": True, "mlp_fashion": True}
    worse = _study([(100, 0.950), (100, 0.951)], [(100, 0.971), (100, 0.972)], [(300, 0.96), (300, 0.96)])
    v = P.verdicts(worse)
    assert not v["as_good_as_adam"]["holds"], "0.02 below Adam with a spread of 0.0007"
    assert v["as_good_as_adam"]["close_per_workload"] == {"mlp_mnist": False, "mlp_fashion": False}
    assert v["as_good_as_adam"]["score"] == pytest.approx(v["as_good_as_adam"]["adam_score"], abs=1e-3)
    slow = _study([(400, 0.97), (400, 0.97)], [(100, 0.97), (100, 0.97)], [(100, 0.96), (100, 0.96)])
    v = P.verdicts(slow)
    assert not v["as_good_as_adam"]["holds"] and v["as_good_as_adam"]["score"] == pytest.approx(0.0, abs=1e-3)
    assert not v["better_than_sgd"]["holds"]


def test_a_diverged_loss_is_only_as_good_as_another_diverged_one():
    c = P.CRITERIA
    assert not P._better_or_close("noisy_quadratic", (math.inf, math.inf, 2), (0.01, 0.0, 2), c)
    assert P._better_or_close("noisy_quadratic", (0.01, 0.0, 2), (math.inf, math.inf, 2), c)
    assert P._better_or_close("noisy_quadratic", (math.inf, math.inf, 2), (math.inf, math.inf, 2), c)
    assert P._better_or_close("noisy_quadratic", (0.0101, 0.0, 2), (0.01, 0.0, 2), c), "within the floor"
    assert not P._better_or_close("noisy_quadratic", (0.02, 0.001, 2), (0.01, 0.001, 2), c)


def test_compare_counts_fewer_equal_and_more_steps_with_two_misses_equal():
    cost = {"w1": {"a": 100.0, "b": 200.0}, "w2": {"a": math.inf, "b": math.inf}, "w3": {"a": 300.0, "b": 100.0},
            "w4": {"a": 50.0, "b": math.inf}}  # fmt: skip
    d = P.compare(cost, {"a": 0.75, "b": 0.5}, "a", "b")
    assert d == {"with": "a", "without": "b", "score_change": 0.25, "fewer": 2, "equal": 1, "more": 1}
    assert P.compare(cost, {"a": 0.75, "b": 0.5}, "b", "a")["score_change"] == -0.25
