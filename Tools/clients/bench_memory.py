"""Resident memory of `kbs serve` through a long mixed load: cached and fresh releases, attestations with bad evidence
(each audited) and AuthZEN evaluations, with RSS sampled from /proc. Run through Tools/bench-memory."""
import argparse
import json
import os
import threading
import time

from bench_release import Client, attested_session, provision, start_server

EVALUATION = {"subject": {"type": "user", "id": "alice"}, "action": {"name": "read"},
              "resource": {"type": "document", "id": "d-1", "properties": {"owner": "bob"}}}


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise SystemExit("error: bench: VmRSS not found for the server")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--kbs", required=True)
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--warmup", type=float, default=60, help="seconds before the reference sample")
    parser.add_argument("--interval", type=float, default=10, help="seconds between samples")
    parser.add_argument("--cpu", default=None)
    parser.add_argument("--bad-interval", type=float, default=0.05, help="seconds between attestations with bad evidence")
    args = parser.parse_args()

    data = os.path.abspath(os.environ.get("KBS_BENCH_DIR") or __import__("tempfile").mkdtemp(prefix="kbs-bench-memory-"))
    server, port = start_server(args.kbs, data, args.cpu)
    counts = {"releases": 0, "fresh_sessions": 0, "bad_attests": 0, "evaluations": 0, "unexpected": 0}
    lock = threading.Lock()
    stop = threading.Event()

    def count(name, expected):
        with lock:
            counts[name] += 1
            if not expected:
                counts["unexpected"] += 1

    def releases():
        client = Client(port)
        ca = data + "/simulator-ca"
        cookie = None
        while not stop.is_set():
            if cookie is None or counts["releases"] % 500 == 0:
                cookie = attested_session(args.kbs, client, ca)[3]
                count("fresh_sessions", True)
            status, _, _, _ = client.call("GET", "/kbs/v0/resource/bench/keys/k1", None, {"Cookie": cookie})
            if status == 401:
                cookie = None
            count("releases", status in (200, 401))

    def bad_attests():
        # Paced: every auth opens a session, and the server keeps at most 64 per client address (the oldest go first),
        # so an unpaced flood from this one address would only evict the release threads' sessions.
        client = Client(port)
        while not stop.wait(args.bad_interval):
            status, cookie, body, _ = client.call("POST", "/kbs/v0/auth", {"version": "0.4.0", "tee": "snp"})
            if status != 200:
                count("bad_attests", False)
                continue
            nonce = json.loads(body)["nonce"]
            jwk = {"kty": "EC", "crv": "P-256", "alg": "ECDH-ES+A256KW", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
                   "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}
            evidence = json.dumps({"attestation_report": "AAAA" * 300, "cert_chain": "not a chain"})
            request = {"runtime-data": {"nonce": nonce, "tee-pubkey": jwk},
                       "tee-evidence": {"primary_evidence": evidence, "additional_evidence": ""}}
            status, _, _, _ = client.call("POST", "/kbs/v0/attest", request, {"Cookie": cookie.split(";")[0]})
            count("bad_attests", 400 <= status < 500)

    def evaluations():
        client = Client(port)
        while not stop.is_set():
            status, _, _, _ = client.call("POST", "/access/v1/evaluation", EVALUATION)
            count("evaluations", status == 200)

    try:
        setup = Client(port)
        provision(setup)
        workers = [threading.Thread(target=target, daemon=True) for target in (releases, releases, bad_attests, evaluations)]
        for worker in workers:
            worker.start()
        started = time.monotonic()
        reference = None
        peak = 0
        samples = []
        while time.monotonic() - started < args.seconds:
            time.sleep(args.interval)
            if server.poll() is not None:
                raise SystemExit("error: bench: kbs serve exited during the load")
            elapsed = time.monotonic() - started
            rss = rss_kib(server.pid)
            with lock:
                snapshot = dict(counts)
            print(json.dumps({"case": "sample", "seconds": round(elapsed), "rss_kib": rss, **snapshot}), flush=True)
            if elapsed >= args.warmup:
                if reference is None:
                    reference = rss
                peak = max(peak, rss)
                samples.append(rss)
        stop.set()
        for worker in workers:
            worker.join(timeout=30)
        if reference is None:
            raise SystemExit("error: bench: the run ended before the warm-up did (raise --seconds or lower --warmup)")
        growth = (peak - reference) / reference * 100
        summary = {"case": "memory", "seconds": args.seconds, "warmup_s": args.warmup, "rss_after_warmup_kib": reference,
                   "rss_peak_kib": peak, "rss_last_kib": samples[-1], "growth_pct": round(growth, 1),
                   "flat_within_10pct": growth <= 10, **counts}
        print(json.dumps(summary), flush=True)
        print(f"RSS after warm-up {reference / 1024:.1f} MiB, peak {peak / 1024:.1f} MiB, last {samples[-1] / 1024:.1f} MiB: "
              f"{growth:+.1f}% ({'flat' if growth <= 10 else 'GROWING'}); {counts['releases']} releases, "
              f"{counts['fresh_sessions']} fresh sessions, {counts['bad_attests']} bad attests, {counts['evaluations']} evaluations, "
              f"{counts['unexpected']} unexpected answers")
        if counts["unexpected"]:
            raise SystemExit("error: bench: some answers were not what the load expects")
    finally:
        stop.set()
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
