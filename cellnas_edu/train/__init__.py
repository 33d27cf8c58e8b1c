"""Training networks of cells (Section 4.1, Section 5, Appendix A.1, A.3, A.4).

The public interface:

* [`TrainConfig`][cellnas_edu.train.TrainConfig], [`PRESETS`][cellnas_edu.train.PRESETS],
  [`make_config`][cellnas_edu.train.make_config] (`config.py`):
  one dataclass configures every run; the presets are the paper's
  `convergence` and `generalization` settings and two small CPU ones;
* [`train`][cellnas_edu.train.train] -> [`RunSummary`][cellnas_edu.train.RunSummary] (`loop.py`): resumable, exact on
  resume, records divergence, data-parallel under `torchrun`;
* [`load_run`][cellnas_edu.train.load_run] -> [`LoadedRun`][cellnas_edu.train.LoadedRun] (`runfolder.py`, which owns
  the run folder's format, reads and writes): a run folder's config, genotype, trained network and metrics;
* [`evaluate`][cellnas_edu.train.evaluate] (`loop.py`): mean test loss and accuracy (%).

Submodules: `checkpoint.py` (`weights_only`-safe checkpoints and RNG
states), `distributed.py` (one process or many)."""

from .config import PRESETS, TrainConfig, make_config, parse_field
from .loop import RunSummary, evaluate, train
from .runfolder import LoadedRun, load_run

__all__ = ["PRESETS", "LoadedRun", "RunSummary", "TrainConfig", "evaluate", "load_run", "make_config",
           "parse_field", "train"]
