class LauncherError(Exception):
    """A problem the operator must fix; printed as one line, never as a traceback."""
