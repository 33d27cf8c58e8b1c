"""One way to run an experiment of many training runs (the studies of Sections 3.1, 4.1 and 4.2).

An experiment is a folder of run folders (one [`train`][cellnas_edu.train.train] run each) and a manifest
`experiment.json` that records its protocol. [`cellnas_edu.experiments.runner`][cellnas_edu.experiments.runner]
checks the manifest when the experiment is resumed, lists the runs not yet finished, trains them serially or in a
worker pool ([`cellnas_edu.experiments.pool`][cellnas_edu.experiments.pool]) and calls back after every run (the
studies rewrite their summary there). [`cellnas_edu.experiments.protocol`][cellnas_edu.experiments.protocol] is the
base of a study's frozen protocol: named presets, validation when built, JSON in and out.

The convergence experiments ([`cellnas_edu.convergence`][cellnas_edu.convergence]) and the early-selection
search ([`cellnas_edu.search.early_selection`][cellnas_edu.search.early_selection]) run through it."""

from .protocol import Protocol
from .runner import PlannedRun, prepare, read_manifest, run_all

__all__ = ["PlannedRun", "Protocol", "prepare", "read_manifest", "run_all"]
