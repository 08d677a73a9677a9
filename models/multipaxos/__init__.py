"""MultiPaxos state machine replication (Lamport, Paxos Made Simple §3)."""
