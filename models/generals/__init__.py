"""The Byzantine Generals (Lamport, Shostak and Pease, TOPLAS 1982): OM(m) and SM(m)."""
