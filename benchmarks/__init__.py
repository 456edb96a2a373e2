"""Load and latency scenarios, each also run against vanilla Synapse (issue 8)."""
