#!/usr/bin/env python3
"""An independent RCAR (Trustee KBS protocol 0.4.0) client for testing `kbs serve`.

It runs auth, makes an ephemeral EC key, has `kbs tee simulate` produce SNP evidence bound to
HASH(JCS({"tee-pubkey", "nonce", "additional-evidence"})), attests, fetches resources and decrypts
each JWE with joserfc (an independent JOSE library). It prints one JSON object describing every step.

Usage: rcar-client.py --url URL --kbs KBS_BINARY --ca CA_DIR --path repo/type/tag [--path …]
                      [--measurement HEX] [--curve P-256|P-384|P-521|RSA] [--replay] [--bearer] [--authorization TOKEN]
                      [--attest-url URL] [--replay-url URL] [--resource-url URL]   (other replicas for those steps)
"""
import argparse
import base64
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

from cryptography.hazmat.primitives.asymmetric import ec, rsa
from joserfc import jwe
from joserfc.jwk import ECKey, RSAKey


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def request(method, url, body=None, cookie=None, bearer=None, authorization=None):
    headers = {"Content-Type": "application/json"}
    if cookie:
        headers["Cookie"] = cookie
    if bearer:
        headers["Authorization"] = "Bearer " + bearer
    if authorization:
        headers["Authorization"] = "Bearer " + authorization
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=60) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def jcs(value) -> bytes:
    # RFC 8785 for what this client sends: strings and objects only, so sorted keys and no whitespace suffice.
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--kbs", required=True)
    parser.add_argument("--ca", required=True)
    parser.add_argument("--path", action="append", default=[])
    parser.add_argument("--measurement")
    parser.add_argument("--tee", default="snp", choices=["snp", "tdx"],
                        help="the primary evidence `kbs tee simulate` makes (tdx: Trustee's {\"quote\"} JSON form)")
    parser.add_argument("--curve", default="P-256", choices=["P-256", "P-384", "P-521", "RSA"],
                        help="the TEE key: an EC curve (ECDH-ES+A256KW) or RSA 2048 (RSA-OAEP-256)")
    parser.add_argument("--replay", action="store_true")
    parser.add_argument("--bearer", action="store_true")
    parser.add_argument("--attest-url", help="attest at this server (another replica) instead of --url")
    parser.add_argument("--replay-url", help="send the --replay attempts to this server (another replica) instead of --url")
    parser.add_argument("--resource-url", help="fetch the resources from this server (another replica) instead of --url")
    parser.add_argument("--authorization", help="a capability token naming the workload, sent on attest")
    parser.add_argument("--gpu", action="store_true", help="add simulated H100 evidence as additional evidence")
    args = parser.parse_args()
    out = {}

    status, headers, body = request("POST", args.url + "/kbs/v0/auth", {"version": "0.4.0", "tee": args.tee, "extra-params": {}})
    out["auth"] = status
    if status != 200:
        out["auth_body"] = body.decode(errors="replace")
        print(json.dumps(out))
        return
    nonce = json.loads(body)["nonce"]
    cookie = headers.get("Set-Cookie", headers.get("set-cookie", "")).split(";")[0]

    if args.curve == "RSA":
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        numbers = private.public_key().public_numbers()
        tee_pubkey = {"kty": "RSA", "alg": "RSA-OAEP-256", "n": b64url(numbers.n.to_bytes(256, "big")),
                      "e": b64url(numbers.e.to_bytes(3, "big"))}
        key = RSAKey.import_key(private)
        algorithms = ["RSA-OAEP-256", "A256GCM"]
    else:
        curve = {"P-256": ec.SECP256R1(), "P-384": ec.SECP384R1(), "P-521": ec.SECP521R1()}[args.curve]
        private = ec.generate_private_key(curve)
        numbers = private.public_key().public_numbers()
        size = (private.curve.key_size + 7) // 8
        tee_pubkey = {"kty": "EC", "crv": args.curve, "alg": "ECDH-ES+A256KW",
                      "x": b64url(numbers.x.to_bytes(size, "big")), "y": b64url(numbers.y.to_bytes(size, "big"))}
        key = ECKey.import_key(private)
        algorithms = ["ECDH-ES+A256KW", "A256GCM"]
    additional = ""
    if args.gpu:
        # Each additional device binds JCS({"tee-pubkey", "nonce"}); the primary evidence binds the string as sent.
        device_data = hashlib.sha384(jcs({"tee-pubkey": tee_pubkey, "nonce": nonce})).hexdigest()
        with tempfile.TemporaryDirectory() as work:
            subprocess.run([args.kbs, "tee", "simulate", "--kind", "nvidia", "--report-data", device_data, "--ca", args.ca, "--out", work],
                           check=True, capture_output=True)
            with open(os.path.join(work, "rcar-evidence.json")) as handle:
                additional = json.dumps({"nvidia": json.load(handle)})
    report_data = hashlib.sha384(jcs({"tee-pubkey": tee_pubkey, "nonce": nonce, "additional-evidence": additional})).hexdigest()

    with tempfile.TemporaryDirectory() as work:
        command = [args.kbs, "tee", "simulate", "--kind", args.tee, "--report-data", report_data, "--ca", args.ca, "--out", work]
        if args.measurement:
            command += ["--measurement", args.measurement]
        subprocess.run(command, check=True, capture_output=True)
        with open(os.path.join(work, "rcar-evidence.json")) as handle:
            evidence = json.load(handle)

    attestation = {"runtime-data": {"nonce": nonce, "tee-pubkey": tee_pubkey},
                   "tee-evidence": {"primary_evidence": evidence, "additional_evidence": additional}}
    status, _, body = request("POST", (args.attest_url or args.url) + "/kbs/v0/attest", attestation, cookie=cookie,
                              authorization=args.authorization)
    out["attest"] = status
    token = None
    if status == 200:
        token = json.loads(body)["token"]
        out["token"] = token
    else:
        out["attest_body"] = body.decode(errors="replace")

    if args.replay:
        # The same attestation again on the same session, then on a fresh session with the spent nonce.
        replay = args.replay_url or args.url
        status, _, body = request("POST", replay + "/kbs/v0/attest", attestation, cookie=cookie)
        out["replay_same_session"] = status
        out["replay_same_session_body"] = body.decode(errors="replace")
        status, headers, body = request("POST", replay + "/kbs/v0/auth", {"version": "0.4.0", "tee": "snp"})
        fresh = headers.get("Set-Cookie", headers.get("set-cookie", "")).split(";")[0]
        status, _, body = request("POST", replay + "/kbs/v0/attest", attestation, cookie=fresh)
        out["replay_new_session"] = status
        out["replay_new_session_body"] = body.decode(errors="replace")

    results = {}
    base = args.resource_url or args.url
    for path in args.path:
        if args.bearer and token:
            status, _, body = request("GET", base + "/kbs/v0/resource/" + path, bearer=token)
        else:
            status, _, body = request("GET", base + "/kbs/v0/resource/" + path, cookie=cookie)
        result = {"status": status}
        if status == 200:
            response = json.loads(body)
            header = json.loads(base64.urlsafe_b64decode(response["protected"] + "=="))
            decrypted = jwe.decrypt_json(response, key, algorithms=algorithms)
            result["alg"] = header["alg"]
            result["enc"] = header["enc"]
            result["plaintext"] = base64.b64encode(decrypted.plaintext).decode()
        else:
            result["body"] = body.decode(errors="replace")
        results[path] = result
    out["resources"] = results
    print(json.dumps(out))


if __name__ == "__main__":
    sys.exit(main())
