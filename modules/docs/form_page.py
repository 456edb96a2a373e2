# SPDX-License-Identifier: AGPL-3.0-or-later
"""The collection form page (clients/docs/form: plain files, no build step):

GET  /_jwwx/docs/form/                 the page (index.html; #form=ID names the form)
GET  /_jwwx/docs/form/assets/{name}    its script and style sheet

Small on purpose (a phone opens it from the docs bot's card): no framework, its own
folder beside the editor's Vite bundle, so neither rebuilds the other. It talks to
the form API with the officer's own access token (the web client's session of the
tab, or its login form). CSP: scripts, styles and connections of this origin only."""

from pathlib import Path
from typing import Any, ClassVar

from synapse.module_api import ModuleApi

from modules.common.static import (
    Header,
    PageRouter,
    answer_asset,
    load_assets,
    load_file,
    security_headers,
)
from modules.common.synapse.errors import Codes, SynapseError

FORM_PAGE_PREFIX = "/_jwwx/docs/form"
# modules/docs/ → the repository → clients/docs/form (an editable install).
DEFAULT_FOLDER = Path(__file__).resolve().parents[2] / "clients" / "docs" / "form"
REVALIDATE = (b"Cache-Control", b"no-cache")
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


class FormPageResource(PageRouter):
    prefix = FORM_PAGE_PREFIX
    headers: ClassVar[tuple[Header, ...]] = security_headers(CSP)
    # Names without a content hash: revalidated by their ETag.
    asset_headers: ClassVar[tuple[Header, ...]] = (REVALIDATE,)

    def __init__(self, api: ModuleApi, folder: Path = DEFAULT_FOLDER) -> None:
        super().__init__(api, load_assets(folder / "assets"))
        self._index = load_file(folder / "index.html")

    async def index(self, request: Any) -> tuple[int, Any]:
        if self._index is None:
            raise SynapseError(404, "收集表页面缺失", Codes.NOT_FOUND)
        return answer_asset(request, self._index, REVALIDATE)
