"""PBFT replicas (Castro and Liskov, "Practical Byzantine Fault Tolerance", OSDI 1999)."""
