"""What several modules share: config parsing, migrations, HTTP resources, errors."""
