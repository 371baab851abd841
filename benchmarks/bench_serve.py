"""Load on ``blamelex serve`` over loopback: throughput and p50/p95/p99 latency.

    python benchmarks/bench_serve.py [--duration 6] [--max-requests 20000] [--clients 1,8,64]
                                     [--workers 1,2] [--model both|on|off] [--json OUT.json]

For each detector (with the bundled model, and lexicon-only) and each ``--workers`` count, the
script starts ``blamelex serve`` on 127.0.0.1 (a free port), waits until every worker is ready,
warms up, and then, for a one-sentence note and a 20-sentence note and each number of concurrent
clients, sends ``POST /v1/scan`` for ``--duration`` seconds (or ``--max-requests``, whichever
comes first: bounded in count and time). After the 64-client run it checks recovery: one client
for 2 s must get only 200s.

The load generator is one asyncio process speaking plain HTTP/1.1 with keep-alive on raw
sockets (no HTTP library: it must leave the CPU to the server on a 2-core machine). Each client
sends its next request when the last is answered; a 503 is counted, the client waits 50 ms and
goes on. Latency is measured from just before the request is written to the end of the answer,
for 200s only. The load generator's own CPU time is printed: it shares the machine. So is a
control taken before and after the runs: the work two busy processes get done over one's, the
most any ``--workers 2`` speed-up can show at that moment (about 1.0 when other work holds a
core of a 2-core machine).

Fictional notes only. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

SENTENCE = "Chloe (14) is putting herself at risk by going missing with older males."
FILLERS = [
    "Officers attended the address at 21:40 after a call from her foster carer.",
    "She was located at a friend's flat and returned home by the night team.",
    "Mum reports she has been staying out late and has a new phone.",
    "A strategy meeting is booked for Thursday with the school and health.",
    "She chose to go missing again on Friday and was found in the town centre.",
    "The social worker will visit on Monday to complete the return interview.",
    "No injuries were seen and she said she did not want to talk.",
    "Staff at the care home noted that an older male collected her in a car.",
    "She is known to be streetwise and was described as mature for her age.",
    "The duty officer recorded the vehicle details and passed them to CSE team.",
]
NOTE_20 = " ".join([SENTENCE, *[FILLERS[i % len(FILLERS)] for i in range(19)]])
NOTES = {"1 sentence": SENTENCE, "20 sentences": NOTE_20}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def request_bytes(port: int, path: str, body: bytes | None = None) -> bytes:
    if body is None:
        return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
            ).encode() + body


async def exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                   data: bytes) -> int:
    """Send one request, read the whole answer; its status."""
    writer.write(data)
    await writer.drain()
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("closed")
    status = int(status_line.split()[1])
    length = 0
    close = False
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection" and value.strip().lower() == b"close":
            close = True
    if length:
        await reader.readexactly(length)
    if close:
        raise ConnectionResetError("server closed")  # reconnect, answer counted by caller
    return status


class Stats:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.status: dict[str, int] = {}

    def count(self, key: str) -> None:
        self.status[key] = self.status.get(key, 0) + 1


async def client(port: int, data: bytes, stats: Stats, end: float, budget: list[int]) -> None:
    reader = writer = None
    while time.perf_counter() < end and budget[0] > 0:
        budget[0] -= 1
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            assert reader is not None
            t0 = time.perf_counter()
            status = await exchange(reader, writer, data)
            if status == 200:
                stats.latencies.append(time.perf_counter() - t0)
            stats.count(str(status))
            if status == 503:
                await asyncio.sleep(0.05)
        except (ConnectionError, OSError, asyncio.IncompleteReadError) as exc:
            stats.count(f"error:{type(exc).__name__}")
            if writer is not None:
                writer.close()
            reader = writer = None
    if writer is not None:
        writer.close()


async def run_load(port: int, text: str, clients: int, duration: float,
                   max_requests: int) -> dict[str, Any]:
    data = request_bytes(port, "/v1/scan", json.dumps({"text": text}).encode())
    stats = Stats()
    budget = [max_requests]
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    end = t0 + duration
    await asyncio.gather(*(client(port, data, stats, end, budget) for _ in range(clients)))
    wall = time.perf_counter() - t0
    lat = sorted(stats.latencies)

    def pct(p: float) -> float | None:
        if not lat:
            return None
        return round(1000 * lat[min(len(lat) - 1, int(p / 100 * len(lat)))], 1)

    return {"clients": clients, "wall_s": round(wall, 2), "ok": len(lat),
            "rps": round(len(lat) / wall, 1), "p50_ms": pct(50), "p95_ms": pct(95),
            "p99_ms": pct(99), "mean_ms": round(1000 * statistics.fmean(lat), 1) if lat else None,
            "status": stats.status,
            "loadgen_cpu_s": round(time.process_time() - cpu0, 2)}


def wait_ready(port: int, proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
    end = time.monotonic() + timeout
    streak = 0
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise SystemExit("the server exited")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                s.sendall(request_bytes(port, "/v1/ready"))
                ok = s.recv(64).startswith(b"HTTP/1.1 200")
        except OSError:
            ok = False
        streak = streak + 1 if ok else 0
        if streak >= 10:  # fresh connections land on every worker
            return
        time.sleep(0.1)
    raise SystemExit("the server did not become ready")


def server(workers: int, model: bool, log: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    args = [sys.executable, "-m", "blamelex.cli", "serve", "--port", str(port),
            "--workers", str(workers), "--log-level", "warning"]
    if not model:
        args.append("--no-model")
    proc = subprocess.Popen(args, stdout=log.open("ab"), stderr=subprocess.STDOUT, cwd=ROOT)
    wait_ready(port, proc)
    return proc, port


def _spin(seconds: float, out: Any) -> None:
    end = time.perf_counter() + seconds
    n = 0
    while time.perf_counter() < end:
        n += 1
    out.put(n)


def cpu_scaling(seconds: float = 2.0) -> float:
    """Work done by 2 busy processes over the work of 1 in the same time: about 2.0 on an idle
    2-core machine, about 1.0 when other work already holds one core. The ceiling of any
    ``--workers 2`` speed-up measured at that moment."""
    import multiprocessing as mp

    totals = []
    for k in (1, 2):
        q: Any = mp.Queue()
        procs = [mp.Process(target=_spin, args=(seconds, q)) for _ in range(k)]
        for p in procs:
            p.start()
        for p in procs:
            p.join()
        totals.append(sum(q.get() for _ in procs))
    return round(totals[1] / totals[0], 2)


def machine() -> str:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{platform.machine()}, {os.cpu_count()} cores ({cpu}), "
            f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.2f} at start")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", type=float, default=6.0, help="seconds per run (default 6)")
    ap.add_argument("--max-requests", type=int, default=20_000, help="requests per run at most")
    ap.add_argument("--clients", default="1,8,64")
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--model", choices=["both", "on", "off"], default="both")
    ap.add_argument("--json", metavar="OUT", help="also write every result as JSON")
    args = ap.parse_args()
    clients = [int(c) for c in args.clients.split(",")]
    workers = [int(w) for w in args.workers.split(",")]
    models = {"both": [True, False], "on": [True], "off": [False]}[args.model]
    print(f"machine: {machine()}")
    scaling = [cpu_scaling()]
    print(f"CPU scaling before (2 busy processes / 1): {scaling[0]}x", flush=True)
    log = Path(tempfile.mkdtemp(prefix="bench-serve-")) / "serve.log"
    rows: list[dict[str, Any]] = []
    for model in models:
        for w in workers:
            proc, port = server(w, model, log)
            try:
                asyncio.run(run_load(port, SENTENCE, 4, 2.0, 400))  # warm-up
                for note, text in NOTES.items():
                    for c in clients:
                        r = asyncio.run(run_load(port, text, c, args.duration,
                                                 args.max_requests))
                        r.update(model="on" if model else "off", workers=w, note=note)
                        if c == max(clients):
                            rec = asyncio.run(run_load(port, text, 1, 2.0, 2000))
                            r["recovery"] = {"ok": rec["ok"], "status": rec["status"],
                                             "p95_ms": rec["p95_ms"]}
                        rows.append(r)
                        print(json.dumps(r), flush=True)
            finally:
                proc.terminate()
                proc.wait(60)
    scaling.append(cpu_scaling())
    print(f"CPU scaling after (2 busy processes / 1): {scaling[1]}x")
    print()
    print("| model | workers | note | clients | req/s | p50 ms | p95 ms | p99 ms | 503s | "
          "errors | load generator CPU s |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        errors = sum(v for k, v in r["status"].items() if k not in ("200", "503"))
        print(f"| {r['model']} | {r['workers']} | {r['note']} | {r['clients']} | {r['rps']} | "
              f"{r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} | {r['status'].get('503', 0)} | "
              f"{errors} | {r['loadgen_cpu_s']} |")
    print()
    for model in ("on", "off"):
        for note in NOTES:
            for c in clients:
                one = [r for r in rows if (r["model"], r["note"], r["clients"], r["workers"])
                       == (model, note, c, 1)]
                two = [r for r in rows if (r["model"], r["note"], r["clients"], r["workers"])
                       == (model, note, c, 2)]
                if one and two and one[0]["rps"]:
                    print(f"workers 2 / workers 1, model {model}, {note}, {c} clients: "
                          f"{two[0]['rps'] / one[0]['rps']:.2f}x")
    recovery = [r for r in rows if "recovery" in r]
    for r in recovery:
        print(f"recovery after {r['clients']} clients (model {r['model']}, workers "
              f"{r['workers']}, {r['note']}): {r['recovery']}")
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": machine(), "cpu_scaling": scaling,
                                               "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
