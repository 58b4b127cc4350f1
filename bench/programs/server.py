"""The bench's Knative Service program: serves $PORT; /health; / sleeps ?ms= milliseconds."""

import os
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Buffered: unbuffered, the headers and the body leave in two writes, and the second
    # waits for the peer's delayed ACK (40 ms on Linux) whoever the peer is.
    wbufsize = -1

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        url = urlparse(self.path)
        ms = int(parse_qs(url.query).get("ms", ["0"])[0])
        if ms:
            time.sleep(ms / 1000)
        body = b"OK" if url.path == "/health" else b"Hello"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
