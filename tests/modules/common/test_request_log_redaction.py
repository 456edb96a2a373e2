# SPDX-License-Identifier: AGPL-3.0-or-later
"""Pins the adapter's use of SynapseRequest.get_redacted_uri (modules/common/synapse/patches.py): the
method Synapse's request logging and tracing call for the URI they write, reading only
self.uri; our wrapper redacts every credential-bearing query parameter."""

from types import SimpleNamespace

from twisted.trial import unittest

from modules.common.synapse.http import redact_query
from modules.common.synapse.patches import redact_credentials_in_request_logs


class RedactionTest(unittest.TestCase):
    def test_redact_query(self) -> None:
        self.assertEqual(
            redact_query("/cgi-bin/gettoken?corpid=c1&corpsecret=S3cr3t"),
            "/cgi-bin/gettoken?corpid=c1&corpsecret=<redacted>",
        )
        self.assertEqual(
            redact_query(
                "/x?a=1&access_token=t1&access_token=t2;CODE=c&Corp%73ecret=s"
            ),
            "/x?a=1&access_token=<redacted>&access_token=<redacted>;CODE=<redacted>"
            "&Corp%73ecret=<redacted>",
        )
        self.assertEqual(redact_query("/no/query"), "/no/query")
        self.assertEqual(redact_query("/x?state=s&msgid=1"), "/x?state=s&msgid=1")

    def test_synapse_request_logging_is_wrapped(self) -> None:
        from synapse.http.site import SynapseRequest

        redact_credentials_in_request_logs()
        redact_credentials_in_request_logs()  # idempotent
        request = SimpleNamespace(
            uri=b"/cgi-bin/gettoken?corpid=c&corpsecret=S3cr3t&access_token=T0k"
        )
        logged = SynapseRequest.get_redacted_uri(request)  # type: ignore[arg-type]
        self.assertNotIn("S3cr3t", logged)
        self.assertNotIn("T0k", logged)
        self.assertIn("corpid=c", logged)
