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
from types import ModuleType

_frozen: set[str] = set()


def import_frozen(name: str) -> ModuleType:
    """`import name`, then gc.freeze() after the first import.

    Always through importlib (not sys.modules alone): a module another thread is
    still importing is in sys.modules half made (an export in a worker thread got an
    xlsxwriter without Workbook); importlib waits for that import to finish."""
    module = importlib.import_module(name)
    if name not in _frozen:
        _frozen.add(name)
        gc.freeze()
    return module
