"""Real replicas that run on loopback and write traces (smrtrace, traces/FORMAT.md).

- `runtime/`: the sans-I/O node interface, the tracer, durable storage, the fault layer,
  the deterministic simulated network and the TCP transport on 127.0.0.1;
- `multipaxos/`, `pbft/`: the replicas (written apart from models/: they share only
  vocabulary, so validating their traces checks one against the other);
- `client/`, `kvstore.py`: the client library and the replicated key-value store;
- `simrun.py`: a whole cluster on the simulated network (tests);
- `launch.py`: `smrcheck run`, each replica its own OS process.
"""
