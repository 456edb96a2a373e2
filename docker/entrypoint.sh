#!/bin/sh
# SPDX-License-Identifier: AGPL-3.0-or-later
# First start: render the worker deployment into $JWWX_DATA (default /data) from the
# environment; secrets and keys are generated once and kept in the volume. Then run it
# supervised (docs/deployment.md). `entrypoint.sh init` renders only.
set -eu
DATA="${JWWX_DATA:-/data}"
if [ ! -f "$DATA/homeserver.yaml" ]; then
    python -m homeserver init --data-dir "$DATA" \
        --server-name "${JWWX_SERVER_NAME}" \
        --public-baseurl "${JWWX_PUBLIC_BASEURL}" \
        --database-url "${JWWX_DATABASE_URL}" \
        --redis-host "${JWWX_REDIS_HOST:-redis}" \
        --workers "${JWWX_WORKERS:-small}" \
        --metrics-port "${JWWX_METRICS_PORT:-9100}" \
        --nginx-listen 80
fi
if [ "${1:-run}" = "init" ]; then
    exit 0
fi
exec python -m homeserver run --data-dir "$DATA"
