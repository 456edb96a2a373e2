"""The 警务微信 launcher: renders Synapse's config, initialises data dirs, runs Synapse."""
