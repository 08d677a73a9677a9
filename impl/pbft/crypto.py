"""Ed25519 signatures for PBFT messages (the `cryptography` package).

Every frame carries its sender's signature over the payload's canonical JSON (the
same string the trace holds); the runtime verifies it before the message is traced
or handled, so a replica cannot claim another's message. A `Keyring` holds this
node's private key and everyone's public keys; `write_keys` makes a run's keys
(derived from its seed, so a run replays) and `load_keys` reads them back.
"""

from __future__ import annotations

import hashlib
import json

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


def _private(name: str, seed: int) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(f"smrcheck:{seed}:{name}".encode()).digest())


def _raw_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


class Keyring:
    def __init__(self, private: dict[str, Ed25519PrivateKey], public: dict[str, bytes]) -> None:
        self.private = private
        self.public = {n: Ed25519PublicKey.from_public_bytes(b) for n, b in public.items()}
        self.cache: dict[tuple[str, str, str], bool] = {}

    def only(self, name: str) -> Keyring:
        """The keyring one node may hold: its own private key, everyone's public keys."""
        k = Keyring({name: self.private[name]} if name in self.private else {}, {})
        k.public = self.public
        return k

    def sign(self, name: str, data: str) -> str:
        return self.private[name].sign(data.encode()).hex()

    def verify(self, name: str, data: str, sig: str | None) -> bool:
        if not isinstance(sig, str):
            return False
        key = (name, data, sig)
        hit = self.cache.get(key)
        if hit is not None:
            return hit
        pub = self.public.get(name)
        ok = False
        if pub is not None:
            try:
                pub.verify(bytes.fromhex(sig), data.encode())
                ok = True
            except (InvalidSignature, ValueError):
                ok = False
        if len(self.cache) > 50_000:
            self.cache.clear()
        self.cache[key] = ok
        return ok


def sim_keys(names: list[str], seed: int) -> Keyring:
    private = {n: _private(n, seed) for n in names}
    return Keyring(private, {n: _raw_public(k) for n, k in private.items()})


def write_keys(path: str, names: list[str], seed: int) -> None:
    private = {n: _private(n, seed) for n in names}
    from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

    data = {n: {"private": k.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()).hex(),
                "public": _raw_public(k).hex()} for n, k in private.items()}
    with open(path, "w") as fh:
        json.dump(data, fh)


def load_keys(path: str, name: str | None = None) -> Keyring:
    """Everyone's public keys, and the private key of `name` only (all when None)."""
    with open(path) as fh:
        data = json.load(fh)
    private = {n: Ed25519PrivateKey.from_private_bytes(bytes.fromhex(v["private"]))
               for n, v in data.items() if name is None or n == name}
    return Keyring(private, {n: bytes.fromhex(v["public"]) for n, v in data.items()})
