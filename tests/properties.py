"""How the property tests (hypothesis) run: bounded, so the suite keeps its time.

Random on a developer's machine, so each run tries inputs no run tried before (and hypothesis
keeps the failing ones in ``.hypothesis/`` to try first next time); derandomized under CI
(``CI`` set), so whether a submission lands does not depend on which inputs a run drew.
Function-scoped fixtures are shared by a test's examples on purpose: each example checks what
it changed, not an empty database.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings


def bounded(max_examples: int) -> settings:
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=bool(os.environ.get("CI")),
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
