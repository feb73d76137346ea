"""Release latency of `kbs serve` with simulator SNP evidence: cold (auth, attest, resource) and cached (resource on
an attested session, the appraisal cached), the floor beside them (`kbs bench floor`: one durable SQLite commit and one
JWE) and, with --throughput, one client against many (wrk). Run through Tools/bench-release."""
import argparse
import base64
import hashlib
import http.client
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

from cryptography.hazmat.primitives.asymmetric import ec
from joserfc import jwe
from joserfc.jwk import ECKey

ADMIN = "bench-admin-token-0123456789abcdef"
MEASUREMENT = "5a" * 48


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Client:
    def __init__(self, port):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(self, method, path, body=None, headers=None):
        headers = dict(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        started = time.perf_counter_ns()
        self.connection.request(method, path, body=data, headers=headers)
        response = self.connection.getresponse()
        payload = response.read()
        elapsed = time.perf_counter_ns() - started
        return response.status, response.getheader("Set-Cookie"), payload, elapsed


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def summary(name, nanoseconds):
    micros = [value / 1000 for value in nanoseconds]
    return {"case": name, "n": len(micros), "p50_us": round(percentile(micros, 0.50), 1),
            "p99_us": round(percentile(micros, 0.99), 1), "mean_us": round(sum(micros) / len(micros), 1)}


def start_server(kbs, data, cpu, store=None):
    """`kbs serve` in simulator mode on a free loopback port; the process and its port."""
    environment = dict(os.environ, KBS_ADMIN_TOKEN=ADMIN, KBS_MASTER_PASSPHRASE="bench passphrase", TEE_MODE="simulator", LOG_LEVEL="warning",
                       KBS_KEY_SWEEP_INTERVAL_SECONDS="0")
    if store:
        environment["KBS_STORE_URL"] = store
    command = [kbs, "serve", "--policies", "Policies/default", "--data-dir", data, "--port", "0"]
    if cpu is not None:
        command = ["taskset", "-c", cpu] + command
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=environment, text=True)
    line = server.stdout.readline()
    match = re.search(r"127\.0\.0\.1:(\d+)", line)
    if not match:
        server.terminate()
        raise SystemExit(f"error: bench: kbs serve did not start (store {'postgresql' if store else 'sqlite'})")
    return server, int(match.group(1))


def provision(client):
    """The simulator's measurement and one tier-2 secret; the secret."""
    admin = {"Authorization": "Bearer " + ADMIN}
    client.call("POST", "/kbs/v1/reference-values", {"kind": "snp", "name": "measurement", "values": [MEASUREMENT]}, admin)
    secret = os.urandom(32)
    status, _, body, _ = client.call("POST", "/kbs/v1/resources/bench/keys/k1",
                                     {"value": base64.b64encode(secret).decode(), "required_tier": 2}, admin)
    assert status in (200, 201), body
    return secret


def attested_session(kbs, client, ca, home=None):
    """One RCAR flow (auth and attest on `client`, the first resource on `home` or `client`); the times of the three
    steps, the session cookie, the TEE key and the released JWE."""
    home = home or client
    private = ec.generate_private_key(ec.SECP256R1())
    numbers = private.public_key().public_numbers()
    jwk = {"kty": "EC", "crv": "P-256", "alg": "ECDH-ES+A256KW",
           "x": b64url(numbers.x.to_bytes(32, "big")), "y": b64url(numbers.y.to_bytes(32, "big"))}
    status, cookie, body, auth_ns = client.call("POST", "/kbs/v0/auth", {"version": "0.4.0", "tee": "snp"})
    assert status == 200, body
    cookie = cookie.split(";")[0]
    nonce = json.loads(body)["nonce"]
    canonical = json.dumps({"tee-pubkey": jwk, "nonce": nonce, "additional-evidence": ""}, sort_keys=True, separators=(",", ":"))
    with tempfile.TemporaryDirectory() as work:
        subprocess.run([kbs, "tee", "simulate", "--kind", "snp", "--report-data", hashlib.sha384(canonical.encode()).hexdigest(),
                        "--measurement", MEASUREMENT, "--ca", ca, "--out", work], check=True, capture_output=True)
        evidence = json.load(open(work + "/rcar-evidence.json"))
    request = {"runtime-data": {"nonce": nonce, "tee-pubkey": jwk}, "tee-evidence": {"primary_evidence": evidence, "additional_evidence": ""}}
    status, _, body, attest_ns = client.call("POST", "/kbs/v0/attest", request, {"Cookie": cookie})
    assert status == 200, body
    status, _, body, resource_ns = home.call("GET", "/kbs/v0/resource/bench/keys/k1", None, {"Cookie": cookie})
    assert status == 200, body
    return auth_ns, attest_ns, resource_ns, cookie, private, json.loads(body)


def latencies(args, client, ca, kbs):
    """The cold and cached release latencies on one server."""
    cold, attests, first = [], [], []
    cookie = None
    for _ in range(args.cold):
        auth_ns, attest_ns, resource_ns, cookie, _, _ = attested_session(kbs, client, ca)
        cold.append(auth_ns + attest_ns + resource_ns)
        attests.append(attest_ns)
        first.append(resource_ns)
    if cookie is None and args.cached:
        *_, cookie, _, _ = attested_session(kbs, client, ca)
    cached = []
    for _ in range(args.cached):
        status, _, body, elapsed = client.call("GET", "/kbs/v0/resource/bench/keys/k1", None, {"Cookie": cookie})
        if status == 401:  # the appraisal is cached for a minute; attest again when it lapses
            *_, cookie, _, _ = attested_session(kbs, client, ca)
            continue
        assert status == 200, body
        cached.append(elapsed)
    cases = [("release_cold (auth+attest+resource)", cold), ("attest", attests), ("resource_first (after attest)", first),
             ("release_cached (attested session)", cached)]
    return [summary(name, values) for name, values in cases if values]


def throughput(args, ports, ca, label):
    """Cached releases per second: `--clients` threads, each with its own attested session, sending resource requests
    round-robin over every replica (as a load balancer would) for `--seconds`."""
    sessions = []
    for index in range(args.clients):
        first = Client(ports[index % len(ports)])
        second = Client(ports[(index + 1) % len(ports)])
        sessions.append(attested_session(args.kbs, first, ca, home=second)[3])
    deadline = time.monotonic() + args.seconds
    elapsed_by_thread = [[] for _ in range(args.clients)]
    failures = [0] * args.clients

    def work(index):
        clients = [Client(port) for port in ports]
        turn = index
        while time.monotonic() < deadline:
            status, _, _, elapsed = clients[turn % len(clients)].call(
                "GET", "/kbs/v0/resource/bench/keys/k1", None, {"Cookie": sessions[index]})
            turn += 1
            if status == 200:
                elapsed_by_thread[index].append(elapsed)
            else:
                failures[index] += 1
                if status == 401:  # the appraisal lapsed after a minute: a fresh session
                    sessions[index] = attested_session(args.kbs, clients[0], ca, home=clients[-1])[3]

    started = time.monotonic()
    threads = [threading.Thread(target=work, args=(index,)) for index in range(args.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.monotonic() - started
    everything = [value for values in elapsed_by_thread for value in values]
    result = summary(f"release_cached_throughput ({label})", everything)
    result.update({"store": label, "replicas": len(ports), "clients": args.clients, "seconds": round(seconds, 2),
                   "releases_per_s": round(len(everything) / seconds, 1), "failures": sum(failures)})
    return result


def floor(args, kbs, data):
    """`kbs bench floor` on the data directory's disk, pinned as the server is: one durable SQLite commit and one JWE."""
    command = [kbs, "bench", "floor", "--dir", data, "--iterations", str(args.floor)]
    if args.cpu is not None:
        command = ["taskset", "-c", args.cpu] + command
    result = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
    result["case"] = "floor (durable commit + JWE)"
    return result


def wrk_throughput(args, port, cookie, connections, label):
    """Cached releases per second from `connections` keep-alive connections driven by wrk (one thread, pinned to the
    load core), all on one attested session."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{args.seconds}s", "--latency", "-H", f"Cookie: {cookie}",
               f"http://127.0.0.1:{port}/kbs/v0/resource/bench/keys/k1"]
    if args.load_cpu is not None:
        command = ["taskset", "-c", args.load_cpu] + command
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    units = {"us": 1, "ms": 1000, "s": 1000000}

    def latency(percent):
        match = re.search(rf"^\s*{percent}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
        return round(float(match.group(1)) * units[match.group(2)], 1)

    requests = int(re.search(r"(\d+) requests in", output).group(1))
    failures = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {"case": f"release_cached_throughput ({label})", "store": "sqlite", "clients": connections, "driver": "wrk",
            "n": requests, "p50_us": latency(50), "p99_us": latency(99), "seconds": args.seconds,
            "releases_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
            "failures": int(failures.group(1)) if failures else 0}


def sqlite_run(args, kbs, label):
    """One server on a fresh data directory: the latencies, the floor beside them, and (with --throughput) one client
    against --clients; each result labelled with the binary when --before is given."""
    data = tempfile.mkdtemp(prefix="kbs-bench-release-")
    server, port = start_server(kbs, data, args.cpu)
    results = []
    try:
        client = Client(port)
        secret = provision(client)
        ca = data + "/simulator-ca"
        # Warm-up: the first release unseals the master key (scrypt) and creates nothing else; check the JWE once.
        *_, private, response = attested_session(kbs, client, ca)
        plaintext = jwe.decrypt_json(response, ECKey.import_key(private), algorithms=["ECDH-ES+A256KW", "A256GCM"]).plaintext
        assert plaintext == secret, "the released value does not decrypt to the secret"
        if args.cold or args.cached:
            results += latencies(args, client, ca, kbs)
            results.append(floor(args, args.floor_kbs, data))
        if args.throughput:
            for connections in (1, args.clients):
                cookie = attested_session(kbs, client, ca)[3]  # fresh: the appraisal is cached for a minute
                results.append(wrk_throughput(args, port, cookie, connections, f"sqlite, {connections} client{'s' if connections > 1 else ''}"))
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(data, ignore_errors=True)
    by_case = {result["case"].split(" ")[0]: result for result in results}
    ratios = {"case": "ratios"}
    if "floor" in by_case and "release_cached" in by_case:
        ratios["cached_over_floor"] = round(by_case["release_cached"]["p50_us"] / by_case["floor"]["p50_us"], 2)
    if "release_cold" in by_case and "release_cached" in by_case:
        ratios["cold_over_cached"] = round(by_case["release_cold"]["p50_us"] / by_case["release_cached"]["p50_us"], 2)
    throughputs = [result for result in results if result["case"].startswith("release_cached_throughput")]
    if len(throughputs) == 2:
        ratios[f"clients{args.clients}_over_single"] = round(throughputs[1]["releases_per_s"] / throughputs[0]["releases_per_s"], 2)
    results.append(ratios)
    if label:
        for result in results:
            result["binary"] = label
    return results


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--kbs", required=True)
    parser.add_argument("--cold", type=int, default=100)
    parser.add_argument("--cached", type=int, default=1000)
    parser.add_argument("--cpu", default=None, help="pin the server to this core")
    parser.add_argument("--store", default="sqlite", choices=["sqlite", "postgres", "both"],
                        help="sqlite: latencies of one server; postgres: throughput of two replicas on KBS_TEST_POSTGRES_URL; "
                             "both: the throughput of each, side by side")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients of the throughput cases")
    parser.add_argument("--seconds", type=int, default=10, help="length of each throughput case")
    parser.add_argument("--before", default=None, help="sqlite: a baseline kbs measured in the same run, before --kbs")
    parser.add_argument("--floor", type=int, default=500, help="sqlite: iterations of the floor (kbs bench floor)")
    parser.add_argument("--floor-kbs", default=None, help="the kbs whose `bench floor` measures the floor (default --kbs)")
    parser.add_argument("--throughput", action="store_true", help="sqlite: also one client against --clients, driven by wrk")
    parser.add_argument("--load-cpu", default=None, help="pin the load generator (wrk) to this core")
    args = parser.parse_args()
    args.floor_kbs = args.floor_kbs or args.kbs

    results = []
    servers = []
    try:
        if args.store == "sqlite":
            runs = ([("before", args.before)] if args.before else []) + [("after" if args.before else None, args.kbs)]
            for label, kbs in runs:
                results += sqlite_run(args, kbs, label)
        if args.store == "both":
            data = tempfile.mkdtemp(prefix="kbs-bench-release-")
            server, port = start_server(args.kbs, data, args.cpu)
            servers.append(server)
            client = Client(port)
            secret = provision(client)
            ca = data + "/simulator-ca"
            *_, private, response = attested_session(args.kbs, client, ca)
            plaintext = jwe.decrypt_json(response, ECKey.import_key(private), algorithms=["ECDH-ES+A256KW", "A256GCM"]).plaintext
            assert plaintext == secret, "the released value does not decrypt to the secret"
            results.append(throughput(args, [port], ca, "sqlite, 1 server"))
            server.terminate()
            server.wait()
        if args.store in ("postgres", "both"):
            url = os.environ.get("KBS_TEST_POSTGRES_URL")
            if not url:
                raise SystemExit("error: bench: --store postgres needs KBS_TEST_POSTGRES_URL (Tools/bench-release runs Tools/with-postgres)")
            store = url + ("&" if "?" in url else "?") + "schema=kbs_bench_" + os.urandom(6).hex()
            first = tempfile.mkdtemp(prefix="kbs-bench-release-a-")
            server, port_a = start_server(args.kbs, first, args.cpu, store)
            servers.append(server)
            second = tempfile.mkdtemp(prefix="kbs-bench-release-b-")
            shutil.copytree(first + "/simulator-ca", second + "/simulator-ca")
            server, port_b = start_server(args.kbs, second, args.cpu, store)
            servers.append(server)
            secret = provision(Client(port_a))
            ca = first + "/simulator-ca"
            *_, private, response = attested_session(args.kbs, Client(port_a), ca, home=Client(port_b))
            plaintext = jwe.decrypt_json(response, ECKey.import_key(private), algorithms=["ECDH-ES+A256KW", "A256GCM"]).plaintext
            assert plaintext == secret, "the value released by the other replica does not decrypt to the secret"
            results.append(throughput(args, [port_a, port_b], ca, "postgresql, 2 replicas"))
        for result in results:
            print(json.dumps(result))
        print(f"\nmachine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}; servers pinned to core {args.cpu}", file=sys.stderr)
        print(f"{'binary':7} {'case':50} {'n':>6} {'p50 µs':>10} {'p99 µs':>10} {'/s':>8}", file=sys.stderr)
        for result in results:
            if result["case"] == "ratios":
                ratios = ", ".join(f"{name} {value}" for name, value in result.items() if name not in ("case", "binary"))
                print(f"{result.get('binary', ''):7} ratios: {ratios}", file=sys.stderr)
                continue
            print(f"{result.get('binary', ''):7} {result['case']:50} {result['n']:>6} {result['p50_us']:>10} {result['p99_us']:>10} "
                  f"{result.get('releases_per_s', ''):>8}", file=sys.stderr)
    finally:
        for server in servers:
            server.terminate()
            server.wait()


if __name__ == "__main__":
    main()
