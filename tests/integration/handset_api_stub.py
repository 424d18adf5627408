#!/usr/bin/env python3
"""A stand-in for sealgate's handset HTTPS API, written from the contract
(../shared/handset-api-v1.md, docs/handset-api.md) with Python's
`cryptography`, for test_sim_app.sh: it lets the simulated handset app be
tested without sealgate, including what a correct gateway never sends
(tampered envelopes), and is a second, independent implementation of the
envelope the app must open.

  handset_api_stub.py PORT CERT KEY STATE_DIR

Besides /v1/... it has test hooks (plain JSON, same port):
  POST /test/mo        {"msisdn", "text"}  the MO the test saw at its ESME
  POST /test/message   {"msisdn", "text", "tamper": "" | "tag" | "aad" |
                        "id" | "key" | "scheme"} -> {"id"}; sealed to every
                        device of msisdn
  POST /test/busy      {"n"}  the next n /v1 requests get 503 unavailable
  GET  /test/state     {"acks": [...], "replies": [...], "tokens": [...],
                        "devices": n, "codes_posted": n}
In mode sms the code is written to STATE_DIR/code-MSISDN (the test texts
it to the handset through the simulator, as the gateway would).
"""
import base64
import json
import os
import secrets
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PORT, CERT, KEY, STATE = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
P256 = "ecdh-p256-hkdf-sha256-aes256gcm"
X25519 = "x25519-hkdf-sha256-aes256gcm"
RSA = "rsa-oaep-sha256-aes256gcm"
LOCK = threading.Lock()
REGS = {}       # rid -> dict
DEVICES = {}    # token -> dict(msisdn, scheme, pub, id, revoked)
MSGS = {}       # id -> dict(msisdn, envelopes: {token: env})
ACKS, REPLIES = [], []
COUNT = {"codes_posted": 0, "busy": 0}


def b64(b):
    return base64.b64encode(b).decode()


def rid():
    return base64.urlsafe_b64encode(secrets.token_bytes(16)).decode().rstrip("=")


def raw_pub(k):
    if isinstance(k, x25519.X25519PublicKey):
        return k.public_bytes(serialization.Encoding.Raw,
                              serialization.PublicFormat.Raw)
    return k.public_bytes(serialization.Encoding.X962,
                          serialization.PublicFormat.UncompressedPoint)


def wrap(scheme, pub, secret, ctx):
    if scheme == RSA:
        return {"wrapped": b64(pub.encrypt(secret, padding.OAEP(
            mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(),
            label=None)))}
    if scheme == X25519:
        eph = x25519.X25519PrivateKey.generate()
        z = eph.exchange(pub)
    else:
        eph = ec.generate_private_key(ec.SECP256R1())
        z = eph.exchange(ec.ECDH(), pub)
    epk = raw_pub(eph.public_key())
    info = ("sealgate/v1/wrap|%s|" % scheme).encode() + epk + raw_pub(pub)
    k = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
             info=info).derive(z)
    nonce = os.urandom(12)
    w = AESGCM(k).encrypt(nonce, secret, ("sealgate/v1/key|%s" % ctx).encode())
    return {"epk": b64(epk), "nonce": b64(nonce), "wrapped": b64(w)}


def import_key(scheme, der):
    try:
        pub = serialization.load_der_public_key(der)
    except Exception:
        return None
    if scheme == X25519 and isinstance(pub, x25519.X25519PublicKey):
        return pub
    if scheme == P256 and isinstance(pub, ec.EllipticCurvePublicKey) and \
            pub.curve.name == "secp256r1":
        return pub
    if scheme == RSA and isinstance(pub, rsa.RSAPublicKey) and \
            pub.key_size >= 2048:
        return pub
    return None


def seal(dev, msisdn, mid, text, tamper):
    dek = os.urandom(32)
    nonce = os.urandom(12)
    aad_id = mid + "x" if tamper == "aad" else mid
    ct = bytearray(AESGCM(dek).encrypt(
        nonce, text.encode(), ("sealgate/v1/body|%s|%s" % (aad_id, msisdn)).encode()))
    if tamper == "tag":
        ct[-1] ^= 1
    key = wrap(dev["scheme"], dev["pub"], dek, mid if tamper != "key" else mid + "z")
    return {"id": mid + ("q" if tamper == "id" else ""), "from": "Bank",
            "received_at": "2026-11-28T08:00:00Z",
            "expires_at": "2026-12-05T08:00:00Z",
            "content_type": "text/plain; charset=utf-8",
            "scheme": (P256 if dev["scheme"] != P256 else X25519) if tamper == "scheme" else dev["scheme"],
            "key": key, "body": {"nonce": b64(nonce), "ciphertext": b64(bytes(ct))}}


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        sys.stderr.write("stub %s\n" % (fmt % args))

    def reply(self, code, obj=None):
        body = b"" if obj is None else json.dumps(obj).encode()
        self.send_response(code)
        if obj is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def err(self, code, e, msg, **more):
        d = {"error": e, "message": msg}
        d.update(more)
        self.reply(code, d)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n == 0:
            return {}
        try:
            return json.loads(self.rfile.read(n))
        except Exception:
            return None

    def device(self):
        a = self.headers.get("Authorization", "")
        if not a.startswith("Bearer "):
            return None
        d = DEVICES.get(a[7:])
        return d if d and not d["revoked"] else None

    def do_GET(self):
        with LOCK:
            self.route("GET")

    def do_POST(self):
        with LOCK:
            self.route("POST")

    def do_DELETE(self):
        with LOCK:
            self.route("DELETE")

    def route(self, m):
        p = self.path.split("/")[1:]
        b = self.body() if m == "POST" else {}
        if b is None:
            return self.err(400, "invalid_request", "malformed JSON")
        if p[0] == "test":
            return self.test(m, p, b)
        if p[0] != "v1":
            return self.err(404, "not_found", "no such resource")
        if COUNT["busy"] > 0:
            COUNT["busy"] -= 1
            return self.err(503, "unavailable", "storage busy")
        if p[1:] == ["registrations"] and m == "POST":
            r = {"msisdn": b.get("msisdn"), "mode": b.get("mode"),
                 "status": "waiting_for_code" if b.get("mode") == "sms" else "waiting_for_sms",
                 "code": None, "mo_code": None, "posted": None, "tries": 5}
            if r["mode"] == "sms":
                r["code"] = "%06d" % secrets.randbelow(10**6)
                with open(os.path.join(STATE, "code-" + r["msisdn"]), "w") as f:
                    f.write(r["code"])
            i = rid()
            REGS[i] = r
            out = {"registration_id": i, "mode": r["mode"], "expires_in": 300}
            if r["mode"] == "mo":
                out.update(short_code="7277", keyword="SEAL")
            return self.reply(201, out)
        if len(p) >= 3 and p[1] == "registrations":
            r = REGS.get(p[2])
            if r is None:
                return self.err(404, "not_found", "no such registration")
            if len(p) == 3 and m == "GET":
                return self.reply(200, {"status": r["status"]})
            if p[3:] == ["code"] and m == "POST":
                COUNT["codes_posted"] += 1
                c = b.get("code")
                if r["mode"] == "sms":
                    if c == r["code"]:
                        r["status"] = "verified"
                        return self.reply(200, {"status": "verified"})
                    r["tries"] -= 1
                    return self.err(403, "code_mismatch", "wrong code",
                                    attempts_left=r["tries"])
                r["posted"] = c
                if r["mo_code"] is None:
                    return self.reply(202, {"status": "waiting_for_sms"})
                if r["mo_code"] == c:
                    r["status"] = "verified"
                    return self.reply(200, {"status": "verified"})
                return self.err(403, "code_mismatch", "wrong code", attempts_left=4)
            if p[3:] == ["key"] and m == "POST":
                if r["status"] != "verified":
                    return self.err(403, "code_mismatch", "not verified")
                try:
                    der = base64.b64decode(b.get("public_key", ""), validate=True)
                except Exception:
                    return self.err(400, "invalid_key", "bad base64")
                if b.get("scheme") not in (P256, X25519, RSA):
                    return self.err(400, "unsupported_scheme", "unknown scheme")
                pub = import_key(b["scheme"], der)
                if pub is None:
                    return self.err(400, "invalid_key", "not a valid key for the scheme")
                r["scheme"], r["pub"] = b["scheme"], pub
                r["challenge"] = os.urandom(32)
                return self.reply(200, {"challenge": wrap(
                    r["scheme"], pub, r["challenge"], "challenge:" + p[2])})
            if p[3:] == ["proof"] and m == "POST":
                if base64.b64decode(b.get("answer", "")) != r.get("challenge"):
                    return self.err(403, "code_mismatch", "proof failed")
                tok = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
                did = rid()
                DEVICES[tok] = {"msisdn": r["msisdn"], "scheme": r["scheme"],
                                "pub": r["pub"], "id": did, "revoked": False}
                r["status"] = "active"
                return self.reply(201, {"device_id": did, "device_token": tok})
        d = self.device()
        if p[1] in ("messages", "device") and d is None:
            return self.err(401, "unauthorized", "no valid device token")
        tok = self.headers["Authorization"][7:] if d else None
        if p[1:] == ["messages"] and m == "GET":
            out = [{"id": i, "from": "Bank", "received_at": "2026-11-28T08:00:00Z",
                    "expires_at": "2026-12-05T08:00:00Z", "size": 10}
                   for i, x in MSGS.items() if tok in x["env"] and tok not in x["acked"]]
            return self.reply(200, {"messages": out})
        if len(p) >= 3 and p[1] == "messages":
            x = MSGS.get(p[2])
            if x is None or tok not in x["env"]:
                return self.err(404, "not_found", "no such message")
            if len(p) == 3 and m == "GET":
                return self.reply(200, x["env"][tok])
            if p[3:] == ["ack"] and m == "POST":
                x["acked"].add(tok)
                ACKS.append(p[2])
                return self.reply(204)
            if p[3:] == ["reply"] and m == "POST":
                REPLIES.append({"id": p[2], "text": b.get("text")})
                return self.reply(202, {"status": "accepted"})
        if p[1:] == ["device"] and m == "DELETE":
            d["revoked"] = True
            return self.reply(204)
        return self.err(404, "not_found", "no such resource")

    def test(self, m, p, b):
        if p[1:] == ["mo"]:
            words = (b.get("text") or "").split()
            for r in REGS.values():
                if r["msisdn"] == b.get("msisdn") and r["mode"] == "mo" and \
                        len(words) == 2 and words[0] == "SEAL":
                    r["mo_code"] = words[1]
                    if r["posted"] == words[1]:
                        r["status"] = "verified"
            return self.reply(200, {})
        if p[1:] == ["message"]:
            mid = "m" + secrets.token_hex(6)
            env = {t: seal(d, b["msisdn"], mid, b["text"], b.get("tamper", ""))
                   for t, d in DEVICES.items()
                   if d["msisdn"] == b["msisdn"] and not d["revoked"]}
            MSGS[mid] = {"env": env, "acked": set()}
            return self.reply(200, {"id": mid, "devices": len(env)})
        if p[1:] == ["busy"]:
            COUNT["busy"] = int(b.get("n", 0))
            return self.reply(200, {})
        if p[1:] == ["state"]:
            return self.reply(200, {"acks": ACKS, "replies": REPLIES,
                                    "tokens": list(DEVICES.keys()),
                                    "devices": len([d for d in DEVICES.values() if not d["revoked"]]),
                                    "codes_posted": COUNT["codes_posted"]})
        return self.err(404, "not_found", "no such test hook")


srv = ThreadingHTTPServer(("127.0.0.1", PORT), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.minimum_version = ssl.TLSVersion.TLSv1_2
ctx.load_cert_chain(CERT, KEY)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print("stub listening", flush=True)
srv.serve_forever()
