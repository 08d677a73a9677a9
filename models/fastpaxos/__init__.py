"""smrcheck.models.fastpaxos: Lamport's Fast Paxos."""
