"""Real replicas that run on loopback and write traces (not yet built)."""
