"""Holm's step-down adjustment of a pre-registered family of p-values (scipy has none)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def holm(p_values: Mapping[str, float | None] | Sequence[float]) -> dict[str, float | None] | list[float]:
    """Holm's step-down adjusted p-values (`min(1, max over the step-down of (m - i) p_(i))`).

    A mapping gives a mapping with the same keys (`None` p-values stay `None` and do not count in `m`); a
    sequence gives a list in the same order. Equal p-values keep their order (a stable sort)."""
    if isinstance(p_values, Mapping):
        keys = list(p_values)
        ps = [p_values[k] for k in keys]
    else:
        keys, ps = None, list(p_values)
    items = sorted(((p, i) for i, p in enumerate(ps) if p is not None))
    m = len(items)
    adjusted: list[float | None] = [None] * len(ps)
    running = 0.0
    for rank, (p, i) in enumerate(items):
        running = max(running, min(1.0, (m - rank) * p))
        adjusted[i] = running
    return adjusted if keys is None else dict(zip(keys, adjusted))
