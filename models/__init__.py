"""Protocol models as pure transition systems over immutable, hashable states."""
