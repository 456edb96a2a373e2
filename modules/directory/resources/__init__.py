"""HTTP of modules.directory: the officers' client API and the admins' API."""
