"""The node runtime shared by every protocol in impl/.

Replicas and clients are written *sans I/O*: a node is an object whose handlers
(`start`, `on_message`, `on_timer`) run to completion and act only through an `Env`
(send, set a timer, trace, persist). Two runtimes drive the same node objects:

- `sim.SimNetwork`: an in-process network with a deterministic, seeded scheduler and
  virtual time, for tests that explore schedules (Hypothesis) and replay a failure
  from its seed;
- `tcp.TcpHost`: one asyncio event loop per OS process, length-prefixed JSON frames
  over TCP on 127.0.0.1, real timers.

Both put the same fault layer (`faults.FaultPlan`: drop, duplicate, delay/reorder,
partition) under the transport and the same tracer (`tracer.Tracer`) over it.
"""
