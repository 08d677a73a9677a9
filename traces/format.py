"""The smrtrace format as pydantic models: the definition the JSON Schema is made from.

`traces/FORMAT.md` is the prose specification; this module is the same thing as
types. Pydantic runs at the edges only: on the header of every file, to generate
`traces/schema/*.json`, and to name the field of a line the fast reader rejected
(`explain_line`). The reader checks events by hand in its hot path with the tables in
`reader.py`, which must accept exactly what these models accept (a test holds the two
together on every sample).

Names: nodes and clients are strings (`r0`, `c0`); a MultiPaxos ballot is the pair
`[round, node]` (the proposer), ordered by round, then by the node's position in the
header's `nodes`; a command is `{"client", "req", "op"}`, identified by (client, req).

Version 2 adds to the header who plays which role (`roles`) and the acceptors' quorum
system (`quorums`); `models/common/membership.py` interprets both (the reader calls it
on every run, so a bad role or quorum text is an input error). Version 1 means what it
always meant: every node a replica, majority (MultiPaxos) or 2f+1 (PBFT) quorums.
"""

from __future__ import annotations

import json
import pathlib
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, ValidationInfo, field_validator

FORMAT = "smrtrace"
VERSION = 2  # the newest; every version in VERSIONS is read
VERSIONS = (1, 2)
ROLES = ("proposer", "acceptor", "learner", "replica")  # as models/common/membership.py
PROTOCOLS = ("multipaxos", "pbft")

NonNeg = Annotated[int, Field(ge=0, strict=True)]
Name = Annotated[str, Field(min_length=1, strict=True)]
Text = Annotated[str, Field(strict=True)]
Flag = Annotated[bool, Field(strict=True)]


class _Strict(BaseModel):
    # Lax mode only so that JSON arrays validate as tuples; every scalar field is
    # strict (no "1" for 1), through the annotated types above.
    model_config = ConfigDict(extra="forbid")


class _Open(BaseModel):
    # Events may carry extra fields (an implementation's own debugging data); they are
    # ignored, never interpreted.
    model_config = ConfigDict(extra="allow")


class _Payload(BaseModel):
    # Messages, like events, may carry an implementation's own extra fields.
    model_config = ConfigDict(extra="allow")


Role = Literal["proposer", "acceptor", "learner", "replica"]
# Explicit quorums: {"quorums": [[names]]} for both phases, or {"phase1": ..., "phase2": ...};
# the keys and names are checked by models/common/membership.py, which reads this dict.
QuorumSets = dict[str, list[Annotated[list[Name], Field(min_length=1)]]]


class Header(_Strict):
    """The first line of every file."""

    kind: Literal["header"]
    format: Literal["smrtrace"]
    version: Literal[1, 2]
    protocol: Literal["multipaxos", "pbft"]
    nodes: list[Name] = Field(min_length=1, description="replicas, in ballot-tiebreak order")
    clients: list[Name] = Field(default_factory=list)
    f: NonNeg = Field(description="faults tolerated: crashes (multipaxos), Byzantine (pbft)")
    byzantine: list[Name] = Field(default_factory=list,
                                  description="replicas known to be faulty; their events are not held to the protocol")
    logged: list[Name] | None = Field(default=None,
                                      description="nodes whose events the trace holds (default: every node and client)")
    node: Name | None = Field(default=None, description="set in a per-node file: the only node it logs")
    run: Text | None = Field(default=None, description="run id; files of one run must agree")
    roles: dict[Name, Annotated[list[Role], Field(min_length=1)]] | None = Field(
        default=None, description="version 2: node -> its roles; a node not listed is a replica "
                                  "(proposer, acceptor and learner)")
    quorums: Text | QuorumSets | None = Field(
        default=None, description="version 2: the acceptors' quorum system, as `smrcheck quorums` "
                                  "names it (majority, threshold:q=2, flexible:q1=3,q2=2, "
                                  "grid:rows=2,cols=3, weighted:weights=2/1/1,threshold=3, bft:f=1) "
                                  'or {"quorums": [[acceptor names]]} / {"phase1": ..., "phase2": ...}')

    @field_validator("quorums", mode="before")
    @classmethod
    def _quorums_shape(cls, value: Any) -> Any:
        # One message for a value of the wrong type, not one per branch of the union.
        if value is not None and not isinstance(value, (str, dict)):
            raise ValueError("a quorum system's text (majority, threshold:q=2, flexible:q1=3,q2=2, "
                             "grid:rows=2,cols=3, weighted:weights=2/1/1,threshold=3, bft:f=1) or "
                             '{"quorums": [[acceptor names], ...]}' f", got {_short(value)}")
        if isinstance(value, dict):
            for key, sets in value.items():
                if not (isinstance(sets, list) and all(
                        isinstance(q, list) and q and all(isinstance(x, str) and x for x in q)
                        for q in sets)):
                    raise ValueError(f"{key} must be a list of quorums, each a non-empty list of "
                                     f"acceptor names, got {_short(sets)}")
        return value

    @field_validator("roles", "quorums")
    @classmethod
    def _needs_version_2(cls, value: Any, info: ValidationInfo) -> Any:
        # A version-1 reader would ignore the field and count quorums over every node:
        # refuse it rather than let the verdict depend on which reader reads the file.
        if value is not None and info.data.get("version") == 1:
            raise ValueError(f"needs version 2 (this header says version 1); "
                             f"set \"version\": 2 to declare {info.field_name}")
        return value


class Command(_Strict):
    client: Name
    req: NonNeg
    op: Text


Ballot = Annotated[tuple[NonNeg, Name], Field(description="[round, replica]")]

# -- MultiPaxos payloads ---------------------------------------------------------------


class MpRequest(_Payload):
    type: Literal["request"]
    cmd: Command


def _one_range(value: Any, info: ValidationInfo) -> Any:
    if value is not None and info.data.get("slot") is not None:
        raise ValueError("give slot (phase 1 of one instance) or from_slot (every slot from k), "
                         "not both")
    return value


class MpPrepare(_Payload):
    """Phase 1a. Neither slot nor from_slot: every slot from 0 (the version-1 meaning)."""

    type: Literal["prepare"]
    ballot: Ballot
    slot: NonNeg | None = Field(default=None, description="phase 1 for this one instance")
    from_slot: NonNeg | None = Field(default=None, description="phase 1 for every slot >= k")

    _check_range = field_validator("from_slot")(_one_range)


class MpPromise(_Payload):
    """Phase 1b, over the range of the prepare it answers."""

    type: Literal["promise"]
    ballot: Ballot
    slot: NonNeg | None = None
    from_slot: NonNeg | None = None
    accepted: list[tuple[NonNeg, Ballot, Command | None]] = Field(
        default_factory=list, description="[slot, vballot, cmd]: highest-ballot value accepted per slot")

    _check_range = field_validator("from_slot")(_one_range)


class MpNack(_Payload):
    """A rejection: the acceptor holds a promise above `ballot` (a stutter for the model)."""

    type: Literal["nack"]
    ballot: Ballot = Field(description="the rejected ballot")
    promised: Ballot = Field(description="the higher ballot the acceptor has promised")
    slot: NonNeg | None = None


class MpAccept(_Payload):
    type: Literal["accept"]
    ballot: Ballot
    slot: NonNeg
    cmd: Command | None  # null: a no-op


class MpAccepted(_Payload):
    type: Literal["accepted"]
    ballot: Ballot
    slot: NonNeg
    cmd: Command | None


class MpDecide(_Payload):
    type: Literal["decide"]
    slot: NonNeg
    cmd: Command | None


class MpReply(_Payload):
    type: Literal["reply"]
    client: Name
    req: NonNeg
    result: Text


class Heartbeat(_Payload):
    type: Literal["heartbeat"]


MpPayload = Annotated[
    Union[MpRequest, MpPrepare, MpPromise, MpNack, MpAccept, MpAccepted, MpDecide, MpReply, Heartbeat],
    Field(discriminator="type"),
]

# -- PBFT payloads ---------------------------------------------------------------------

Digest = Annotated[str, Field(min_length=1, strict=True)]


class PbftRequest(_Payload):
    type: Literal["request"]
    cmd: Command


class PrePrepare(_Payload):
    type: Literal["pre-prepare"]
    view: NonNeg
    n: NonNeg
    digest: Digest
    cmd: Command | None  # null: the null request of a NEW-VIEW gap


class PbftPrepare(_Payload):
    type: Literal["prepare"]
    view: NonNeg
    n: NonNeg
    digest: Digest


class PbftCommit(_Payload):
    type: Literal["commit"]
    view: NonNeg
    n: NonNeg
    digest: Digest


class ViewChange(_Payload):
    type: Literal["view-change"]
    view: NonNeg = Field(description="the new view")
    prepared: list[tuple[NonNeg, NonNeg, Digest]] = Field(
        default_factory=list, description="[n, view, digest] prepared certificates")


class NewView(_Payload):
    type: Literal["new-view"]
    view: NonNeg
    pre_prepares: list[tuple[NonNeg, Digest]] = Field(default_factory=list)


class PbftReply(_Payload):
    type: Literal["reply"]
    view: NonNeg
    client: Name
    req: NonNeg
    result: Text


PbftPayload = Annotated[
    Union[PbftRequest, PrePrepare, PbftPrepare, PbftCommit, ViewChange, NewView, PbftReply, Heartbeat],
    Field(discriminator="type"),
]

# -- events ----------------------------------------------------------------------------


class _Event(_Open):
    node: Name
    seq: NonNeg = Field(description="per-node: 0, 1, 2, ... in the node's own order")
    # Any JSON value, as the reader has always taken it (it never reads ts): seconds as a
    # number, or an ISO 8601 string from a logging library, are both common.
    ts: Any = Field(default=None, description="wall clock, a number or a string such as ISO 8601; "
                                              "never used for order")


class Recv(_Event):
    kind: Literal["recv"]
    msg_id: Name
    from_: Name = Field(alias="from")
    msg: dict[str, Any] | None = Field(default=None, description="optional copy of the payload")


class ClientRequest(_Event):
    kind: Literal["request"]
    req: NonNeg
    op: Text


class ClientResult(_Event):
    kind: Literal["result"]
    req: NonNeg
    result: Text


class Crash(_Event):
    kind: Literal["crash"]


class Restart(_Event):
    kind: Literal["restart"]


class Note(_Event):
    kind: Literal["note"]
    text: Text = ""


def _send(payload: Any, name: str) -> type[BaseModel]:
    class Send(_Event):
        kind: Literal["send"]
        msg_id: Name
        to: list[Name] = Field(min_length=1)
        msg: payload  # type: ignore[valid-type]

    Send.__name__ = Send.__qualname__ = name
    return Send


MpSend = _send(MpPayload, "MpSend")
PbftSend = _send(PbftPayload, "PbftSend")


class MpDecideEvent(_Event):
    kind: Literal["decide"]
    slot: NonNeg
    cmd: Command | None
    ballot: Ballot | None = None


class MpExecute(_Event):
    kind: Literal["execute"]
    slot: NonNeg
    cmd: Command | None
    applied: Flag = Field(default=True, description="false: skipped as a duplicate")
    result: Text | None = None


class PbftDecideEvent(_Event):
    kind: Literal["decide"]
    view: NonNeg
    n: NonNeg
    digest: Digest


class PbftExecute(_Event):
    kind: Literal["execute"]
    n: NonNeg
    digest: Digest
    cmd: Command | None
    applied: Flag = True
    result: Text | None = None


_COMMON = (Recv, ClientRequest, ClientResult, Crash, Restart, Note)
MpEvent = Annotated[Union[(MpSend, MpDecideEvent, MpExecute, *_COMMON)], Field(discriminator="kind")]
PbftEvent = Annotated[Union[(PbftSend, PbftDecideEvent, PbftExecute, *_COMMON)],
                      Field(discriminator="kind")]

EVENT_ADAPTERS = {"multipaxos": TypeAdapter(MpEvent), "pbft": TypeAdapter(PbftEvent)}
PAYLOAD_ADAPTERS = {"multipaxos": TypeAdapter(MpPayload), "pbft": TypeAdapter(PbftPayload)}
HEADER_ADAPTER = TypeAdapter(Header)


def first_error(err: ValidationError) -> str:
    """The first pydantic error as `field a.b: problem`, in one line."""
    e = err.errors(include_url=False)[0]
    loc = ".".join(str(p) for p in e["loc"] if not (isinstance(p, str) and p[:1].isupper())) or "kind"
    # Discriminated unions put the tag value in the path (`send.msg.accept.slot`):
    # keep it, it says which variant was meant.
    msg = e["msg"]
    if e["type"] == "value_error":  # our own validators: the message is the whole story
        return f"field {loc}: {msg.removeprefix('Value error, ')}"
    if e["type"] == "union_tag_invalid":
        ctx = e.get("ctx", {})
        return (f"field {loc}: unknown {ctx.get('discriminator', 'tag').strip(chr(39))} "
                f"{ctx.get('tag')!r}; allowed: {ctx.get('expected_tags')}")
    if e["type"] == "missing":
        return f"field {loc} is missing"
    if e["type"] == "extra_forbidden":
        return f"field {loc} is not allowed here"
    return f"field {loc}: {msg}" + ("" if e["type"].startswith("union_tag") else f" (got {_short(e.get('input'))})")


def _short(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def explain_line(protocol: str, obj: Any) -> str | None:
    """Why pydantic rejects an event line, or None when it accepts it."""
    try:
        EVENT_ADAPTERS[protocol].validate_python(obj)
    except ValidationError as err:
        return first_error(err)
    return None


def json_schemas() -> dict[str, dict]:
    """The schema files shipped in traces/schema/, by file name."""
    header = HEADER_ADAPTER.json_schema()
    out = {"header.schema.json": header}
    for protocol, adapter in EVENT_ADAPTERS.items():
        schema = adapter.json_schema(by_alias=True)
        schema["title"] = f"smrtrace {protocol} event"
        schema["description"] = (f"One line after the header of a {protocol} trace "
                                 f"(smrtrace versions {' and '.join(map(str, VERSIONS))}); "
                                 "see traces/FORMAT.md.")
        out[f"{protocol}-event.schema.json"] = schema
    header["title"] = "smrtrace header"
    header["description"] = "The first line of every smrtrace file; see traces/FORMAT.md."
    for schema in out.values():
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return out


SCHEMA_DIR = pathlib.Path(__file__).with_name("schema")


def write_schemas(folder: pathlib.Path = SCHEMA_DIR) -> list[pathlib.Path]:
    folder.mkdir(exist_ok=True)
    paths = []
    for name, schema in json_schemas().items():
        path = folder / name
        path.write_text(json.dumps(schema, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


if __name__ == "__main__":  # python -m smrcheck.traces.format: regenerate the schema
    for p in write_schemas():
        print(p)
