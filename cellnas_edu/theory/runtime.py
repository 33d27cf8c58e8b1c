"""Run the theory checks single-threaded.

The matrices of [`cellnas_edu.theory`][cellnas_edu.theory] are tiny (at most 36 x 36 blocks), so
torch's intra-op threads only add synchronisation; on a busy machine they made
the checks several times slower. [`single_thread`][cellnas_edu.theory.runtime.single_thread] sets one thread for the
duration of a check and restores the caller's setting afterwards."""

from __future__ import annotations

from contextlib import contextmanager

import torch


@contextmanager
def single_thread():
    """Context manager: `torch.set_num_threads(1)` inside, the previous thread count restored on exit."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
