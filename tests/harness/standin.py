# SPDX-License-Identifier: AGPL-3.0-or-later
"""The HTTP scaffolding of a stand-in for an outside system (its LLM, speech engine...):
http.server with a thread per request, served from a thread of its own, outside the
test's reactor. The stand-in brings its handler, which speaks that system's protocol."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def serve(port: int, handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    """Listen on 127.0.0.1:port (0: a free port, server.server_address says which)."""
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def close(server: ThreadingHTTPServer | None) -> None:
    """Stop serving and free the port (None: never started)."""
    if server is not None:
        server.shutdown()
        server.server_close()
