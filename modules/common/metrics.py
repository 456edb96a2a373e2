# SPDX-License-Identifier: AGPL-3.0-or-later
"""Prometheus metrics of every module endpoint, on Synapse's metrics listener.

Synapse serves prometheus_client's default registry on its `metrics` listener
(`init --metrics-port`; each worker on its own port), so what is defined here appears
there on every process. The Router (modules/common/http.py) observes each request:

  jwwx_http_requests_total{route, method, status}   answered requests
  jwwx_http_errors_total{route, method, errcode}     answers carrying an error: Matrix
      errcode (4xx/5xx) or a non-zero WeCom errcode (HTTP 200 on /cgi-bin/)
  jwwx_http_request_seconds{route}                  time to answer (histogram)

`route` is the registered path pattern (e.g. /cgi-bin/message/send,
/_jwwx/admin/v1/directory/members/{userid}), never the raw path: a request matching no
route counts under its router's prefix + "/*". Methods outside the HTTP set count as
"OTHER", so clients cannot grow the label sets.
"""

from typing import Any

from prometheus_client import Counter, Histogram

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"})

REQUESTS = Counter(
    "jwwx_http_requests",
    "Requests answered by our modules' endpoints",
    ["route", "method", "status"],
)
ERRORS = Counter(
    "jwwx_http_errors",
    "Answers of our modules' endpoints that carry an error code",
    ["route", "method", "errcode"],
)
LATENCY = Histogram(
    "jwwx_http_request_seconds",
    "Time our modules' endpoints take to answer",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


def error_code(status: int, answer: Any) -> str | None:
    """The error an answer carries, as a label value; None for a success."""
    code = answer.get("errcode") if isinstance(answer, dict) else None
    if code is not None and code != 0:
        return str(code)[:40]
    if status >= 400:
        return str(status)
    return None


def observe_request(
    route: str, method: str, status: int, answer: Any, seconds: float
) -> None:
    method = method if method in _METHODS else "OTHER"
    REQUESTS.labels(route, method, str(status)).inc()
    LATENCY.labels(route).observe(seconds)
    errcode = error_code(status, answer)
    if errcode is not None:
        ERRORS.labels(route, method, errcode).inc()
