#!/usr/bin/env python3
"""http_catch.py PORT FILE: an HTTP server on 127.0.0.1:PORT that answers
every GET with 200 and an empty body, and appends its path and query
(still URL-encoded, one line each) to FILE. It stands in for the web
application behind a peer such as Kannel's smsbox (get-url, dlr-url)."""
import http.server
import sys


class Catch(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with open(sys.argv[2], "a", encoding="ascii") as out:
            out.write(self.path + "\n")
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: http_catch.py PORT FILE")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])),
                                             Catch)
    server.serve_forever()
