"""Shared pytest set-up: GPU tests skip without CUDA; hypothesis profiles."""

import os

import pytest
from hypothesis import HealthCheck, settings

# "ci" (the default) is derandomized: every run of the suite tries the same examples, so what passes on a
# developer's machine passes in CI. "explore" draws new examples on every run: use it to hunt for
# counterexamples (HYPOTHESIS_PROFILE=explore make test), as the exercises suggest.
settings.register_profile(
    "ci", deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.register_profile("explore", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def one_torch_thread():
    """Run a test with one torch CPU thread and restore the setting afterwards.

    Tiny networks are as fast on one thread, and two OpenMP threads stall on a shared 2-core machine.
    Modules opt in with ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def pytest_collection_modifyitems(config, items):
    try:
        import torch

        has_cuda = torch.cuda.is_available()
    except ImportError:  # pragma: no cover - torch is a dependency
        has_cuda = False
    if has_cuda:
        return
    skip = pytest.mark.skip(reason="needs CUDA")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)
