"""The perceived-safety index: ratings 1–10 as 0–100, with n and a 95 % confidence interval.

index = (mean − 1) / 9 × 100. The interval is the t-interval of the mean,
mapped the same way and clipped to 0–100. Indicative only: not comparable with
SCB's citizen survey (other questions, other sampling).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

# Two-sided 95 % quantiles of Student's t for 1..30 degrees of freedom; above that 1.96 is used.
T_975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
         2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
         2.052, 2.048, 2.045, 2.042)


@dataclass(frozen=True)
class SafetyIndex:
    n: int
    value: float | None
    low: float | None
    high: float | None


def to_index(mean: float) -> float:
    return (mean - 1) / 9 * 100


def from_sums(n: int, total: float, total_squares: float) -> SafetyIndex:
    """From count, sum and sum of squares, which the database aggregates."""
    if n == 0:
        return SafetyIndex(0, None, None, None)
    mean = total / n
    value = round(to_index(mean), 1)
    if n < 2:
        return SafetyIndex(n, value, None, None)
    variance = max((total_squares - n * mean * mean) / (n - 1), 0.0)
    t = T_975[n - 2] if n - 1 <= len(T_975) else 1.96
    margin = t * math.sqrt(variance / n) / 9 * 100
    return SafetyIndex(n, value, round(max(value - margin, 0.0), 1), round(min(value + margin, 100.0), 1))


def from_ratings(ratings: list[int]) -> SafetyIndex:
    return from_sums(len(ratings), float(sum(ratings)), float(sum(r * r for r in ratings)))
