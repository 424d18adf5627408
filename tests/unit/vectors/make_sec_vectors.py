#!/usr/bin/env python3
"""Makes the handset envelope test vectors (docs/handset-api.md,
tests/unit/test_sec_envelope.c) with Python's `cryptography`, an
implementation independent of secure/envelope.c, so the unit test that
checks the C code byte for byte against these values cross-checks two
implementations of the contract.

Writes sec_vectors.json and sec_vectors.h beside this file. All inputs are
fixed (SHA-256 of a label), except the RSA key and its OAEP output, which
are random by nature: they are made once and kept (rsa2048_device.pem and
the "wrapped" value in sec_vectors.json) on later runs.

Run: python3 tests/unit/vectors/make_sec_vectors.py
"""
import base64
import hashlib
import json
import os

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

HERE = os.path.dirname(os.path.abspath(__file__))
P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def h(label, n=32):
    return hashlib.sha256(b"sealgate test vector " + label.encode()).digest()[:n]


def b64(b):
    return base64.b64encode(b).decode()


def p256_priv(label):
    d = int.from_bytes(h(label), "big")
    assert 0 < d < P256_N
    return ec.derive_private_key(d, ec.SECP256R1())


def raw_pub(k):
    if isinstance(k, x25519.X25519PublicKey):
        return k.public_bytes(serialization.Encoding.Raw,
                              serialization.PublicFormat.Raw)
    return k.public_bytes(serialization.Encoding.X962,
                          serialization.PublicFormat.UncompressedPoint)


def spki(k):
    return k.public_bytes(serialization.Encoding.DER,
                          serialization.PublicFormat.SubjectPublicKeyInfo)


MSG_ID = "vAxq3n9R0mQk7cTz"
MSISDN = "491701234567"
PLAINTEXT = "Hello from Sealgate: test vector 1 \u2713".encode()
DEK = h("dek")
BODY_NONCE = h("body nonce", 12)
RID = "rVec0000000000000000000"
CHALLENGE = h("challenge")


def body():
    aad = ("sealgate/v1/body|%s|%s" % (MSG_ID, MSISDN)).encode()
    ct = AESGCM(DEK).encrypt(BODY_NONCE, PLAINTEXT, aad)
    return aad, ct


def ecdh_vector(scheme, dev, eph, nonce, secret, ctx):
    dpk = raw_pub(dev.public_key())
    epk = raw_pub(eph.public_key())
    if isinstance(dev, x25519.X25519PrivateKey):
        z = eph.exchange(dev.public_key())
    else:
        z = eph.exchange(ec.ECDH(), dev.public_key())
    info = ("sealgate/v1/wrap|%s|" % scheme).encode() + epk + dpk
    k = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
             info=info).derive(z)
    aad = ("sealgate/v1/key|%s" % ctx).encode()
    wrapped = AESGCM(k).encrypt(nonce, secret, aad)
    # The opening side agrees (device key with the ephemeral public key).
    if isinstance(dev, x25519.X25519PrivateKey):
        assert dev.exchange(eph.public_key()) == z
    else:
        assert dev.exchange(ec.ECDH(), eph.public_key()) == z
    return {
        "scheme": scheme,
        "context": ctx,
        "secret_hex": secret.hex(),
        "device_private_hex": priv_hex(dev),
        "device_spki_b64": b64(spki(dev.public_key())),
        "device_pkcs8_b64": b64(pkcs8(dev)),
        "dpk_hex": dpk.hex(),
        "eph_private_hex": priv_hex(eph),
        "epk_hex": epk.hex(),
        "z_hex": z.hex(),
        "info_hex": info.hex(),
        "k_hex": k.hex(),
        "aad": aad.decode(),
        "nonce_hex": nonce.hex(),
        "wrapped_hex": wrapped.hex(),
        "wrap_json": {"epk": b64(epk), "nonce": b64(nonce),
                      "wrapped": b64(wrapped)},
    }


def pkcs8(k):
    return k.private_bytes(serialization.Encoding.DER,
                           serialization.PrivateFormat.PKCS8,
                           serialization.NoEncryption())


def envelope(v, name):
    m = v["message"]
    return {"id": m["id"], "from": "4930",
            "received_at": "2026-11-28T08:00:00Z",
            "expires_at": "2026-12-05T08:00:00Z",
            "content_type": "text/plain; charset=utf-8",
            "scheme": v[name]["scheme"], "key": v[name]["wrap_json"],
            "body": m["body_json"]}


def priv_hex(k):
    if isinstance(k, x25519.X25519PrivateKey):
        return k.private_bytes(serialization.Encoding.Raw,
                               serialization.PrivateFormat.Raw,
                               serialization.NoEncryption()).hex()
    return k.private_numbers().private_value.to_bytes(32, "big").hex()


def main():
    old = {}
    jpath = os.path.join(HERE, "sec_vectors.json")
    if os.path.exists(jpath):
        with open(jpath) as f:
            old = json.load(f)
    pem_path = os.path.join(HERE, "rsa2048_device.pem")
    if os.path.exists(pem_path):
        with open(pem_path, "rb") as f:
            rk = serialization.load_pem_private_key(f.read(), None)
    else:
        rk = rsa.generate_private_key(65537, 2048)
        with open(pem_path, "wb") as f:
            f.write(rk.private_bytes(serialization.Encoding.PEM,
                                     serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()))
    rsa_pem = rk.private_bytes(serialization.Encoding.PEM,
                               serialization.PrivateFormat.PKCS8,
                               serialization.NoEncryption()).decode()
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()),
                        algorithm=hashes.SHA256(), label=None)
    rold = old.get("rsa", {})
    if rold.get("device_private_pem") == rsa_pem and rold.get("wrapped_hex"):
        rwrapped = bytes.fromhex(rold["wrapped_hex"])
    else:
        rwrapped = rk.public_key().encrypt(DEK, oaep)
    assert rk.decrypt(rwrapped, oaep) == DEK

    aad, ct = body()
    v = {
        "message": {
            "id": MSG_ID, "msisdn": MSISDN,
            "plaintext_utf8": PLAINTEXT.decode(),
            "plaintext_hex": PLAINTEXT.hex(),
            "dek_hex": DEK.hex(), "aad": aad.decode(),
            "nonce_hex": BODY_NONCE.hex(),
            "ciphertext_hex": ct.hex(),
            "body_json": {"nonce": b64(BODY_NONCE), "ciphertext": b64(ct)},
        },
        "p256": ecdh_vector("ecdh-p256-hkdf-sha256-aes256gcm",
                            p256_priv("p256 device"), p256_priv("p256 ephemeral"),
                            h("p256 wrap nonce", 12), DEK, MSG_ID),
        "x25519": ecdh_vector("x25519-hkdf-sha256-aes256gcm",
                              x25519.X25519PrivateKey.from_private_bytes(h("x25519 device")),
                              x25519.X25519PrivateKey.from_private_bytes(h("x25519 ephemeral")),
                              h("x25519 wrap nonce", 12), DEK, MSG_ID),
        "x25519_challenge": ecdh_vector("x25519-hkdf-sha256-aes256gcm",
                              x25519.X25519PrivateKey.from_private_bytes(h("x25519 device")),
                              x25519.X25519PrivateKey.from_private_bytes(h("x25519 challenge ephemeral")),
                              h("x25519 challenge nonce", 12), CHALLENGE,
                              "challenge:" + RID),
        "rsa": {
            "scheme": "rsa-oaep-sha256-aes256gcm",
            "context": MSG_ID,
            "secret_hex": DEK.hex(),
            "device_private_pem": rsa_pem,
            "device_spki_b64": b64(spki(rk.public_key())),
            "device_pkcs8_b64": b64(pkcs8(rk)),
            "wrapped_hex": rwrapped.hex(),
            "wrap_json": {"wrapped": b64(rwrapped)},
        },
    }
    v["envelopes"] = {n: envelope(v, n) for n in ("p256", "x25519", "rsa")}
    with open(jpath, "w") as f:
        json.dump(v, f, indent=2, ensure_ascii=False)
        f.write("\n")
    write_header(v)
    write_doc(v)


def write_doc(v):
    """The vectors section of docs/handset-api.md, between its markers."""
    path = os.path.join(HERE, "..", "..", "..", "docs", "handset-api.md")
    if not os.path.exists(path):
        return
    m = v["message"]
    L = []
    add = L.append
    add("### 6.1 Body (the same message and DEK for every scheme)")
    add("")
    add("| | value |")
    add("|---|---|")
    for k, label in (("id", "id"), ("msisdn", "msisdn"),
                     ("plaintext_utf8", "plaintext (UTF-8)"),
                     ("plaintext_hex", "plaintext, hex"),
                     ("dek_hex", "DEK, hex"), ("aad", "body AAD (ASCII)"),
                     ("nonce_hex", "body nonce, hex"),
                     ("ciphertext_hex", "ciphertext ‖ tag, hex")):
        add("| %s | `%s` |" % (label, m[k]))
    add("")
    for name, title in (("p256", "6.2 P-256 (`ecdh-p256-hkdf-sha256-aes256gcm`)"),
                        ("x25519", "6.3 X25519 (`x25519-hkdf-sha256-aes256gcm`)"),
                        ("x25519_challenge",
                         "6.4 X25519 registration challenge (context `challenge:` + rid)")):
        e = v[name]
        add("### " + title)
        add("")
        add("| | value |")
        add("|---|---|")
        for k, label in (("context", "context X"),
                         ("secret_hex", "secret S, hex"),
                         ("device_private_hex",
                          "device private key, hex (P-256 scalar / X25519 raw)"),
                         ("device_pkcs8_b64", "device private key, PKCS#8 DER, base64"),
                         ("device_spki_b64", "device public key (`public_key`), SPKI base64"),
                         ("dpk_hex", "dpk (raw device public key), hex"),
                         ("eph_private_hex", "ephemeral private key E, hex"),
                         ("epk_hex", "epk (raw E public key), hex"),
                         ("z_hex", "Z = ECDH, hex"), ("info_hex", "HKDF info, hex"),
                         ("k_hex", "K = HKDF output, hex"), ("aad", "wrap AAD (ASCII)"),
                         ("nonce_hex", "wrap nonce, hex"),
                         ("wrapped_hex", "wrapped = S ‖ tag encrypted, hex")):
            add("| %s | `%s` |" % (label, e[k]))
        add("")
        add("WRAP as sent:")
        add("")
        add("```json")
        add(json.dumps(e["wrap_json"], indent=2))
        add("```")
        add("")
    r = v["rsa"]
    add("### 6.5 RSA-2048 (`rsa-oaep-sha256-aes256gcm`)")
    add("")
    add("OAEP is randomised: this `wrapped` was made once; it must open to the DEK of 6.1 "
        "(context: the message id).")
    add("")
    add("| | value |")
    add("|---|---|")
    add("| device public key (`public_key`), SPKI base64 | `%s` |" % r["device_spki_b64"])
    add("| wrapped, hex | `%s` |" % r["wrapped_hex"])
    add("")
    add("Device private key (PKCS#8, PEM; WebCrypto: `importKey(\"pkcs8\", ...)` of the "
        "base64 between the lines):")
    add("")
    add("```")
    add(r["device_private_pem"].rstrip("\n"))
    add("```")
    add("")
    add("### 6.6 Whole envelopes")
    add("")
    add("For the msisdn `%s`; each opens to the plaintext of 6.1." % m["msisdn"])
    for name in ("p256", "x25519", "rsa"):
        add("")
        add("```json")
        add(json.dumps(v["envelopes"][name], indent=2))
        add("```")
    with open(path) as f:
        doc = f.read()
    b = doc.index("<!-- vectors:begin")
    b = doc.index("\n", b) + 1
    e = doc.index("<!-- vectors:end -->")
    doc = doc[:b] + "\n".join(L) + "\n" + doc[e:]
    with open(path, "w") as f:
        f.write(doc)


def cstr(s):
    return json.dumps(s, ensure_ascii=True)


def write_header(v):
    out = ["/* Generated by make_sec_vectors.py from sec_vectors.json: do not",
           " * edit. The handset envelope test vectors of docs/handset-api.md. */",
           "#ifndef SEC_VECTORS_H", "#define SEC_VECTORS_H", ""]
    m = v["message"]
    for k in ("id", "msisdn", "plaintext_hex", "dek_hex", "aad", "nonce_hex",
              "ciphertext_hex"):
        out.append("#define SV_MSG_%s %s" % (k.upper(), cstr(m[k])))
    for name in ("p256", "x25519", "x25519_challenge"):
        e = v[name]
        for k in ("scheme", "context", "secret_hex", "device_private_hex",
                  "device_spki_b64", "dpk_hex", "eph_private_hex", "epk_hex",
                  "z_hex", "info_hex", "k_hex", "aad", "nonce_hex",
                  "wrapped_hex"):
            out.append("#define SV_%s_%s %s" % (name.upper(), k.upper(),
                                                cstr(e[k])))
    r = v["rsa"]
    for k in ("scheme", "context", "secret_hex", "device_private_pem",
              "device_spki_b64", "wrapped_hex"):
        out.append("#define SV_RSA_%s %s" % (k.upper(), cstr(r[k])))
    out += ["", "#endif", ""]
    with open(os.path.join(HERE, "sec_vectors.h"), "w") as f:
        f.write("\n".join(out))


if __name__ == "__main__":
    main()
