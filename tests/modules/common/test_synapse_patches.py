# SPDX-License-Identifier: AGPL-3.0-or-later
"""The adapter's patch points: the pinned Synapse has each patched method with the
signature its wrapper was written against, and any difference refuses to start."""

import dataclasses
import inspect
from pathlib import Path
from typing import Any

from twisted.trial import unittest

from homeserver.config_file import check_module_configs, load_server_config
from homeserver.errors import LauncherError
from modules.common.synapse import patch_points, patches
from modules.common.synapse.patches import (
    PATCH_POINTS,
    PatchPointError,
    check_patch_points,
    synapse_version,
)
from tests.harness.server import launcher


class PinnedPatchPointsTest(unittest.TestCase):
    def test_the_pinned_synapse_fits_every_patch(self) -> None:
        self.assertEqual(synapse_version(), patches.WRITTEN_FOR)
        self.assertEqual(
            {p.purpose for p in PATCH_POINTS},
            {
                "add_request_check",
                "add_login_hooks",
                "add_local_media_deletion_hook",
                "allow_multipart_posts",
                "rooms_being_shut_down",
                "redact_credentials_in_request_logs",
                "route_local_media_downloads",
                "add_profile_query_check",
                "serve_message_search",
                "serve_user_directory_search",
                "add_state_event_rule",
                "accept_session_cookie",
            },
        )
        check_patch_points(PATCH_POINTS)
        check_patch_points()

    def test_a_different_signature_refuses_in_one_line(self) -> None:
        point = next(p for p in PATCH_POINTS if p.purpose == "add_login_hooks")
        # As if the pinned Synapse had renamed validate_login's is_reauth.
        written_for = dataclasses.replace(
            point, signature=point.signature.replace("is_reauth", "reauth")
        )
        with self.assertRaises(PatchPointError) as caught:
            check_patch_points((written_for,))
        message = str(caught.exception)
        self.assertNotIn("\n", message)
        self.assertTrue(message.startswith(f"Synapse {synapse_version()} "), message)
        self.assertIn("synapse.handlers.auth.AuthHandler.validate_login", message)
        self.assertIn("add_login_hooks", message)
        self.assertIn(written_for.signature, message)
        self.assertIn("has the signature (self, login_submission", message)
        self.assertIn("docs/upgrading.md", message)

    def test_a_missing_attribute_refuses(self) -> None:
        point = dataclasses.replace(PATCH_POINTS[0], attribute="get_user_by_request")
        with self.assertRaisesRegex(
            PatchPointError,
            r"InternalAuth\.get_user_by_request \(patched by add_request_check\)"
            r" does not exist",
        ):
            check_patch_points((point,))

    def test_the_launcher_refuses_before_starting_synapse(self) -> None:
        data = Path(self.mktemp()).resolve()
        launcher("init", "--data-dir", str(data))
        config = load_server_config(data)
        check_module_configs(config)  # the pinned Synapse passes
        point = PATCH_POINTS[3]
        wrong = dataclasses.replace(point, signature="(self, command, path)")
        self.patch(
            patch_points,
            "PATCH_POINTS",
            (*PATCH_POINTS[:3], wrong, *PATCH_POINTS[4:]),
        )
        self.patch(patch_points, "_checked", False)
        with self.assertRaises(LauncherError) as caught:
            check_module_configs(config)
        message = str(caught.exception)
        self.assertNotIn("\n", message)
        self.assertIn("SynapseRequest.requestReceived", message)
        self.assertIn(f"Synapse {synapse_version()} is not supported", message)

    def test_an_installed_wrapper_keeps_the_original_signature(self) -> None:
        # Patches check the points before installing; a second check (another module
        # starting) must still see Synapse's signature through the wrapper.
        from synapse.http.site import SynapseRequest

        patches.allow_multipart_posts(b"/_jwwx/test/upload-only-in-this-test")
        point = PATCH_POINTS[3]
        self.assertEqual(
            str(inspect.signature(SynapseRequest.requestReceived)), point.signature
        )
        check_patch_points(PATCH_POINTS)

    def test_the_media_servlets_are_the_pinned_ones(self) -> None:
        # route_local_media_downloads wraps on_GET of these four servlets, which tell
        # local media apart with _is_mine_server_name (set in their __init__).
        servlets = patches.media_servlets()
        pinned = {
            (p.module, p.cls)
            for p in PATCH_POINTS
            if p.purpose == "route_local_media_downloads"
        }
        self.assertEqual({(s.__module__, s.__name__) for s, _ in servlets}, pinned)
        for servlet, kind in servlets:
            self.assertIn("_is_mine_server_name", inspect.getsource(servlet.__init__))
            word = "download" if kind == "media" else kind
            patterns = [p.pattern for p in servlet.PATTERNS]  # type: ignore[attr-defined]
            self.assertTrue(any(f"/{word}/" in p for p in patterns), patterns)


class DatabasePoolPinTest(unittest.TestCase):
    """database.py runs some interactions through Synapse's db pool, for what the
    ModuleApi's run_db_interaction does not offer: autocommit (run_single_read, the
    maintenance commands) and an isolation level (run_serialized_write)."""

    def test_run_interaction_takes_autocommit_and_isolation(self) -> None:
        from synapse.storage.database import DatabasePool

        parameters = inspect.signature(DatabasePool.runInteraction).parameters
        self.assertEqual(parameters["db_autocommit"].default, False)
        self.assertEqual(
            parameters["db_autocommit"].kind, inspect.Parameter.KEYWORD_ONLY
        )
        self.assertEqual(parameters["isolation_level"].default, None)
        # In autocommit, the function runs with psycopg2's autocommit set on the
        # connection (one statement, one round trip) and then it is set back.
        source = inspect.getsource(DatabasePool.runWithConnection)
        self.assertIn("attempt_to_set_autocommit(conn, True)", source)
        self.assertIn("attempt_to_set_autocommit(conn, False)", source)


class SessionCookiePinTest(unittest.TestCase):
    """accept_session_cookie replaces two static methods on BaseAuth: every reader of a
    client's token must look them up on the auth object at call time."""

    def test_the_token_readers_ask_the_patched_methods(self) -> None:
        from synapse.api.auth import internal
        from synapse.rest.client import account, logout

        self.assertIn(
            "self.get_access_token_from_request(request)", inspect.getsource(internal)
        )
        self.assertIn(
            "self.auth.get_access_token_from_request(request)",
            inspect.getsource(logout),
        )
        self.assertIn("self.auth.has_access_token(request)", inspect.getsource(account))

    def test_an_installed_wrapper_reads_the_cookie_only_with_its_proof(self) -> None:
        from twisted.web.test.requesthelper import DummyRequest

        from synapse.api.auth.base import BaseAuth
        from synapse.api.errors import MissingClientTokenError

        patches.accept_session_cookie(
            patches.SessionCookie(b"test_cookie", b"X-Test-Proof", lambda t: t[::-1])
        )
        self.assertEqual(
            str(inspect.signature(BaseAuth.get_access_token_from_request)),
            next(
                p for p in PATCH_POINTS if p.purpose == "accept_session_cookie"
            ).signature,
        )

        def request(headers: dict[bytes, bytes], cookie: bytes = b"") -> Any:
            r = DummyRequest([b""])
            for name, value in headers.items():
                r.requestHeaders.setRawHeaders(name, [value])
            cookies = {b"test_cookie": cookie} if cookie else {}
            r.getCookie = cookies.get
            return r

        bearer = {b"Authorization": b"Bearer header-token"}
        # A token of its own wins over the cookie.
        self.assertEqual(
            BaseAuth.get_access_token_from_request(request(bearer, b"abc")),
            "header-token",
        )
        # The cookie without its proof counts for nothing.
        self.assertFalse(BaseAuth.has_access_token(request({}, b"abc")))
        with self.assertRaises(MissingClientTokenError):
            BaseAuth.get_access_token_from_request(request({}, b"abc"))
        proved = request({b"X-Test-Proof": b"cba"}, b"abc")
        self.assertTrue(BaseAuth.has_access_token(proved))
        self.assertEqual(BaseAuth.get_access_token_from_request(proved), "abc")
        with self.assertRaises(patches.SynapseError) as wrong:
            BaseAuth.get_access_token_from_request(
                request({b"X-Test-Proof": b"abc"}, b"abc")
            )
        self.assertEqual(wrong.exception.code, 403)
        check_patch_points(PATCH_POINTS)


class ProfileCheckPinTest(unittest.TestCase):
    def test_the_profile_servlets_ask_the_patched_check(self) -> None:
        # add_profile_query_check relies on /profile awaiting
        # check_profile_query_allowed(user, requester_user) before any read.
        from synapse.rest.client import profile

        source = inspect.getsource(profile)
        call = "self.profile_handler.check_profile_query_allowed(user, requester_user)"
        self.assertGreaterEqual(source.count(call), 2)


class StateEventRulePinTest(unittest.TestCase):
    """add_state_event_rule replaces check_event_allowed on the shared instance: every
    caller must look the method up there at call time (local events, federation's
    events and knocks), and the original must still load the state only when a
    check_event_allowed callback is registered."""

    def test_the_callers_use_the_shared_instance(self) -> None:
        from synapse.handlers import federation, federation_event, message
        from synapse.module_api.callbacks import third_party_event_rules_callbacks

        call = "self._third_party_event_rules.check_event_allowed("
        for handler in (message, federation_event, federation):
            self.assertIn(call, inspect.getsource(handler), handler.__name__)
        original = inspect.getsource(
            third_party_event_rules_callbacks.ThirdPartyEventRulesModuleApiCallbacks.check_event_allowed
        )
        self.assertIn("if len(self._check_event_allowed_callbacks) == 0:", original)
        self.assertIn("await context.get_prev_state_ids()", original)

    def test_no_module_registers_check_event_allowed(self) -> None:
        # One registered callback would make Synapse load the whole room state for
        # every message again (issue 17: big groups); state rules go through the
        # adapter, message checks through check_event_for_spam.
        root = Path(__file__).resolve().parents[3]
        found = [
            str(path.relative_to(root))
            for top in ("modules", "admin_api", "bridges")
            for path in sorted((root / top).rglob("*.py"))
            if "check_event_allowed=" in path.read_text(encoding="utf-8")
        ]
        self.assertEqual(found, [])
