"""smrcheck.models.paxos."""
