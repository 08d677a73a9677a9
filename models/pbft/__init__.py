"""PBFT (Castro & Liskov, OSDI 1999 / TOCS 2002)."""
