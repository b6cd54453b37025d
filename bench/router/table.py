#!/usr/bin/env python3
"""Talks to a `doppel router` over its control socket for bench/router/run.sh.

  table.py publish DATA_DIR --public HOST --private HOST --backend IP:PORT --token TOKEN
  table.py memory DATA_DIR --backend IP:PORT --routes N --token TOKEN
      RSS of the router before and after a table of N routes (each with 2 dynos, half private)
  table.py change-latency DATA_DIR --port HTTPS_PORT --backend IP:PORT --routes N
      time from sending a table that moves a host to another dyno until a request on an open
      keep-alive connection reaches it (N routes in the table)
"""
import argparse
import http.client
import json
import socket
import ssl
import statistics
import time

# doppel_types::token_digest (hex BLAKE3) of the benchmark's token, computed once with
# `doppel_types::token_digest("bench-token-0123456789abcdef")`: Python has no BLAKE3.
TOKEN_DIGESTS = {
    "bench-token-0123456789abcdef": "765a124e696acb6f6b5cf4d56eb9786156f7b75d2aeb3f1bf50ed91585265705",
}


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("doppel-router")
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.path)


def control(data_dir, method, path, body=None):
    conn = UnixHTTPConnection(f"{data_dir}/router/control.sock")
    conn.request(method, path, body=body, headers={"content-type": "application/json"})
    resp = conn.getresponse()
    data = resp.read()
    if resp.status != 200:
        raise SystemExit(f"{method} {path}: {resp.status} {data!r}")
    return json.loads(data)


def route(env, backend, private=None, dyno="web.1"):
    host, port = backend.rsplit(":", 1)
    r = {"env": env, "backends": [{"addr": f"{host}:{port}", "dyno": dyno}], "status": "up"}
    if private is not None:
        r["private"] = private
    return r


def bench_table(args):
    digest = TOKEN_DIGESTS[args.token]
    return {
        "routes": {
            args.public: route("bench", args.backend),
            args.private: route("bench-staging", args.backend, private=[digest]),
        }
    }


def big_table(n, backend, first_backend=None):
    host, port = backend.rsplit(":", 1)
    routes = {}
    for i in range(n):
        r = {
            "env": f"app{i}",
            "backends": [
                {"addr": f"10.213.{(i // 250) % 256}.{i % 250 + 2}:5000", "dyno": "web.1"},
                {"addr": f"10.214.{(i // 250) % 256}.{i % 250 + 2}:5000", "dyno": "web.2"},
            ],
            "status": "up",
        }
        if i % 2:
            r["private"] = [f"{i:064x}", f"{i + 1:064x}", f"{i + 2:064x}"]
        routes[f"app{i}.localhost"] = r
    if first_backend:
        routes["moving.localhost"] = route("moving", first_backend)
    return {"routes": routes}


def rss_kb(data_dir):
    pid = control(data_dir, "GET", "/v1/status")["pid"]
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def memory(args):
    before = rss_kb(args.data_dir)
    body = json.dumps(big_table(args.routes, args.backend)).encode()
    control(args.data_dir, "PUT", "/v1/table", body)
    time.sleep(1)
    after = rss_kb(args.data_dir)
    print(f"memory: router RSS {before / 1024:.1f} MiB with 2 routes, {after / 1024:.1f} MiB with "
          f"{args.routes} routes ({len(body) / 1e6:.1f} MB of JSON); "
          f"{(after - before) * 1024 / args.routes:.0f} bytes a route")


class Echo:
    """A second backend that names itself, to see when a route change took effect."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.addr = f"127.0.0.1:{self.sock.getsockname()[1]}"
        import threading
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        import threading
        while True:
            conn, _ = self.sock.accept()
            threading.Thread(target=self.handle, args=(conn,), daemon=True).start()

    def handle(self, conn):
        buf = b""
        while True:
            data = conn.recv(65536)
            if not data:
                return
            buf += data
            while b"\r\n\r\n" in buf:
                _, buf = buf.split(b"\r\n\r\n", 1)
                body = b"moved\n"
                conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body))


def change_latency(args):
    echo = Echo()
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    samples, applies = [], []
    for _ in range(5):
        control(args.data_dir, "PUT", "/v1/table", json.dumps(big_table(args.routes, args.backend, args.backend)).encode())
        conn = http.client.HTTPSConnection("127.0.0.1", args.port, context=ctx)
        conn.request("GET", "/", headers={"host": "moving.localhost"})
        first = conn.getresponse().read()
        assert first.startswith(b"hello"), first
        body = json.dumps(big_table(args.routes, args.backend, echo.addr)).encode()
        start = time.monotonic()
        control(args.data_dir, "PUT", "/v1/table", body)
        applies.append(time.monotonic() - start)
        while True:
            conn.request("GET", "/", headers={"host": "moving.localhost"})
            if conn.getresponse().read() == b"moved\n":
                break
        samples.append(time.monotonic() - start)
        conn.close()
    print(f"route change with {args.routes + 1} routes: PUT answered in {statistics.median(applies) * 1000:.1f} ms, "
          f"first request on the new dyno after {statistics.median(samples) * 1000:.1f} ms (median of 5; "
          f"the same keep-alive connection throughout)")


def publish(args):
    control(args.data_dir, "PUT", "/v1/table", json.dumps(bench_table(args)).encode())


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["publish", "memory", "change-latency"])
    p.add_argument("data_dir")
    p.add_argument("--public")
    p.add_argument("--private")
    p.add_argument("--backend")
    p.add_argument("--token")
    p.add_argument("--routes", type=int, default=1)
    p.add_argument("--port", type=int)
    a = p.parse_args()
    {"publish": publish, "memory": memory, "change-latency": change_latency}[a.mode](a)
