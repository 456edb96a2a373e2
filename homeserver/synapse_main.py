# SPDX-License-Identifier: AGPL-3.0-or-later
"""The Synapse process of `run`: our modules' config check, then Synapse's own main.

    python -m homeserver.synapse_main DATA_DIR -c homeserver.yaml -c conf.d ...

The check (check_module_configs: the adapter's patch points, then every configured
module's parse_config) runs here, in the process that is about to import Synapse and the
modules anyway, instead of in the launcher before it: each import happens once per
start. A bad config still ends the start before Synapse does anything, with the
launcher's one-line message and exit code 2.
"""

import sys
from pathlib import Path

from homeserver.config_file import check_module_configs, load_server_config
from homeserver.errors import LauncherError


def main() -> int:
    if len(sys.argv) < 2:
        print("usage: python -m homeserver.synapse_main DATA_DIR SYNAPSE_ARGS…")
        return 2
    data_dir = Path(sys.argv.pop(1))
    try:
        check_module_configs(load_server_config(data_dir))
    except LauncherError as e:
        print(f"homeserver: {e}", file=sys.stderr)
        return 2
    from modules.common.synapse.runtime import run_homeserver  # noqa: PLC0415

    run_homeserver()
    return 0


if __name__ == "__main__":
    sys.exit(main())
