"""Turn role_paxos's native text logs into an smrtrace (format 2) that smrcheck validates.

    python examples/role_paxos/adapter.py RUN_DIR --out TRACE_DIR     # one file per process
    python examples/role_paxos/adapter.py RUN_DIR --merged run.jsonl  # one merged file
    python examples/role_paxos/adapter.py RUN_DIR --merged - | smrcheck validate -

This file is teaching material: it is the whole bridge between a Paxos that was never
written for smrcheck and the checker, and traces/ADAPTING.md walks through it. Nothing
in role_paxos was changed to suit smrcheck; what the adapter needs from any system is
what these logs already hold:

  1. the cluster: who plays which role (here `cluster.conf`; often a deployment file);
  2. per process, its events in the order it did them (one log per process and per
     incarnation, read top to bottom: the line order IS the process's order, so the
     adapter numbers the lines 0, 1, 2, ... as `seq`, on from a1.log into a1.2.log
     after a restart; the wall-clock `t=` becomes `ts`, which smrcheck never uses for
     ordering);
  3. for every message, an id unique in the run that the sender logs on SEND and the
     receiver logs on RECV (role_paxos uses "<sender>-<counter>", e.g. `p2-17`);
  4. the protocol content of each message: slot, ballot, value.

The native vocabulary, one line per event (`t=<unix time> proc=<name> EVENT k=v ...`):

  native line                                   smrtrace event
  --------------------------------------------  -----------------------------------------
  SEND <TYPE> id= to=a,b ...fields              send {msg_id, to, msg}
  RECV <TYPE> id= from= ...fields               recv {msg_id, from, msg}
  CHOSEN slot= ballot= cmd=    (learner)         decide {slot, cmd, ballot}
  ISSUE req= op=               (client)          request {req, op}
  DONE req= result=            (client)          result {req, result}
  TIMEOUT slot= ballot= phase= (proposer)        note (a timer: the model does not see it)
  GIVEUP req=                  (client)          note (the client stops waiting)
  RESTART incarnation=         (acceptor)        restart (first line of a new life's log)

  message TYPE   fields                         smrtrace msg.type (Paxos Made Simple)
  ------------   ----------------------------   ------------------------------------------
  PREPARE        slot ballot                    prepare {ballot, slot}          phase 1a
  PROMISE        slot ballot accepted           promise {ballot, slot, accepted} phase 1b
  NACK           slot ballot promised           nack {ballot, promised, slot}   rejection
  ACCEPT         slot ballot cmd                accept {ballot, slot, cmd}      phase 2a
  ACCEPTED       slot ballot cmd                accepted {ballot, slot, cmd}    phase 2b
  LEARN          slot cmd                       decide {slot, cmd}   a learner tells others
  REQUEST        cmd                            request {cmd}        client -> proposer
  REPLY          req result cmd                 reply {client, req, result}

Values: a ballot `7.p2` is [7, "p2"]; a command `c1.3.set-k0-3` is
{"client": "c1", "req": 3, "op": "set-k0-3"}; `accepted=-` means the acceptor had
accepted nothing in that slot, `accepted=1.p1:c1.0.set-k0-0` the ballot and value it had.

Per-instance Paxos: every PREPARE and PROMISE names its one slot, so the trace's
prepare/promise carry `slot` (format 2); a promise's `accepted` lists at most that one
slot. A system whose phase 1 covers "every slot from k" would write `from_slot` instead.
"""

from __future__ import annotations

import argparse
import heapq
import json
import sys
from pathlib import Path


class NativeLogError(ValueError):
    """A native log line the adapter cannot read (names the file and line)."""


# ---------------------------------------------------------------------------------------
# Step 1. The header: from the cluster file.

def header(cluster_file: Path, run_id: str) -> dict:
    """The smrtrace header. `nodes` lists every non-client process, proposers first in
    the order role_paxos ranks them: smrcheck breaks ballot ties ([round, node]) by a
    node's index in `nodes`, so that order must be the implementation's (p1 < p2)."""
    roles: dict[str, list[str]] = {}
    clients: list[str] = []
    for line in cluster_file.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        role, name, _host, _port = line.split()
        if role == "client":
            clients.append(name)
        else:
            roles[name] = [role]
    acceptors = sum(r == ["acceptor"] for r in roles.values())
    return {
        "kind": "header", "format": "smrtrace", "version": 2, "protocol": "multipaxos",
        "nodes": list(roles), "clients": clients,
        # f: crash faults a majority of the acceptors tolerates.
        "f": (acceptors - 1) // 2,
        "roles": roles,
        # role_paxos's proposers and learners count a majority of the acceptors.
        "quorums": "majority",
        "run": run_id,
    }


# ---------------------------------------------------------------------------------------
# Step 2. Native values -> smrtrace values.

def ballot(text: str) -> list:
    rnd, node = text.split(".", 1)
    return [int(rnd), node]


def command(text: str) -> dict:
    client, req, op = text.split(".", 2)
    return {"client": client, "req": int(req), "op": op}


def payload(mtype: str, f: dict) -> dict:
    """The smrtrace `msg` of one native message (its fields as logged)."""
    if mtype == "PREPARE":
        return {"type": "prepare", "ballot": ballot(f["ballot"]), "slot": int(f["slot"])}
    if mtype == "PROMISE":
        slot = int(f["slot"])
        accepted = []
        if f["accepted"] != "-":  # "<vballot>:<cmd>": what this acceptor had accepted here
            vb, cmd = f["accepted"].split(":", 1)
            accepted = [[slot, ballot(vb), command(cmd)]]
        return {"type": "promise", "ballot": ballot(f["ballot"]), "slot": slot,
                "accepted": accepted}
    if mtype == "NACK":
        return {"type": "nack", "ballot": ballot(f["ballot"]),
                "promised": ballot(f["promised"]), "slot": int(f["slot"])}
    if mtype in ("ACCEPT", "ACCEPTED"):
        return {"type": mtype.lower(), "ballot": ballot(f["ballot"]), "slot": int(f["slot"]),
                "cmd": command(f["cmd"])}
    if mtype == "LEARN":
        return {"type": "decide", "slot": int(f["slot"]), "cmd": command(f["cmd"])}
    if mtype == "REQUEST":
        return {"type": "request", "cmd": command(f["cmd"])}
    if mtype == "REPLY":
        cmd = command(f["cmd"])
        return {"type": "reply", "client": cmd["client"], "req": int(f["req"]),
                "result": f["result"]}
    raise KeyError(f"unknown message type {mtype}")


# ---------------------------------------------------------------------------------------
# Step 3. One native line -> one smrtrace event (without seq: numbered in step 4).

def event(words: list[str], f: dict) -> dict:
    kind = words[0]
    if kind == "SEND":
        return {"kind": "send", "msg_id": f["id"], "to": f["to"].split(","),
                "msg": payload(words[1], f)}
    if kind == "RECV":
        # The payload is optional on a recv whose send is in the trace; role_paxos logs
        # it anyway, so smrcheck also checks that what arrived is what was sent.
        return {"kind": "recv", "msg_id": f["id"], "from": f["from"], "msg": payload(words[1], f)}
    if kind == "CHOSEN":
        # A learner's decision: it counted a majority of ACCEPTED in one ballot.
        return {"kind": "decide", "slot": int(f["slot"]), "cmd": command(f["cmd"]),
                "ballot": ballot(f["ballot"])}
    if kind == "ISSUE":
        return {"kind": "request", "req": int(f["req"]), "op": f["op"]}
    if kind == "DONE":
        return {"kind": "result", "req": int(f["req"]), "result": f["result"]}
    if kind == "RESTART":
        # The process runs again on its durable state. Its crash logged nothing (it was
        # killed), and smrcheck needs no `crash` before a `restart`.
        return {"kind": "restart"}
    if kind == "GIVEUP":
        return {"kind": "note", "text": f"client gives up request {f['req']}"}
    if kind == "TIMEOUT":
        return {"kind": "note", "text": f"timeout slot {f['slot']} ballot {f['ballot']} "
                                        f"phase {f['phase']}"}
    raise KeyError(f"unknown event {kind}")


def read_log(paths: list[Path]) -> tuple[str, list[dict]]:
    """One process's events from its log files (one per incarnation, in order: a1.log,
    then a1.2.log after a restart), numbered by `seq` in log order.

    `seq` runs on across the files: it is the process's counter over its whole life, so
    a restart continues it rather than starting again at 0 (smrcheck would read a second
    `seq` 0 as a duplicated event).

    A last line without its newline was cut off when the process died mid-write: it is
    skipped with a warning, as smrcheck itself does for a trace. Any other line that
    does not parse is an error naming the file and line: guessing would make the
    checker's verdict about the adapter, not about the system.
    """
    proc, events = paths[0].name.split(".")[0], []
    for path in paths:
        read_file(path, events)
        if events:
            proc = events[-1]["node"]
    return proc, events


def read_file(path: Path, events: list[dict]) -> None:
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    if lines and lines[-1]:
        print(f"{path}: skipping the truncated last line {len(lines)}", file=sys.stderr)
    lines = lines[:-1]  # "" after the final newline, or the truncated line
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        tokens = line.split()
        fields = dict(t.split("=", 1) for t in tokens if "=" in t)
        words = [t for t in tokens if "=" not in t]
        try:
            ev = event(words, fields)
            proc = fields["proc"]
            ts = float(fields["t"])
        except (KeyError, ValueError, IndexError) as exc:
            raise NativeLogError(f"{path}:{number}: cannot read {line!r}: {exc}") from None
        # seq: this process's own counter, 0, 1, 2, ... in the order it logged.
        events.append({**ev, "node": proc, "seq": len(events), "ts": ts})


# ---------------------------------------------------------------------------------------
# Step 4. Write: one file per process, or one merged file.

def adapt(run_dir: Path) -> tuple[dict, dict[str, list[dict]]]:
    hdr = header(run_dir / "cluster.conf", run_dir.name)
    files: dict[str, list[Path]] = {}
    for path in run_dir.glob("*.log"):  # <name>.log, then <name>.<incarnation>.log
        files.setdefault(path.name.split(".")[0], []).append(path)
    logs = {}
    for name in sorted(files):
        paths = sorted(files[name], key=incarnation)
        proc, events = read_log(paths)
        logs[proc] = events
    return hdr, logs


def incarnation(path: Path) -> int:
    parts = path.name.split(".")  # ["a1", "log"] or ["a1", "2", "log"]
    return int(parts[1]) if len(parts) == 3 else 1


def write_per_process(hdr: dict, logs: dict[str, list[dict]], out: Path) -> None:
    """One file per process; each header names its `node`, and all headers agree."""
    out.mkdir(parents=True, exist_ok=True)
    for proc, events in logs.items():
        with open(out / f"{proc}.jsonl", "w", encoding="utf-8") as fh:
            fh.write(json.dumps({**hdr, "node": proc}) + "\n")
            for ev in events:
                fh.write(json.dumps(ev) + "\n")


def write_merged(hdr: dict, logs: dict[str, list[dict]], fh) -> None:
    """One file: any interleaving is valid as long as each process's events keep their
    seq order. heapq.merge by ts gives a readable, roughly time-ordered file and keeps
    each process's own order even if its clock stepped backwards (it only merges)."""
    fh.write(json.dumps(hdr) + "\n")
    for ev in heapq.merge(*logs.values(), key=lambda e: e["ts"]):
        fh.write(json.dumps(ev) + "\n")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run_dir", type=Path, help="a folder written by run.py")
    where = ap.add_mutually_exclusive_group(required=True)
    where.add_argument("--out", type=Path, help="write one <process>.jsonl per process here")
    where.add_argument("--merged", help="write one merged trace to this file ('-': stdout)")
    args = ap.parse_args(argv)
    try:
        hdr, logs = adapt(args.run_dir)
    except (NativeLogError, OSError) as exc:
        print(f"adapter: {exc}", file=sys.stderr)
        return 2
    if args.out:
        write_per_process(hdr, logs, args.out)
    elif args.merged == "-":
        write_merged(hdr, logs, sys.stdout)
    else:
        with open(args.merged, "w", encoding="utf-8") as fh:
            write_merged(hdr, logs, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main())
