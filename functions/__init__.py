"""Loss-landscape navigation: the objective, its optimal learning rules, and the paper's figures.

Theory (imported here): landscapes, geometry (metrics G and drifts f), objective (J and its
discretisation), euler_lagrange (the equation), bvp (boundary-value solver), least_action (direct
minimisation), closed_form (quadratic-loss solutions), flows (gradient flow).
Learning (import as ``functions.<module>``): optimisers (Ballistic), data, image_folder (CIFAR-10 from a
class-folder copy) and download, models, training and experiments (command line), beliefs,
noisy_quadratic, tasks.
Figures: plotting, results_io, fig1 ... fig4, and explore (the notebooks' live sliders).
"""

from . import bvp, closed_form, euler_lagrange, flows, geometry, landscapes, least_action, objective
from .bvp import solve_bvp
from .closed_form import quadratic_optimum, rate, rate_ratio
from .errors import ConvergenceError
from .geometry import DecayDrift, Metric, NoDrift, RotationDrift, diagonal_metric, identity_metric
from .landscapes import DoubleWell, Quadratic
from .least_action import minimise_action
from .objective import Problem, discrete_action

__all__ = [
    "bvp",
    "closed_form",
    "euler_lagrange",
    "flows",
    "geometry",
    "landscapes",
    "least_action",
    "objective",
    "ConvergenceError",
    "solve_bvp",
    "quadratic_optimum",
    "rate",
    "rate_ratio",
    "DecayDrift",
    "Metric",
    "NoDrift",
    "RotationDrift",
    "diagonal_metric",
    "identity_metric",
    "DoubleWell",
    "Quadratic",
    "minimise_action",
    "Problem",
    "discrete_action",
]
