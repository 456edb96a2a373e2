# SPDX-License-Identifier: AGPL-3.0-or-later
"""The router of module endpoints; it lives in modules/common/http.py (one HTTP layer)."""

from modules.common.http import Handler, JsonResource, Router

__all__ = ["Handler", "JsonResource", "Router"]
