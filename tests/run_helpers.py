"""Helpers shared by the run-folder tests."""

from __future__ import annotations

import contextlib

import pytest

from cellnas_edu.train.runfolder import RunFolder


@contextlib.contextmanager
def crash_after_checkpoint(epoch: int):
    """Inside the block, training raises KeyboardInterrupt right after epoch ``epoch``'s checkpoint is written:
    a run interrupted between epochs, as Ctrl-C or a kill would leave it."""
    save = RunFolder.save_checkpoint

    def save_then_crash(folder, checkpoint):
        save(folder, checkpoint)
        if checkpoint["epoch"] == epoch:
            raise KeyboardInterrupt

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(RunFolder, "save_checkpoint", save_then_crash)
        yield
