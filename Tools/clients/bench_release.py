"""Release latency of `kbs serve` with simulator SNP evidence: cold (auth, attest, resource) and cached (resource on
an attested session, the appraisal cached). Run through Tools/bench-release."""
import argparse
import base64
import hashlib
import http.client
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--kbs", required=True)
    parser.add_argument("--cold", type=int, default=100)
    parser.add_argument("--cached", type=int, default=1000)
    parser.add_argument("--cpu", default=None, help="pin the server to this core")
    args = parser.parse_args()

    data = tempfile.mkdtemp(prefix="kbs-bench-release-")
    environment = dict(os.environ, KBS_ADMIN_TOKEN=ADMIN, KBS_MASTER_PASSPHRASE="bench passphrase", TEE_MODE="simulator", LOG_LEVEL="warning")
    command = [args.kbs, "serve", "--policies", "Policies/default", "--data-dir", data, "--port", "0"]
    if args.cpu is not None:
        command = ["taskset", "-c", args.cpu] + command
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=environment, text=True)
    try:
        line = server.stdout.readline()
        port = int(re.search(r"127\.0\.0\.1:(\d+)", line).group(1))
        client = Client(port)
        admin = {"Authorization": "Bearer " + ADMIN}
        client.call("POST", "/kbs/v1/reference-values", {"kind": "snp", "name": "measurement", "values": [MEASUREMENT]}, admin)
        secret = os.urandom(32)
        status, _, body, _ = client.call("POST", "/kbs/v1/resources/bench/keys/k1",
                                         {"value": base64.b64encode(secret).decode(), "required_tier": 2}, admin)
        assert status in (200, 201), body

        def attested_session():
            """One RCAR flow; the times of auth, attest and the first resource request, and the session cookie."""
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
                subprocess.run([args.kbs, "tee", "simulate", "--kind", "snp", "--report-data", hashlib.sha384(canonical.encode()).hexdigest(),
                                "--measurement", MEASUREMENT, "--ca", data + "/simulator-ca", "--out", work], check=True, capture_output=True)
                evidence = json.load(open(work + "/rcar-evidence.json"))
            request = {"runtime-data": {"nonce": nonce, "tee-pubkey": jwk}, "tee-evidence": {"primary_evidence": evidence, "additional_evidence": ""}}
            status, _, body, attest_ns = client.call("POST", "/kbs/v0/attest", request, {"Cookie": cookie})
            assert status == 200, body
            status, _, body, resource_ns = client.call("GET", "/kbs/v0/resource/bench/keys/k1", None, {"Cookie": cookie})
            assert status == 200, body
            return auth_ns, attest_ns, resource_ns, cookie, private, json.loads(body)

        # Warm-up: the first release unseals the master key (scrypt) and creates nothing else; check the JWE once.
        *_, private, response = attested_session()
        plaintext = jwe.decrypt_json(response, ECKey.import_key(private), algorithms=["ECDH-ES+A256KW", "A256GCM"]).plaintext
        assert plaintext == secret, "the released value does not decrypt to the secret"

        cold, attests, first = [], [], []
        cookie = None
        for _ in range(args.cold):
            auth_ns, attest_ns, resource_ns, cookie, _, _ = attested_session()
            cold.append(auth_ns + attest_ns + resource_ns)
            attests.append(attest_ns)
            first.append(resource_ns)
        cached = []
        for _ in range(args.cached):
            status, _, body, elapsed = client.call("GET", "/kbs/v0/resource/bench/keys/k1", None, {"Cookie": cookie})
            if status == 401:  # the appraisal is cached for a minute; attest again when it lapses
                *_, cookie, _, _ = attested_session()
                continue
            assert status == 200, body
            cached.append(elapsed)
        results = [summary("release_cold (auth+attest+resource)", cold), summary("attest", attests),
                   summary("resource_first (after attest)", first), summary("release_cached (attested session)", cached)]
        for result in results:
            print(json.dumps(result))
        print(f"\nmachine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}; server pinned to core {args.cpu}", file=sys.stderr)
        print(f"{'case':40} {'n':>6} {'p50 µs':>10} {'p99 µs':>10}", file=sys.stderr)
        for result in results:
            print(f"{result['case']:40} {result['n']:>6} {result['p50_us']:>10} {result['p99_us']:>10}", file=sys.stderr)
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
