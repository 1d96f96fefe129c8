"""How many examples the property tests try (tests/test_properties.py, tests/unit/test_import_file_properties.py).

HYPOTHESIS_EXAMPLES=2000 pytest ... searches longer and with new examples each run; without it the
suite (and CI) replays the same examples every time, so a red run is a change's.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

EXPLORE = "HYPOTHESIS_EXAMPLES" in os.environ
SCALE = max(1, int(os.environ.get("HYPOTHESIS_EXAMPLES", "100")) // 100)
SOME = settings(max_examples=100 * SCALE, deadline=None, derandomize=not EXPLORE,
                suppress_health_check=[HealthCheck.function_scoped_fixture])
RULES = settings(max_examples=60 * SCALE, deadline=None, derandomize=not EXPLORE,
                 suppress_health_check=[HealthCheck.function_scoped_fixture])
FEW = settings(max_examples=30 * SCALE, deadline=None, derandomize=not EXPLORE,
               suppress_health_check=[HealthCheck.function_scoped_fixture])
