"""Networks of cells (Section 4.1, Appendix A.3, Table 1): the operations, the network, parameter counts.

[`ops`][cellnas_edu.nets.ops] (DARTS' operations), [`model`][cellnas_edu.nets.model]
(cells stacked into the CIFAR / ImageNet networks) and
[`param_counts`][cellnas_edu.nets.param_counts] (exact parameter counts without torch,
checked against Table 1). Importing the package does not import torch;
its names load [`model`][cellnas_edu.nets.model] on first use."""

__all__ = ["Network", "build_network", "count_parameters", "network_for_dataset"]


def __getattr__(name: str):
    """`from cellnas_edu.nets import Network` without importing torch for `nets.param_counts` alone."""
    if name in __all__:
        from . import model

        return getattr(model, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
