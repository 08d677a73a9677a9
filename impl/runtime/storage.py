"""Durable state of a replica: an append-only record log.

`append` writes a record through to the OS at once (a killed process loses nothing it
appended); `sync` fsyncs, and the TCP runtime calls it once per batch of handled
messages before any reply leaves the node (group commit), so a promise or an
accepted value is on disk before anyone hears of it. `MemoryStorage` is the
simulator's: it survives a simulated crash because the simulator keeps it outside
the node object.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator


class MemoryStorage:
    def __init__(self) -> None:
        self.records: list = []

    dirty = False

    def append(self, record, durable: bool = True) -> None:
        self.records.append(json.loads(json.dumps(record)))  # as a file would return it

    def replay(self) -> Iterator:
        return iter(list(self.records))

    def sync(self) -> None:
        pass

    def close(self) -> None:
        pass


class FileStorage:
    def __init__(self, path: str) -> None:
        self.path = path
        self._good = self._scan()
        self.fh = open(path, "a", encoding="utf-8")
        self.dirty = False

    def _scan(self) -> list:
        records = []
        if not os.path.exists(self.path):
            return records
        with open(self.path, "rb") as fh:
            data = fh.read()
        end = data.rfind(b"\n") + 1
        if end != len(data):  # a torn last record: never acknowledged, drop it
            with open(self.path, "rb+") as fh:
                fh.truncate(end)
        for line in data[:end].splitlines():
            if line:
                records.append(json.loads(line))
        return records

    def append(self, record, durable: bool = True) -> None:
        """Write `record` through to the OS; `durable` ones are fsynced by `sync`."""
        self.fh.write(json.dumps(record, separators=(",", ":")) + "\n")
        self.fh.flush()
        self.dirty = self.dirty or durable

    def replay(self) -> Iterator:
        records, self._good = self._good, []
        return iter(records)

    def sync(self) -> None:
        if self.dirty:
            self.dirty = False
            os.fsync(self.fh.fileno())

    def close(self) -> None:
        if not self.fh.closed:
            self.sync()
            self.fh.close()
