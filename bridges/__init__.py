"""Application services (bridges), one sub-package each. None yet."""
