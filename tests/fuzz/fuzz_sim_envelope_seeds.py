#!/usr/bin/env python3
"""Seeds for fuzz_sim_envelope: envelopes (handset-api-v1 ENVELOPE) sealed
with Python's `cryptography` to the fixed X25519 device key of
fuzz_sim_envelope.c (SHA-256 of "sealgate sim fuzz device key"), message
id "fuzz1", msisdn 491701234567: a text, a binary one, an empty one, and a
tampered tag. Run: python3 tests/fuzz/fuzz_sim_envelope_seeds.py (writes
corpus/fuzz_sim_envelope/)
"""
import base64
import hashlib
import json
import os

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

SCHEME = "x25519-hkdf-sha256-aes256gcm"
MID, MSISDN = "fuzz1", "491701234567"
dev = x25519.X25519PrivateKey.from_private_bytes(
    hashlib.sha256(b"sealgate sim fuzz device key").digest())


def raw(k):
    return k.public_bytes(serialization.Encoding.Raw,
                          serialization.PublicFormat.Raw)


def b64(b):
    return base64.b64encode(b).decode()


def envelope(pt, ctype, tamper=False):
    dek, nonce = os.urandom(32), os.urandom(12)
    ct = bytearray(AESGCM(dek).encrypt(
        nonce, pt, ("sealgate/v1/body|%s|%s" % (MID, MSISDN)).encode()))
    if tamper:
        ct[-1] ^= 1
    eph = x25519.X25519PrivateKey.generate()
    epk = raw(eph.public_key())
    info = ("sealgate/v1/wrap|%s|" % SCHEME).encode() + epk + raw(dev.public_key())
    k = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
             info=info).derive(eph.exchange(dev.public_key()))
    wn = os.urandom(12)
    w = AESGCM(k).encrypt(wn, dek, ("sealgate/v1/key|%s" % MID).encode())
    return {"id": MID, "from": "Bank", "received_at": "2026-11-28T08:00:00Z",
            "expires_at": "2026-12-05T08:00:00Z", "content_type": ctype,
            "scheme": SCHEME,
            "key": {"epk": b64(epk), "nonce": b64(wn), "wrapped": b64(w)},
            "body": {"nonce": b64(nonce), "ciphertext": b64(bytes(ct))}}


out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus",
                   "fuzz_sim_envelope")
os.makedirs(out, exist_ok=True)
seeds = {
    "text": envelope("Grüße ✓ secure".encode(), "text/plain; charset=utf-8"),
    "binary": envelope(b"\x00\x01\xff", "application/octet-stream"),
    "empty": envelope(b"", "text/plain; charset=utf-8"),
    "tampered": envelope(b"tampered", "text/plain; charset=utf-8", True),
}
for name, env in seeds.items():
    with open(os.path.join(out, name + ".json"), "w") as f:
        json.dump(env, f)
