"""The smrtrace format: schema, reader and merger (not yet built)."""
