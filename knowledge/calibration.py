"""Self-calibration of the lexical matcher: one pair of thresholds fits every knowledge base.

How high an in-scope question scores depends on how densely the knowledge is
written -- with 2 symptoms an entry a paraphrase shares far fewer words with its entry than with
10 -- while what an out-of-scope question scores, and how often a given raw score is right, barely
move. So at index time up to 500 of the knowledge's own phrasings (fixed seed) are scored
leave-one-out, each against its entry without it, as a stand-in for a customer's paraphrase. The
raw score a little below their median (0.65 ×, never above the median best *other* entry's score,
which tracks what out-of-scope text reaches) maps to the suggest point 40; a fixed raw 27 maps to
the answer point 60; the median score of a phrasing against its own entry maps to 95, and the
rest piecewise linearly. The map is monotone, so the ranking is exactly that of the raw score.
Tuned on CLINC150 / HWU64 validation data with 2, 3, 5 and 10 phrasings per entry.
"""

from __future__ import annotations

import bisect
import math
import statistics
from collections.abc import Sequence

__all__ = ["CALIBRATION_SAMPLE", "DEFAULT_RAW", "MIN_CALIBRATION", "interpolate", "points", "scale"]

# Self-calibration (see ``Matcher._calibrate``): raw scores are mapped piecewise-linearly through
# three points measured on the knowledge itself onto these fixed calibrated values.
CALIBRATION_SAMPLE = 500  # phrasings scored leave-one-out at index time (fixed seed)
MIN_CALIBRATION = 5  # fewer usable phrasings: the default points below
_SUGGEST_SHARE = 0.65  # raw suggest point = this × the median leave-one-out score ...
_ANSWER_RAW = 27.0  # ... and the raw answer point is absolute: precision barely moves with density
_MIN_SUGGEST_RAW = 6.0  # below this a query shares next to nothing with the entry
_SUGGEST_POINT = 40.0
_ANSWER_POINT = 60.0
_EXACT_POINT = 95.0
DEFAULT_RAW = (10.0, _ANSWER_RAW, 78.0)  # suggest, answer, exact: as for 2 phrasings per entry


def points(
    own: Sequence[float], other: Sequence[float], exact: Sequence[float]
) -> tuple[float, float, float]:
    """The raw suggest, answer and exact points from the leave-one-out scores of the sample
    (``own``), its best other entry's (``other``) and its own entry's with it (``exact``)."""
    suggest = min(_SUGGEST_SHARE * statistics.median(own), statistics.median(other))
    suggest = max(suggest, _MIN_SUGGEST_RAW)
    return suggest, max(_ANSWER_RAW, suggest + 1.0), statistics.median(exact)


def scale(suggest: float, answer: float, exact: float) -> tuple[tuple[float, float], ...]:
    """Points of the increasing piecewise-linear map from raw to calibrated scores."""
    points = [(0.0, 0.0)]
    for x, y in (
        (suggest, _SUGGEST_POINT),
        (answer, _ANSWER_POINT),
        (exact, _EXACT_POINT),
        (100.0, 100.0),
    ):
        if x > points[-1][0] + 1e-6 and y > points[-1][1]:
            points.append((x, y))
    return tuple(points)


def interpolate(points: Sequence[tuple[float, float]], x: float) -> float:
    """The piecewise-linear function through ``points`` (sorted by x) at ``x``."""
    position = bisect.bisect_right(points, (x, math.inf))
    if position == 0:
        return points[0][1]
    if position == len(points):
        return points[-1][1]
    (x0, y0), (x1, y1) = points[position - 1], points[position]
    return y0 + (y1 - y0) * (x - x0) / (x1 - x0)
