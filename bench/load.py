#!/usr/bin/env python3
"""Small load tools for bench/run that wrk cannot do (standard library only).

  load.py stampede HOST PORT PATH N
      Opens N connections, then sends one GET PATH on each at the same moment;
      prints "ok=<200s> other=<non-200s> seconds=<time until all answered>".
  load.py warm HOST PORT PATHFILE CONCURRENCY
      GETs every path of PATHFILE (one per line) over CONCURRENCY keep-alive
      connections; prints "ok=<200s> other=<non-200s> bytes=<body bytes>".
  load.py capture HOST PORT PATHFILE OUTFILE
      GETs every path of PATHFILE over one connection and writes each answer
      (path, headers, body) as one JSON line to OUTFILE, for the bare
      ceiling server; prints "ok=<200s> other=<non-200s>".
"""

import asyncio
import json
import sys
import time


async def read_response(reader):
    """Reads one HTTP/1.1 response; returns (status, body, keep_alive)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    read_response.last_headers = []
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
            read_response.last_headers.append([k.strip().lower(), v.strip()])
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                break
            body += await reader.readexactly(size)
            await reader.readexactly(2)
    else:
        body = await reader.read()
    keep = headers.get("connection", "").lower() != "close"
    return status, body, keep


def request(host, port, path, close=False):
    conn = "close" if close else "keep-alive"
    return f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: {conn}\r\n\r\n".encode()


async def stampede(host, port, path, n):
    conns = await asyncio.gather(*(asyncio.open_connection(host, port) for _ in range(n)))
    data = request(host, port, path, close=True)

    async def one(reader, writer):
        writer.write(data)
        await writer.drain()
        status, _, _ = await read_response(reader)
        writer.close()
        return status

    started = time.monotonic()
    statuses = await asyncio.gather(*(one(r, w) for r, w in conns))
    elapsed = time.monotonic() - started
    ok = sum(1 for s in statuses if s == 200)
    print(f"ok={ok} other={len(statuses) - ok} seconds={elapsed:.3f}")


async def warm(host, port, pathfile, concurrency):
    with open(pathfile) as f:
        paths = [line.strip() for line in f if line.strip()]
    queue = asyncio.Queue()
    for p in paths:
        queue.put_nowait(p)
    totals = {"ok": 0, "other": 0, "bytes": 0}

    async def worker():
        reader = writer = None
        while not queue.empty():
            path = queue.get_nowait()
            if writer is None:
                reader, writer = await asyncio.open_connection(host, port)
            writer.write(request(host, port, path))
            await writer.drain()
            status, body, keep = await read_response(reader)
            if status == 200:
                totals["ok"] += 1
                totals["bytes"] += len(body)
            else:
                totals["other"] += 1
            if not keep:
                writer.close()
                writer = None
        if writer is not None:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    print(f"ok={totals['ok']} other={totals['other']} bytes={totals['bytes']}")


async def capture(host, port, pathfile, outfile):
    with open(pathfile) as f:
        paths = [line.strip() for line in f if line.strip()]
    ok = other = 0
    reader, writer = await asyncio.open_connection(host, port)
    with open(outfile, "w") as out:
        for path in paths:
            writer.write(request(host, port, path))
            await writer.drain()
            status, body, _ = await read_response(reader)
            if status != 200:
                other += 1
                continue
            ok += 1
            answer = {"path": path, "headers": read_response.last_headers, "body": body.decode()}
            out.write(json.dumps(answer) + "\n")
    writer.close()
    print(f"ok={ok} other={other}")


def main():
    mode = sys.argv[1]
    if mode == "stampede":
        asyncio.run(stampede(sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])))
    elif mode == "warm":
        asyncio.run(warm(sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])))
    elif mode == "capture":
        asyncio.run(capture(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]))
    else:
        sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
