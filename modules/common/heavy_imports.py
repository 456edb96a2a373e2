# SPDX-License-Identifier: AGPL-3.0-or-later
"""Heavy libraries imported on first use, then frozen out of the garbage collector.

Synapse freezes everything allocated at start (gc.freeze) so that its full collections,
which stop the whole process, skip it. A library imported later, on first use (to keep
start-up memory low), is not frozen: pypinyin's dictionaries alone are ~320,000 tracked
objects, and each full collection (Synapse runs one at most every 30 s) then walks them,
~0.1–0.9 s of stopped process on this machine, which showed as the latency tail of
message delivery (issue 17, item 2). Freezing right after the import keeps them out of
every later collection; whatever else is alive at that moment is frozen too (a one-off,
bounded by what the process held then).
"""

import gc
import importlib
import sys
from types import ModuleType


def import_frozen(name: str) -> ModuleType:
    """`import name` (once), then gc.freeze()."""
    found = sys.modules.get(name)
    if found is not None:
        return found
    module = importlib.import_module(name)
    gc.freeze()
    return module
