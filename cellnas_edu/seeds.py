"""One seed range for every command and script: an integer in `0 .. 2**63 - 1`.

torch, NumPy (which takes its seed modulo `2**32`, see
[`seed_everything`][cellnas_edu.train.checkpoint.seed_everything]) and Python all accept such a seed, and a seed plus
the offsets the experiments add (one per run) stays below `2**64`."""

from __future__ import annotations

import argparse

MAX_SEED = 2**63 - 1
"""the largest seed any command accepts"""


def seed_arg(text: str) -> int:
    """argparse type of every `--seed` (the `cellnas` subcommands, `theory/` and `examples/` scripts): an integer
    in `0 .. 2**63 - 1`; anything else is one line naming the range."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text[:40]!r}") from None
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"seed must be between 0 and 2**63 - 1, got {text[:40]}")
    return value
