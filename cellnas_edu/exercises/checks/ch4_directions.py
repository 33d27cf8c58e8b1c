"""Chapter 4 (Section 4.2.1; Li et al., 2018): a filter-normalised direction."""

from __future__ import annotations

import torch
from hypothesis import given
from hypothesis import strategies as st

from ...landscape.directions import filter_normalize_
from . import GRADED

shapes = st.lists(st.integers(1, 4), min_size=1, max_size=4).map(tuple)


@st.composite
def direction_and_weight(draw):
    shape = draw(shapes)
    seed = draw(st.integers(0, 2**16))
    g = torch.Generator().manual_seed(seed)
    direction = torch.randn(shape, generator=g, dtype=torch.float64)
    weight = torch.randn(shape, generator=g, dtype=torch.float64) * draw(st.sampled_from([1e-3, 1.0, 50.0]))
    if draw(st.booleans()):  # an all-zero filter in the direction must stay zero
        direction[0] = 0.0
    return direction, weight


def rows(t: torch.Tensor) -> torch.Tensor:
    return t.reshape(t.shape[0], -1)


@GRADED
@given(direction_and_weight())
def test_every_filter_gets_the_norm_of_the_weights_filter(pair):
    """Filter j (row j along dimension 0) of the result has the norm of filter j of the weights."""
    direction, weight = pair
    original = direction.clone()
    out = filter_normalize_(direction, weight)
    for j in range(weight.shape[0]):
        if rows(original)[j].abs().max() == 0:
            assert rows(out)[j].abs().max() == 0, f"filter {j} was zero and must stay zero"
        else:
            assert torch.allclose(rows(out)[j].norm(), rows(weight)[j].norm(), rtol=1e-6, atol=1e-9), (
                f"filter {j}: norm {rows(out)[j].norm().item():.6g}, weight's {rows(weight)[j].norm().item():.6g}")


@GRADED
@given(direction_and_weight())
def test_every_filter_keeps_its_direction(pair):
    """Normalisation rescales a filter by a positive number: it does not rotate or flip it."""
    direction, weight = pair
    original = direction.clone()
    out = filter_normalize_(direction, weight)
    for j in range(weight.shape[0]):
        a, b = rows(original)[j], rows(out)[j]
        if a.norm() > 0 and b.norm() > 0:
            cosine = (a @ b) / (a.norm() * b.norm())
            assert cosine > 1 - 1e-9, f"filter {j} turned (cosine {cosine.item():.6g})"


@GRADED
@given(direction_and_weight())
def test_normalisation_is_in_place(pair):
    """`filter_normalize_` (trailing underscore, torch's convention) changes its argument and returns it."""
    direction, weight = pair
    expected = rows(weight).norm(dim=1) / (rows(direction).norm(dim=1) + 1e-10)
    expected = rows(direction) * expected.unsqueeze(1)
    out = filter_normalize_(direction, weight)
    assert out is direction
    assert torch.allclose(rows(direction), expected, rtol=1e-6, atol=1e-12)


@GRADED
@given(shapes, shapes)
def test_shape_mismatch_is_an_error(direction_shape, weight_shape):
    """A direction must have the weight's shape: any other shape is a ValueError, even one with as many entries
    or as many filters ((2, 3) against (3, 2) or (2, 1, 3))."""
    if direction_shape == weight_shape:
        weight_shape = weight_shape[::-1] if weight_shape[::-1] != weight_shape else weight_shape + (1,)
    direction, weight = torch.ones(direction_shape, dtype=torch.float64), torch.ones(weight_shape, dtype=torch.float64)
    try:
        filter_normalize_(direction, weight)
    except ValueError:
        return
    raise AssertionError(f"filter_normalize_ accepted a direction of shape {direction_shape} for a weight of shape "
                         f"{weight_shape} (expected ValueError)")
