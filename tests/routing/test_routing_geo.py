"""Tests for areas (bot.routing._geo): loading boundaries and point-in-polygon.

The hand-written fixture ``tests/fixtures/places/wards.geojson`` (see its SOURCES.md) has round
coordinates so that points can sit exactly on edges and vertices; the randomised test at the
end compares the banded ray cast against a plain winding-number implementation on polygons
with many vertices, which is what catches banding and grid bugs.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path
from typing import Any

import pytest

from bot.routing import AreaIndex
from bot.routing._geo import EDGE_TOLERANCE

WARDS_FILE = Path(__file__).resolve().parents[1] / "fixtures" / "places" / "wards.geojson"


def load_wards() -> AreaIndex:
    return AreaIndex.from_geojson(json.loads(WARDS_FILE.read_text()), "name")


WARDS = load_wards()


@pytest.mark.parametrize(
    ("lat", "lon", "expected"),
    [
        # Ward 1: a rectangle with a hole.
        (42.34, -71.08, {"Ward 1"}),  # inside, above the hole
        (42.32, -71.08, set()),  # in the hole
        (42.31, -71.08, {"Ward 1"}),  # on the hole's edge: the boundary is inside
        (42.31, -71.09, {"Ward 1"}),  # on the hole's corner
        (42.30, -71.08, {"Ward 1"}),  # on the outer edge
        # Shared boundaries belong to both neighbours.
        (42.32, -71.05, {"Ward 1", "Ward 2"}),  # on the shared edge
        (42.30, -71.05, {"Ward 1", "Ward 2"}),  # on the shared corner
        (42.32, -71.10, {"Ward 1", "Ward 3"}),
        # Across a boundary, a little either side.
        (42.32, -71.0501, {"Ward 1"}),
        (42.32, -71.0499, {"Ward 2"}),
        (42.35, -71.00, {"Ward 2"}),  # outer corner
        (42.32, -70.9999, set()),
        # Ward 3: concave L shape.
        (42.36, -71.11, set()),  # in the notch of the L
        (42.35, -71.15, {"Ward 3"}),  # the reflex vertex
        (42.40, -71.17, {"Ward 3"}),  # on the top (horizontal) edge
        (42.4001, -71.17, set()),
        # Ward 4: a MultiPolygon.
        (42.26, -71.05, {"Ward 4"}),  # first part, a triangle
        (42.27, -71.025, {"Ward 4"}),  # on its diagonal edge
        (42.28, -71.02, set()),  # beside the diagonal edge, outside
        (42.38, -70.97, {"Ward 4"}),  # second part, an island
        (42.36, -70.99, {"Ward 4"}),  # the island's corner
        # Ward 5: a diamond, all edges diagonal.
        (42.385, -71.125, {"Ward 5"}),  # centre
        (42.41, -71.125, {"Ward 5"}),  # top vertex (a peak the ray only touches)
        (42.36, -71.125, {"Ward 5"}),  # bottom vertex
        (42.41, -71.12, set()),  # beside the peak
        (42.3975, -71.1125, {"Ward 5"}),  # on a diagonal edge, halfway
        (42.385, -71.15, {"Ward 3", "Ward 5"}),  # the diamond's corner on Ward 3's edge
        (42.385, -71.16, {"Ward 3"}),  # the ray passes through both side vertices
        (42.385, -71.09, set()),
        # Far away and nonsense.
        (0.0, 0.0, set()),
        (-42.32, 71.08, set()),
        (math.nan, -71.08, set()),
        (42.32, math.inf, set()),
    ],
)
def test_point_in_wards(lat: float, lon: float, expected: set[str]) -> None:
    assert WARDS.areas_at(lat, lon) == expected
    for name in WARDS.names:
        assert WARDS.contains(name, lat, lon) is (name in expected)


def test_edge_tolerance() -> None:
    on_edge = -71.05  # Ward 2's east edge is at -71.00; Ward 1's west at -71.10
    assert WARDS.areas_at(42.32, -71.10 - EDGE_TOLERANCE / 2) == {"Ward 1", "Ward 3"}
    assert WARDS.areas_at(42.32, -71.00 + 1e-12) == {"Ward 2"}
    assert WARDS.areas_at(42.32, -71.00 + 1e-6) == set()
    assert WARDS.areas_at(42.3975 + 1e-12, -71.1125) == {"Ward 5"}  # a diagonal edge
    assert WARDS.areas_at(42.3975 + 1e-6, -71.1125) == set()
    assert WARDS.areas_at(42.32, on_edge) == {"Ward 1", "Ward 2"}


def test_names_resolve_case_insensitively() -> None:
    assert WARDS.names == ("Ward 1", "Ward 2", "Ward 3", "Ward 4", "Ward 5")
    assert len(WARDS) == 5
    assert WARDS.resolve("  ward   4 ") == "Ward 4"
    assert WARDS.resolve("Ward 6") is None
    with pytest.raises(KeyError):
        WARDS.contains("Ward 6", 42.32, -71.08)


def test_numeric_name_property() -> None:
    by_number = AreaIndex.from_geojson(json.loads(WARDS_FILE.read_text()), "ward")
    assert by_number.names == ("1", "2", "3", "4", "5")
    assert by_number.areas_at(42.38, -70.97) == {"4"}


def test_features_with_the_same_name_are_one_area() -> None:
    square = [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]
    far = [[[5, 5], [6, 5], [6, 6], [5, 5]]]  # unclosed rings are tolerated too
    features = [
        {
            "type": "Feature",
            "properties": {"n": "A"},
            "geometry": {"type": "Polygon", "coordinates": rings},
        }
        for rings in (square, far)
    ]
    data = {"type": "FeatureCollection", "features": features}
    areas = AreaIndex.from_geojson(data, "n")
    assert areas.names == ("A",)
    assert areas.areas_at(0.5, 0.5) == {"A"} and areas.areas_at(5.2, 5.5) == {"A"}
    assert areas.areas_at(3, 3) == set()


def _fc(geometry: Any, properties: Any = None) -> dict[str, Any]:
    feature = {"type": "Feature", "properties": properties or {"n": "A"}, "geometry": geometry}
    return {"type": "FeatureCollection", "features": [feature]}


_SQUARE = [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"type": "Feature"}, "not a GeoJSON FeatureCollection"),
        ({"type": "FeatureCollection", "features": {}}, "needs a list of features"),
        ({"type": "FeatureCollection", "features": [3]}, "feature 0 is not an object"),
        (_fc({"type": "Polygon", "coordinates": _SQUARE}, {"x": 1}), "has no 'n' property"),
        (_fc({"type": "Polygon", "coordinates": _SQUARE}, {"n": " "}), "has no 'n' property"),
        (_fc({"type": "Point", "coordinates": [0, 0]}), "geometry Point is not a Polygon"),
        (_fc(None), "geometry None is not a Polygon"),
        (_fc({"type": "Polygon", "coordinates": []}), "a polygon is a non-empty list of rings"),
        (_fc({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [0, 0]]]}), "fewer than three"),
        (_fc({"type": "Polygon", "coordinates": [[[0, 0], [1, "x"], [1, 1]]]}), "not a position"),
        (_fc({"type": "Polygon", "coordinates": [[[0, 0], [1, math.nan], [1, 1]]]}), "position"),
        (_fc({"type": "Polygon", "coordinates": [[[0, 0], [True, 0], [1, 1]]]}), "position"),
        (_fc({"type": "MultiPolygon", "coordinates": []}), 'area "A" has no polygons'),
    ],
)
def test_bad_geojson(data: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AreaIndex.from_geojson(data, "n")


def test_names_differing_only_in_case_are_refused() -> None:
    with pytest.raises(ValueError, match="differ only in case"):
        AreaIndex({"Ward 1": [_SQUARE], "WARD 1": [_SQUARE]})


def test_empty_index() -> None:
    assert AreaIndex({}).areas_at(42.0, -71.0) == set()


def test_positions_with_altitude() -> None:
    areas = AreaIndex({"A": [[[[0, 0, 10], [2, 0, 10], [2, 2, 10], [0, 2, 10]]]]})
    assert areas.areas_at(1, 1) == {"A"} and areas.areas_at(3, 1) == set()


# ------------------------------------------- cross-check against a winding-number reference


def winding_contains(x: float, y: float, rings: list[list[tuple[float, float]]]) -> bool:
    """Reference: on an edge (within the tolerance) or inside the outer ring and no hole."""

    def near_segment(ax: float, ay: float, bx: float, by: float) -> bool:
        dx, dy = bx - ax, by - ay
        t = max(0.0, min(1.0, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy or 1.0)))
        return math.hypot(x - (ax + t * dx), y - (ay + t * dy)) <= EDGE_TOLERANCE

    def winding(ring: list[tuple[float, float]]) -> int:
        number = 0
        for (ax, ay), (bx, by) in zip(ring, ring[1:] + ring[:1], strict=True):
            side = (bx - ax) * (y - ay) - (x - ax) * (by - ay)
            if ay <= y < by and side > 0:
                number += 1
            elif by <= y < ay and side < 0:
                number -= 1
        return number

    for ring in rings:
        for (ax, ay), (bx, by) in zip(ring, ring[1:] + ring[:1], strict=True):
            if near_segment(ax, ay, bx, by):
                return True
    return winding(rings[0]) != 0 and all(winding(hole) == 0 for hole in rings[1:])


def _star(
    rnd: random.Random, cx: float, cy: float, radius: float, n: int
) -> list[tuple[float, float]]:
    """A random star-shaped (so simple) ring around (cx, cy), counterclockwise."""
    angles = sorted(rnd.uniform(0, 2 * math.pi) for _ in range(n))
    return [
        (cx + r * math.cos(a), cy + r * math.sin(a))
        for a in angles
        for r in [radius * rnd.uniform(0.4, 1.0)]
    ]


def test_banded_ray_cast_agrees_with_winding_numbers() -> None:
    rnd = random.Random(4242)
    polygons: dict[str, list[list[list[tuple[float, float]]]]] = {}
    for i in range(12):
        cx, cy = -71.2 + 0.05 * (i % 4), 42.25 + 0.05 * (i // 4)
        holed = i % 3 == 0
        # Enough vertices around a holed polygon that its edges stay clear of the hole.
        outer = _star(rnd, cx, cy, 0.03, rnd.randint(60, 300) if holed else rnd.randint(3, 300))
        rings = [outer]
        if holed:  # a hole well inside the outer ring's inner radius
            rings.append(_star(rnd, cx, cy, 0.01, rnd.randint(3, 40))[::-1])
        polygons[f"A{i}"] = [rings]
    areas = AreaIndex(polygons)
    boxes = {
        name: (min(xs) - 1e-6, min(ys) - 1e-6, max(xs) + 1e-6, max(ys) + 1e-6)
        for name, parts in polygons.items()
        for xs, ys in [list(zip(*parts[0][0], strict=True))]
    }
    inside = 0
    for _ in range(6_000):
        x, y = rnd.uniform(-71.25, -70.95), rnd.uniform(42.2, 42.45)
        if rnd.random() < 0.05:  # exactly on a vertex now and then
            ring = rnd.choice(rnd.choice(list(polygons.values()))[0])
            x, y = rnd.choice(ring)
        expected = {
            name
            for name, parts in polygons.items()
            if boxes[name][0] <= x <= boxes[name][2]
            and boxes[name][1] <= y <= boxes[name][3]
            and winding_contains(x, y, parts[0])
        }
        assert areas.areas_at(y, x) == expected, (x, y)
        inside += bool(expected)
    assert 600 < inside < 5_400
