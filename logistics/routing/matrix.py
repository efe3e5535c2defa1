"""Distance and duration matrices.

Straight-line by default (great-circle distance × a detour factor, time at an average speed);
road matrices come from a callable (e.g. a pgRouting query) and may have holes, which are filled
with the straight-line estimate or left unreachable (``None``). Results are cached by point set.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .problem import is_reachable

EARTH_RADIUS_M = 6_371_008.8
DEFAULT_DETOUR = 1.3
DEFAULT_SPEED_KMH = 30.0

Point = tuple[float, float]  # (lon, lat)
IntMatrix = list[list[int | None]]
# Given points, returns (distances in metres, durations in seconds); None where no path.
RoadFetcher = Callable[[Sequence[Point]], tuple[Sequence[Sequence], Sequence[Sequence]]]

FALLBACK_STRAIGHT_LINE = "straight_line"
FALLBACK_UNREACHABLE = "unreachable"


@dataclass
class Matrices:
    distances: IntMatrix
    durations: IntMatrix
    source: str
    filled: int = 0  # road cells replaced by the straight-line estimate
    unreachable: int = 0  # cells left without a path


def haversine_m(a: Point, b: Point) -> float:
    lon1, lat1, lon2, lat2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def straight_line(
    points: Sequence[Point], *, detour: float = DEFAULT_DETOUR, speed_kmh: float = DEFAULT_SPEED_KMH
) -> Matrices:
    metres_per_second = speed_kmh / 3.6
    dist: IntMatrix = []
    dur: IntMatrix = []
    for a in points:
        row = [round(haversine_m(a, b) * detour) for b in points]
        dist.append(row)
        dur.append([round(d / metres_per_second) for d in row])
    return Matrices(dist, dur, source=f"straight_line(detour={detour},speed={speed_kmh})")


def road(
    points: Sequence[Point],
    fetch: RoadFetcher,
    *,
    fallback: str = FALLBACK_STRAIGHT_LINE,
    detour: float = DEFAULT_DETOUR,
    speed_kmh: float = DEFAULT_SPEED_KMH,
) -> Matrices:
    """Road matrices from ``fetch``; a missing cell is filled or left unreachable.

    A cell counts as missing when either its distance or its duration is missing, so the two
    matrices always agree on what is reachable.
    """
    if fallback not in (FALLBACK_STRAIGHT_LINE, FALLBACK_UNREACHABLE):
        raise ValueError(f"unknown fallback {fallback!r}")
    raw_dist, raw_dur = fetch(points)
    estimate = straight_line(points, detour=detour, speed_kmh=speed_kmh)
    result = Matrices([], [], source=f"road(fallback={fallback})")
    for i in range(len(points)):
        dist_row: list[int | None] = []
        dur_row: list[int | None] = []
        for j in range(len(points)):
            d, t = _cell(raw_dist, i, j), _cell(raw_dur, i, j)
            if i == j:
                d, t = 0, 0
            elif not (is_reachable(d) and is_reachable(t)):
                if fallback == FALLBACK_STRAIGHT_LINE:
                    d, t = estimate.distances[i][j], estimate.durations[i][j]
                    result.filled += 1
                else:
                    d = t = None
                    result.unreachable += 1
            dist_row.append(None if d is None else round(d))
            dur_row.append(None if t is None else round(t))
        result.distances.append(dist_row)
        result.durations.append(dur_row)
    return result


def _cell(matrix: Sequence[Sequence] | None, i: int, j: int):
    try:
        return matrix[i][j]
    except (IndexError, TypeError, KeyError):
        return None


class MatrixCache:
    """A small in-process LRU cache of matrices keyed by the point set and the method."""

    def __init__(self, maxsize: int = 32, precision: int = 6):
        self.maxsize = maxsize
        self.precision = precision
        self._items: OrderedDict[tuple, Matrices] = OrderedDict()
        self.hits = self.misses = 0

    def key(self, points: Sequence[Point], method: str) -> tuple:
        rounded = tuple((round(lon, self.precision), round(lat, self.precision)) for lon, lat in points)
        return (method, rounded)

    def get_or_build(self, points: Sequence[Point], method: str, build: Callable[[], Matrices]) -> Matrices:
        key = self.key(points, method)
        if key in self._items:
            self.hits += 1
            self._items.move_to_end(key)
            return self._items[key]
        self.misses += 1
        value = build()
        self._items[key] = value
        if len(self._items) > self.maxsize:
            self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        self._items.clear()


default_cache = MatrixCache()


def build_matrices(
    points: Sequence[Point],
    *,
    fetch: RoadFetcher | None = None,
    fallback: str = FALLBACK_STRAIGHT_LINE,
    detour: float = DEFAULT_DETOUR,
    speed_kmh: float = DEFAULT_SPEED_KMH,
    cache: MatrixCache | None = default_cache,
    cache_tag: str = "",
) -> Matrices:
    """Road matrices when ``fetch`` is given, straight-line otherwise; cached.

    ``cache_tag`` should identify the road network version so a reload invalidates entries.
    """
    if fetch is None:
        method = f"straight:{detour}:{speed_kmh}"

        def build() -> Matrices:
            return straight_line(points, detour=detour, speed_kmh=speed_kmh)
    else:
        method = f"road:{cache_tag}:{fallback}:{detour}:{speed_kmh}"

        def build() -> Matrices:
            return road(points, fetch, fallback=fallback, detour=detour, speed_kmh=speed_kmh)

    if cache is None:
        return build()
    return cache.get_or_build(points, method, build)
