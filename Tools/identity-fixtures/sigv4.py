#!/usr/bin/env python3
"""Mints Fixtures/identity/sigv4/vectors.json: AWS KMS requests signed with SigV4 by botocore, as boto3 sends them
(captured at botocore's `before-send` event, so nothing leaves the process), and altered copies, each with the
verdict SigV4Verifier must reach. Secrets are test values from fixed labels, so every run mints the same file.

Run through Tools/gen-identity-fixtures sigv4 (it makes the venv from sigv4.txt). Writes only Fixtures/identity/sigv4/.
"""
import os
import sys

# Python puts this script's folder first on sys.path; drop it so no sibling generator shadows a library module.
HERE = os.path.dirname(os.path.realpath(__file__))
sys.path[:] = [p for p in sys.path if os.path.realpath(p or os.curdir) != HERE]

import base64  # noqa: E402
import datetime  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
from importlib.metadata import version  # noqa: E402

import boto3  # noqa: E402
import botocore.auth  # noqa: E402
import botocore.awsrequest  # noqa: E402
import botocore.credentials  # noqa: E402
from fixture_files import write_if_changed  # noqa: E402

OUT = os.path.join(HERE, "..", "..", "Fixtures", "identity", "sigv4")
NOW = datetime.datetime(2026, 11, 25, 12, 0, 0, tzinfo=datetime.timezone.utc)
ENDPOINT = "http://127.0.0.1:8080"


def api_key(label):
    """An API key id and its secret string, shaped as `kbs apikeys create` mints them, from a fixed label."""
    digest = hashlib.sha256(("hanzo-kbs sigv4 " + label).encode()).digest()
    key_id = digest[:8].hex()
    return key_id, "kbs_k_" + key_id + "_" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


MAIN = api_key("main")
OTHER = api_key("other")


def at(moment):
    """Signs with botocore's clock frozen at `moment`."""
    class Frozen:
        def __enter__(self):
            self.original = botocore.auth.get_current_datetime
            botocore.auth.get_current_datetime = lambda: moment

        def __exit__(self, *exc):
            botocore.auth.get_current_datetime = self.original
    return Frozen()


def boto3_request(operation, parameters, region="eu-west-1", key=MAIN, session_token=None, when=NOW):
    """What boto3's KMS client sends for one call: method, path, query, header lines, body."""
    captured = {}

    def capture(request, **_):
        captured["request"] = request
        return botocore.awsrequest.AWSResponse(request.url, 200, {}, None)

    client = boto3.client("kms", endpoint_url=ENDPOINT, region_name=region, aws_access_key_id=key[0],
                          aws_secret_access_key=key[1], aws_session_token=session_token)
    client.meta.events.register("before-send.kms.*", capture)
    with at(when):
        try:
            getattr(client, operation)(**parameters)
        except Exception:
            pass  # the stub response does not parse; the request was captured
    return message(captured["request"])


def signed_request(url, body, headers, key=MAIN, service="kms", region="eu-west-1", when=NOW, method="POST"):
    """A request signed by botocore's SigV4Auth directly (for paths and queries boto3's KMS client never sends)."""
    request = botocore.awsrequest.AWSRequest(method=method, url=url, data=body, headers=headers)
    with at(when):
        botocore.auth.SigV4Auth(botocore.credentials.Credentials(key[0], key[1]), service, region).add_auth(request)
    return message(request.prepare())


def message(prepared):
    url = prepared.url[len(ENDPOINT):]
    path, _, query = url.partition("?")
    body = prepared.body or b""
    if isinstance(body, str):
        body = body.encode()
    headers = [["Host", ENDPOINT.split("//")[1]]]
    for name, value in prepared.headers.items():
        value = value if isinstance(value, str) else value.decode()
        # Unsigned and different on every run or machine: left out, or fixed, so the file is reproducible.
        if name.lower() == "amz-sdk-invocation-id":
            continue
        if name.lower() == "user-agent":
            value = f"Boto3/{version('boto3')} Botocore/{version('botocore')}"
        headers.append([name, value])
    return {"method": prepared.method, "path": path, "query": query or None, "headers": headers, "body": body.decode()}


def with_header(request, name, value):
    headers = [line for line in request["headers"] if line[0].lower() != name.lower()] + [[name, value]]
    return {**request, "headers": headers}


def header(request, name):
    return next(value for field, value in request["headers"] if field.lower() == name.lower())


def main():
    encrypt = boto3_request("encrypt", {"KeyId": "alias/app", "Plaintext": b"hello", "EncryptionContext": {"b": "2", "a": "1"}})
    cases = [
        {"name": "boto3_encrypt", "request": encrypt, "expect": "accept", "region": "eu-west-1"},
        {"name": "boto3_list_keys_other_region", "request": boto3_request("list_keys", {}, region="ap-southeast-2"),
         "expect": "accept", "region": "ap-southeast-2"},
        {"name": "boto3_session_token", "request": boto3_request("list_keys", {}, session_token="attestation.token.here"),
         "expect": "accept", "region": "eu-west-1", "security_token": "attestation.token.here"},
        {"name": "boto3_second_key", "request": boto3_request("generate_random", {"NumberOfBytes": 8}, key=OTHER),
         "expect": "accept", "region": "eu-west-1", "access_key": OTHER[0]},
        {"name": "boto3_signed_14_minutes_ago", "request": boto3_request("list_keys", {}, when=NOW - datetime.timedelta(minutes=14)),
         "expect": "accept", "region": "eu-west-1"},
        {"name": "query_and_encoded_path", "expect": "accept", "region": "eu-west-1",
         "request": signed_request(ENDPOINT + "/a%20b/c~d?b=2&a=1&a=0&empty=", b"{}",
                                   {"X-Amz-Target": "TrentService.ListKeys", "Content-Type": "application/x-amz-json-1.1"})},
        {"name": "spaces_in_a_header_value", "expect": "accept", "region": "eu-west-1",
         "request": signed_request(ENDPOINT + "/", b"{}", {"X-Amz-Target": "TrentService.ListKeys", "X-Custom": "  a   b  c "})},
        {"name": "content_sha256_given", "expect": "accept", "region": "eu-west-1",
         "request": signed_request(ENDPOINT + "/", b"{}", {"X-Amz-Target": "TrentService.ListKeys",
                                                            "X-Amz-Content-SHA256": hashlib.sha256(b"{}").hexdigest()})},
        {"name": "wrong_secret", "expect": "reject", "reason": "signature",
         "request": boto3_request("list_keys", {}, key=(MAIN[0], MAIN[1] + "x"))},
        {"name": "tampered_body", "expect": "reject", "reason": "signature",
         "request": {**encrypt, "body": encrypt["body"].replace("aGVsbG8=", "aGVsbA==")}},
        {"name": "tampered_target", "expect": "reject", "reason": "signature",
         "request": with_header(encrypt, "X-Amz-Target", "TrentService.Decrypt")},
        {"name": "tampered_region_in_credential", "expect": "reject", "reason": "signature",
         "request": with_header(encrypt, "Authorization", header(encrypt, "Authorization").replace("/eu-west-1/", "/us-east-1/"))},
        {"name": "signed_16_minutes_ago", "expect": "reject", "reason": "expired",
         "request": boto3_request("list_keys", {}, when=NOW - datetime.timedelta(minutes=16))},
        {"name": "signed_16_minutes_ahead", "expect": "reject", "reason": "issued_in_future",
         "request": boto3_request("list_keys", {}, when=NOW + datetime.timedelta(minutes=16))},
        {"name": "signed_for_s3", "expect": "reject", "reason": "unsupported",
         "request": signed_request(ENDPOINT + "/", b"{}", {"X-Amz-Target": "TrentService.ListKeys"}, service="s3")},
        {"name": "unknown_access_key", "expect": "reject", "reason": "unknown_key",
         "request": boto3_request("list_keys", {}, key=api_key("nobody"))},
        {"name": "no_authorization", "expect": "reject", "reason": "unsigned",
         "request": {**encrypt, "headers": [line for line in encrypt["headers"] if line[0] != "Authorization"]}},
        {"name": "authorization_not_sigv4", "expect": "reject", "reason": "unsupported",
         "request": with_header(encrypt, "Authorization", "Bearer " + MAIN[1])},
        {"name": "authorization_truncated", "expect": "reject", "reason": "malformed",
         "request": with_header(encrypt, "Authorization", header(encrypt, "Authorization").split(", Signature=")[0])},
        {"name": "target_added_unsigned", "expect": "reject", "reason": "malformed",
         "request": with_header(signed_request(ENDPOINT + "/", b"{}", {}), "X-Amz-Target", "TrentService.ListKeys")},
        {"name": "date_moved_to_another_day", "expect": "reject", "reason": "malformed",
         "request": with_header(encrypt, "X-Amz-Date", "20261126T000100Z")},
        {"name": "content_sha256_mismatch", "expect": "reject", "reason": "signature",
         "request": signed_request(ENDPOINT + "/", b"{}", {"X-Amz-Target": "TrentService.ListKeys",
                                                            "X-Amz-Content-SHA256": hashlib.sha256(b"other").hexdigest()})},
    ]
    vectors = {
        "generator": "Tools/gen-identity-fixtures sigv4 (sigv4.py)",
        "libraries": {name: version(name) for name in ("boto3", "botocore")},
        "now": NOW.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "service": "kms",
        "keys": [{"access_key": MAIN[0], "secret": MAIN[1], "subject": "apikey:" + MAIN[0]},
                 {"access_key": OTHER[0], "secret": OTHER[1], "subject": "apikey:" + OTHER[0]}],
        "cases": cases,
    }
    os.makedirs(OUT, exist_ok=True)
    write_if_changed(os.path.join(OUT, "vectors.json"), json.dumps(vectors, indent=2) + "\n")


if __name__ == "__main__":
    main()
