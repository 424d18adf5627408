"""Raw SMPP for the test ESMEs (esme_rx.py, esme_v33.py, esme_msgops.py):
one bound session over a plain socket, PDUs as (command_id, status,
sequence, body), and the walk through a deliver_sm body. Nothing is
checked beyond the bind: the tests look at the bytes."""
import socket
import struct
import threading


class Session:
    """Connects to 127.0.0.1:port and binds (bind_cmd 1 RX, 2 TX, 9 TRX)
    as system_id/password (demo/demopass) with the given interface_version;
    the bind_resp body after system_id (its TLVs) stays in bind_tail.
    send() may be called from several threads."""

    def __init__(self, port, bind_cmd, version=0x34, timeout=60,
                 system_id="demo", password="demopass"):
        self.s = socket.create_connection(("127.0.0.1", port),
                                          timeout=timeout)
        self.lock = threading.Lock()
        self.send(bind_cmd, 1, system_id.encode() + b"\0" +
                  password.encode() + b"\0\0" + bytes([version]) +
                  b"\0\0\0")
        cmd, st, _, body = self.recv()
        assert cmd == 0x80000000 | bind_cmd and st == 0, \
            "bind: 0x%x 0x%x" % (cmd, st)
        self.bind_tail = body[body.index(b"\0") + 1:]

    def send(self, cmd, seq, body, status=0):
        with self.lock:
            self.s.sendall(struct.pack(">IIII", 16 + len(body), cmd, status,
                                       seq) + body)

    def read(self, n):
        b = b""
        while len(b) < n:
            c = self.s.recv(n - len(b))
            if not c:
                raise EOFError("closed")
            b += c
        return b

    def recv(self):
        n, cmd, st, seq = struct.unpack(">IIII", self.read(16))
        return cmd, st, seq, self.read(n - 16)


def tlv_list(b):
    """The TLVs in b as (tag, value) pairs, in wire order."""
    out = []
    while len(b) >= 4:
        t, n = struct.unpack(">HH", b[:4])
        out.append((t, b[4:4 + n]))
        b = b[4 + n:]
    return out


def deliver_body(b):
    """A deliver_sm body: (esm_class, short_message, the octets after
    short_message, i.e. its TLVs)."""
    i = b.index(b"\0") + 1                  # service_type
    i += 2; i = b.index(b"\0", i) + 1       # source
    i += 2; i = b.index(b"\0", i) + 1       # destination
    esm = b[i]
    i += 3; i = b.index(b"\0", i) + 1       # schedule_delivery_time
    i = b.index(b"\0", i) + 1               # validity_period
    i += 4
    sml = b[i]
    return esm, b[i + 1:i + 1 + sml], b[i + 1 + sml:]
