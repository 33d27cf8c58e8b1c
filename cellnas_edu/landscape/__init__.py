r"""Loss landscape, gradient variance and sharpness of trained networks (Section 4.2, Appendix B.3/B.4).

Section 4.2 explains the fast convergence of wide and shallow cells through
Theorem 4.1 (Ghadimi & Lan, 2013): SGD converges faster with a smaller
Lipschitz constant $L$ of the gradient and a smaller gradient variance
$\sigma^2$. It measures both around the trained weights $w^*$:

* the loss surface $s(\alpha, \beta) = \mathbb{E}_i f_i(w^* + \alpha w_1 + \beta w_2)$
  along two filter-normalised random directions (Li et al., 2018; Figure 6):
  [`directions`][cellnas_edu.landscape.directions], [`surface`][cellnas_edu.landscape.surface];
* the gradient variance $g(\alpha, \beta) = \mathrm{Var}(\nabla f_i(w^* + \alpha w_1 + \beta w_2))$
  (Figures 7, 8): [`gradvar`][cellnas_edu.landscape.gradvar];
* beyond the paper, the top Hessian eigenvalue at $w^*$, a direct local
  estimate of $L$: [`hessian`][cellnas_edu.landscape.hessian].

[`grid`][cellnas_edu.landscape.grid] fills a resumable grid ([`store`][cellnas_edu.landscape.store], `landscape.npz`),
shared
across `torchrun` processes ([`distributed`][cellnas_edu.landscape.distributed]);
[`measure`][cellnas_edu.landscape.measure] does it
for a run folder (`cellnas landscape`); [`plots`][cellnas_edu.landscape.plots] draws Figures 6-8 and
[`compare`][cellnas_edu.landscape.compare] sets a family side by side against width and depth
(`cellnas compare-landscapes`)."""

from .compare import compare_landscapes, near_optimum_mean, slice_curvature, spearman
from .directions import DirectionSpec, filter_normalize_, filter_normalized_direction, random_direction_pair
from .gradvar import (
    ChanAccumulator,
    GradientVariance,
    affine_batchnorm,
    gradient_variance,
    per_sample_gradient_function,
)
from .grid import compute_grid, pending_points
from .hessian import HessianEigenvalue, hessian_vector_product, top_hessian_eigenvalue
from .measure import LandscapeOptions, measure_landscape, summarize, weights_fingerprint
from .store import FILENAME, LandscapeData, grid_axis, open_for_resume
from .surface import PerturbedWeights, landscape_parameters, loss_at, mean_loss

__all__ = [
    "FILENAME", "ChanAccumulator", "DirectionSpec", "GradientVariance", "HessianEigenvalue", "LandscapeData",
    "LandscapeOptions", "PerturbedWeights", "affine_batchnorm", "compare_landscapes", "compute_grid",
    "filter_normalize_",
    "filter_normalized_direction", "gradient_variance", "grid_axis", "hessian_vector_product",
    "landscape_parameters", "loss_at", "mean_loss", "measure_landscape", "near_optimum_mean", "open_for_resume",
    "pending_points", "per_sample_gradient_function", "random_direction_pair", "slice_curvature", "spearman",
    "summarize", "top_hessian_eigenvalue", "weights_fingerprint",
]
