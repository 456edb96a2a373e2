# SPDX-License-Identifier: AGPL-3.0-or-later
"""Request helpers of module endpoints (historical import path).

The resources, answers and the writer are in modules/common/http.py; reading and
validating what a request carries is in modules/common/inputs.py.
"""

from modules.common.http import JsonResource, RawBody
from modules.common.inputs import (
    MAX_BODY_BYTES,
    path_parts,
    query_param,
    read_body,
    read_json_object,
)

__all__ = [
    "MAX_BODY_BYTES",
    "JsonResource",
    "RawBody",
    "path_parts",
    "query_param",
    "read_body",
    "read_json_object",
]
