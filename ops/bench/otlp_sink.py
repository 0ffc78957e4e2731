#!/usr/bin/env python3
"""A stand-in OpenTelemetry collector for the tracing-cost benchmark: accepts OTLP/HTTP exports on /v1/traces and
counts them (and their bytes) in the file given, so the run can say how much was exported. It decodes nothing."""
import http.server, sys, threading

port, out = int(sys.argv[1]), sys.argv[2]
lock, stats = threading.Lock(), {"exports": 0, "bytes": 0}


class Sink(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        with lock:
            stats["exports"] += 1
            stats["bytes"] += len(body)
            open(out, "w").write("exports %d bytes %d\n" % (stats["exports"], stats["bytes"]))
        self.send_response(200)
        self.send_header("content-type", self.headers.get("content-type", "application/x-protobuf"))
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", port), Sink).serve_forever()
