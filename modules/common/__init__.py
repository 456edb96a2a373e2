# SPDX-License-Identifier: AGPL-3.0-or-later
"""What several modules share: config parsing, migrations, HTTP resources, errors."""
