"""A local OTLP/HTTP trace receiver for the benchmarks, in a process of its own (so it takes no
GIL from what is measured): it decodes every ExportTraceServiceRequest with opentelemetry-proto
and counts the spans; ``GET /count`` answers how many. Run: ``python -m bench.otlp_sink PORT``."""

from __future__ import annotations

import gzip
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

_lock = threading.Lock()
_spans = 0
_ANSWER = ExportTraceServiceResponse().SerializeToString()


class Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        global _spans
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        if self.headers.get("content-encoding") == "gzip":
            body = gzip.decompress(body)
        request = ExportTraceServiceRequest.FromString(body)
        count = sum(len(s.spans) for r in request.resource_spans for s in r.scope_spans)
        with _lock:
            _spans += count
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", str(len(_ANSWER)))
        self.end_headers()
        self.wfile.write(_ANSWER)

    def do_GET(self) -> None:
        text = str(_spans).encode()
        self.send_response(200)
        self.send_header("content-length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)

    def log_message(self, format: str, *args: object) -> None:
        pass


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
