"""Named areas (wards, districts) and which of them contain a point, for routing by location.

Re-exported by :mod:`bot.routing`. An :class:`AreaIndex` is built once from boundary polygons,
usually a GeoJSON FeatureCollection (:meth:`AreaIndex.from_geojson`), and given to the
:class:`~bot.routing.Router`; rules then name areas, and a mention with coordinates matches an
area rule when its point lies in one of the rule's areas.

Semantics
---------
* Coordinates are WGS 84 degrees on a flat plane (longitude as x, latitude as y), like GeoJSON
  and like every city's ward map: at city scale the curvature does not matter.
* A Polygon is an outer ring and optional holes; a point in a hole is outside. A MultiPolygon,
  or several features with the same name, make one area covering all their parts.
* A point on the boundary (outer ring or hole), within :data:`EDGE_TOLERANCE` degrees (about
  0.1 mm), is *inside*. Neighbouring wards share their boundary, so a point on it is in both
  and both wards' rules match: better two departments see it than none.
* Area names are compared case-insensitively (with spaces collapsed) when rules are compiled,
  and reported with the spelling of the boundary file.

How it is fast
--------------
Routing asks this for every mention with coordinates, so nothing loops over all vertices: a
grid over the whole map names the few polygons whose bounding box covers the point's cell, and
each polygon keeps its edges in horizontal bands, so the ray cast (even-odd rule, holes
included) only looks at edges that span the point's latitude. Immutable once built: safe to
share between threads.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = ["EDGE_TOLERANCE", "AreaIndex"]

#: Degrees: a point this close to an edge is on the boundary, hence inside (about 0.1 mm).
EDGE_TOLERANCE = 1e-9

_Position = tuple[float, float]  # (x, y) = (lon, lat)
_Ring = list[_Position]
# Non-horizontal edge: (ax, ay, by, dx/dy, horizontal tolerance equivalent to EDGE_TOLERANCE).
_Edge = tuple[float, float, float, float, float]
_Flat = tuple[float, float, float]  # horizontal edge: (x min, x max, y)
_MAX_BANDS = 512
_MAX_GRID = 64


def _cell(value: float, origin: float, size: float, count: int) -> int:
    """Which of *count* cells of *size* from *origin* holds *value*, clamped to the range.

    Monotone in *value* (float subtraction, division by a positive number and truncation all
    are), which is what makes bucketing a range by its two ends and a point by itself agree.
    """
    index = int((value - origin) / size)
    return 0 if index < 0 else count - 1 if index >= count else index


class _Polygon:
    """One polygon (outer ring and holes) with its edges banded by latitude."""

    __slots__ = ("area", "band_count", "band_size", "bands", "bbox", "flats", "y0")

    def __init__(self, area: str, rings: Sequence[_Ring]) -> None:
        self.area = area
        xs = [x for ring in rings for x, _ in ring]
        ys = [y for ring in rings for _, y in ring]
        eps = EDGE_TOLERANCE
        self.bbox = (min(xs) - eps, min(ys) - eps, max(xs) + eps, max(ys) + eps)
        self.y0 = self.bbox[1]
        edge_count = sum(len(ring) - 1 for ring in rings)
        self.band_count = max(1, min(edge_count // 4, _MAX_BANDS))
        self.band_size = (self.bbox[3] - self.y0) / self.band_count
        bands: list[list[_Edge]] = [[] for _ in range(self.band_count)]
        flats: list[list[_Flat]] = [[] for _ in range(self.band_count)]
        for ring in rings:
            for (ax, ay), (bx, by) in itertools.pairwise(ring):
                low = self._band(min(ay, by) - eps)
                high = self._band(max(ay, by) + eps)
                if ay == by:
                    flat = (min(ax, bx), max(ax, bx), ay)
                    for band in range(low, high + 1):
                        flats[band].append(flat)
                    continue
                dy = by - ay
                edge = (ax, ay, by, (bx - ax) / dy, eps * math.hypot(bx - ax, dy) / abs(dy))
                for band in range(low, high + 1):
                    bands[band].append(edge)
        self.bands = tuple(tuple(edges) for edges in bands)
        self.flats = tuple(tuple(edges) for edges in flats)

    def _band(self, y: float) -> int:
        return _cell(y, self.y0, self.band_size, self.band_count)

    def contains(self, x: float, y: float) -> bool:
        """Even-odd ray cast towards +x over the edges spanning *y*; the boundary is inside."""
        x0, y0, x1, y1 = self.bbox
        if not (x0 <= x <= x1 and y0 <= y <= y1):
            return False
        band = self._band(y)
        eps = EDGE_TOLERANCE
        inside = False
        for ax, ay, by, slope, tolerance in self.bands[band]:
            if (ay > y) != (by > y):  # half-open: a vertex on the ray is counted once
                offset = x - (ax + (y - ay) * slope)
                if -tolerance <= offset <= tolerance:
                    return True  # on this edge
                if offset < 0:
                    inside = not inside
            elif -eps <= y - ay <= eps and -eps <= x - ax <= eps:
                return True  # on a vertex the half-open rule skipped (a peak or a trough)
        for low, high, flat_y in self.flats[band]:
            if -eps <= y - flat_y <= eps and low - eps <= x <= high + eps:
                return True  # on a horizontal edge, which never crosses the ray
        return inside


class AreaIndex:
    """Named areas made of polygons, and which contain a point (see the module docstring)."""

    def __init__(self, areas: Mapping[str, Iterable[Sequence[Sequence[Sequence[float]]]]]) -> None:
        """Build from ``{name: [polygon, ...]}``, a polygon being GeoJSON-style coordinates.

        A polygon is a list of rings (outer first, then holes), a ring a list of positions
        ``[lon, lat]`` (extra values such as altitude are ignored), closed or not. Raises
        ``ValueError`` on anything else, naming the area, so a broken boundary file fails
        when it is loaded rather than silently routing nothing.
        """
        self._names: dict[str, str] = {}  # folded name -> name as given
        polygons: list[_Polygon] = []
        for raw_name, parts in areas.items():
            name = " ".join(str(raw_name).split())
            key = name.casefold()
            if not key:
                raise ValueError(f"area {raw_name!r}: empty name")
            if key in self._names:
                raise ValueError(f'areas "{self._names[key]}" and "{name}" differ only in case')
            self._names[key] = name
            count = len(polygons)
            for number, polygon in enumerate(parts):
                where = f'area "{name}", polygon {number}'
                polygons.append(_Polygon(name, _rings(polygon, where)))
            if len(polygons) == count:
                raise ValueError(f'area "{name}" has no polygons')
        self._polygons = tuple(polygons)
        self._build_grid()

    @classmethod
    def from_geojson(cls, data: Mapping[str, Any], name_property: str) -> AreaIndex:
        """Load a FeatureCollection of Polygon and MultiPolygon features (ward boundaries, say).

        Each feature's area name is its property *name_property*, as a string (ward numbers
        stored as integers become "5"); features with the same name are one area.
        """
        if not isinstance(data, Mapping) or data.get("type") != "FeatureCollection":
            raise ValueError("not a GeoJSON FeatureCollection")
        features = data.get("features")
        if not isinstance(features, list):
            raise ValueError("a FeatureCollection needs a list of features")
        areas: dict[str, list[Any]] = {}
        for number, feature in enumerate(features):
            where = f"feature {number}"
            if not isinstance(feature, Mapping):
                raise ValueError(f"{where} is not an object")
            properties = feature.get("properties")
            name = properties.get(name_property) if isinstance(properties, Mapping) else None
            if name is None or isinstance(name, Mapping | list) or not str(name).strip():
                raise ValueError(f"{where} has no {name_property!r} property")
            where = f'{where} ("{name}")'
            geometry = feature.get("geometry")
            kind = geometry.get("type") if isinstance(geometry, Mapping) else None
            coordinates = geometry.get("coordinates") if isinstance(geometry, Mapping) else None
            if kind not in ("Polygon", "MultiPolygon") or not isinstance(coordinates, list):
                raise ValueError(f"{where}: geometry {kind} is not a Polygon or MultiPolygon")
            parts = [coordinates] if kind == "Polygon" else coordinates
            areas.setdefault(" ".join(str(name).split()), []).extend(parts)
        return cls(areas)

    @property
    def names(self) -> tuple[str, ...]:
        """The area names, spelled as given, in the order given."""
        return tuple(self._names.values())

    def __len__(self) -> int:
        return len(self._names)

    def resolve(self, name: str) -> str | None:
        """The area called *name* (case and spacing aside), as spelled in the index, or None."""
        return self._names.get(" ".join(name.split()).casefold())

    def areas_at(self, lat: float, lon: float) -> frozenset[str]:
        """The names of all areas containing the point (boundaries included)."""
        x, y = lon, lat
        x0, y0, x1, y1 = self._bbox
        if not (x0 <= x <= x1 and y0 <= y <= y1):  # also rejects NaN
            return frozenset()
        cell = self._grid[
            _cell(y, y0, self._cell_h, self._rows) * self._cols
            + _cell(x, x0, self._cell_w, self._cols)
        ]
        found: set[str] = set()
        for polygon in cell:
            if polygon.area not in found and polygon.contains(x, y):
                found.add(polygon.area)
        return frozenset(found)

    def contains(self, name: str, lat: float, lon: float) -> bool:
        """Whether the area called *name* contains the point; ``KeyError`` if there is none."""
        area = self.resolve(name)
        if area is None:
            raise KeyError(name)
        return area in self.areas_at(lat, lon)

    def _build_grid(self) -> None:
        """Bucket polygons by the grid cells their bounding boxes overlap."""
        boxes = [polygon.bbox for polygon in self._polygons]
        if not boxes:
            boxes = [(0.0, 0.0, 0.0, 0.0)]  # an empty index: a 1x1 grid of nothing
        self._bbox = (
            min(b[0] for b in boxes),
            min(b[1] for b in boxes),
            max(b[2] for b in boxes),
            max(b[3] for b in boxes),
        )
        x0, y0, x1, y1 = self._bbox
        side = max(1, min(_MAX_GRID, 2 * math.ceil(math.sqrt(len(self._polygons)))))
        self._cols = self._rows = side
        self._cell_w = (x1 - x0) / side or 1.0
        self._cell_h = (y1 - y0) / side or 1.0
        grid: list[list[_Polygon]] = [[] for _ in range(side * side)]
        for polygon in self._polygons:
            px0, py0, px1, py1 = polygon.bbox
            for row in range(
                _cell(py0, y0, self._cell_h, side), _cell(py1, y0, self._cell_h, side) + 1
            ):
                for col in range(
                    _cell(px0, x0, self._cell_w, side), _cell(px1, x0, self._cell_w, side) + 1
                ):
                    grid[row * side + col].append(polygon)
        self._grid = tuple(tuple(cell) for cell in grid)


def _rings(polygon: object, where: str) -> list[_Ring]:
    """Validate GeoJSON polygon coordinates: rings of at least three distinct positions."""
    if not isinstance(polygon, Sequence) or isinstance(polygon, str) or not polygon:
        raise ValueError(f"{where}: a polygon is a non-empty list of rings")
    rings: list[_Ring] = []
    for number, raw_ring in enumerate(polygon):
        if not isinstance(raw_ring, Sequence) or isinstance(raw_ring, str):
            raise ValueError(f"{where}, ring {number}: a ring is a list of positions")
        ring = [_position(position, f"{where}, ring {number}") for position in raw_ring]
        if len(set(ring)) < 3:
            raise ValueError(f"{where}, ring {number}: fewer than three distinct positions")
        if ring[0] != ring[-1]:
            ring.append(ring[0])  # GeoJSON rings are closed; tolerate files that are not
        rings.append(ring)
    return rings


def _position(position: object, where: str) -> _Position:
    if isinstance(position, Sequence) and not isinstance(position, str) and len(position) >= 2:
        x, y = position[0], position[1]
        if (
            isinstance(x, int | float)
            and isinstance(y, int | float)
            and not isinstance(x, bool)
            and not isinstance(y, bool)
            and math.isfinite(x)
            and math.isfinite(y)
        ):
            return float(x), float(y)
    raise ValueError(f"{where}: {position!r} is not a position [lon, lat]")
