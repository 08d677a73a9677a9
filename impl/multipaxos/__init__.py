"""MultiPaxos replicas (van Renesse and Altinbuken, "Paxos Made Moderately Complex")."""
