"""The sandbox's clock: real time plus an offset the visitor moves forward."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


class MovableClock:
    def __init__(self, offset: timedelta = timedelta()) -> None:
        self._offset = offset
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return datetime.now(UTC) + self._offset

    def advance(self, by: timedelta) -> datetime:
        if by < timedelta():
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += by
        return self.now()
