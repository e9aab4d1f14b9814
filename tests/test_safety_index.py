"""The perceived-safety index against hand-computed values."""
import math

import pytest

from walkapp.situation.safety_index import from_ratings


def test_ratings_one_to_ten_give_fifty():
    index = from_ratings(list(range(1, 11)))
    assert index.n == 10 and index.value == 50.0
    # s = sqrt(110/12) = 3.0277; t(9) = 2.262; margin = 2.262 * 3.0277 / sqrt(10) / 9 * 100 = 24.06
    assert index.low == pytest.approx(25.9, abs=0.05) and index.high == pytest.approx(74.1, abs=0.05)


def test_extremes_and_clipping():
    assert from_ratings([1, 1, 1]).value == 0.0 and from_ratings([10, 10]).value == 100.0
    assert from_ratings([10, 10]).low == 100.0  # no spread, no interval width
    wide = from_ratings([1, 10])
    assert wide.value == 50.0 and wide.low == 0.0 and wide.high == 100.0  # clipped to the scale


def test_small_and_empty_samples():
    empty = from_ratings([])
    assert (empty.n, empty.value, empty.low, empty.high) == (0, None, None, None)
    single = from_ratings([7])
    assert single.value == pytest.approx(66.7, abs=0.05) and single.low is None


def test_large_sample_uses_normal_quantile():
    ratings = [5, 6] * 50  # mean 5.5 → 50.0; s = 0.5025; margin = 1.96 * 0.5025 / 10 / 9 * 100 = 1.09
    index = from_ratings(ratings)
    assert index.value == 50.0
    assert index.high - index.value == pytest.approx(1.96 * math.sqrt(0.25 * 100 / 99) / 10 / 9 * 100, abs=0.06)
