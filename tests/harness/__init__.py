"""Our own integration-test harness: a real Synapse (via the launcher) with our modules."""
