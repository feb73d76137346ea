#!/usr/bin/env python3
"""Mints Fixtures/identity/hmac/: HTTP requests signed per RFC 9421 with `hmac-sha256` (API keys), the body bound by
an RFC 9530 `Content-Digest`, see Fixtures/identity/FORMAT.md. `http_message_signatures` signs (HTTPMessageSigner,
HMAC_SHA256, a MappingKeyResolver) and writes Content-Digest (its ContentDigest class: sha-256, or sha-512 through
a subclass); its HTTPMessageVerifier, clock frozen at NOW and told our policy (tag "kbs", required components,
300 s age, body checked against the digest), is the reference recorded for every case.

Run through Tools/gen-identity-fixtures (it makes the venv from httpsig.txt). Writes only Fixtures/identity/hmac/.
"""
import os
import sys

# Python puts this script's folder first on sys.path, where sibling generators (jwt.py) would shadow modules of the
# same name that the library imports. Drop the folder first.
HERE = os.path.dirname(os.path.realpath(__file__))
sys.path[:] = [p for p in sys.path if os.path.realpath(p or os.curdir) != HERE]

import base64  # noqa: E402
import datetime  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import types  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from importlib.metadata import version  # noqa: E402

import http_message_signatures.signatures  # noqa: E402
from http_message_signatures import (  # noqa: E402
    ContentDigest,
    HTTPMessageSignaturesException,
    HTTPMessageSigner,
    HTTPMessageVerifier,
    MappingKeyResolver,
)
from http_message_signatures.algorithms import HMAC_SHA256  # noqa: E402
from fixture_files import write_if_changed  # noqa: E402

OUT = os.path.join(HERE, "..", "..", "Fixtures", "identity", "hmac")
NOW_TEXT = "2026-11-25T12:00:00Z"
NOW_DT = datetime.datetime(2026, 11, 25, 12, 0, 0, tzinfo=datetime.timezone.utc)
NOW = int(NOW_DT.timestamp())
MAX_AGE = 300  # HTTPSignatureVerifier.Requirements.strict
TAG = "kbs"
LIBRARIES = ("http-message-signatures", "http-sf", "cryptography")


def write(name, text):
    write_if_changed(os.path.join(OUT, name), text)


def at(seconds):
    return datetime.datetime.fromtimestamp(seconds, tz=datetime.timezone.utc)


# --- Keys: test secrets only, from fixed public labels, so every run mints the same signatures.

def secret(label):
    return hashlib.sha256(("hanzo-kbs hmac " + label).encode()).digest()


CLIENT_A, CLIENT_B = "kbs-client-a", "kbs-client-b"
KEYS = {CLIENT_A: secret(CLIENT_A), CLIENT_B: secret(CLIENT_B)}  # keys.json: what the verifier trusts
UNTRUSTED = {  # signing keys the verifier does not hold (or holds under another secret)
    "kbs-client-unknown": secret("kbs-client-unknown"),
    "wrong-secret-for-a": secret(CLIENT_A + " wrong"),
    "proxy-1": secret("proxy-1"),
}


# --- Messages: the library's request interface (method, encoded absolute url, headers whose items() keep every
# field line in order), over a list of lines so names keep their case and repeated lines stay separate.

class FieldLines:
    def __init__(self, lines=()):
        self.lines = [tuple(line) for line in lines]

    def items(self):
        return list(self.lines)

    def __iter__(self):
        return iter(dict.fromkeys(name for name, _ in self.lines))

    def __contains__(self, name):
        return any(field.lower() == name.lower() for field, _ in self.lines)

    def __delitem__(self, name):
        self.lines = [(field, value) for field, value in self.lines if field.lower() != name.lower()]

    def __setitem__(self, name, value):
        del self[name]
        self.lines.append((name, value))


@dataclass
class Request:
    method: str
    url: str
    headers: FieldLines
    body: str | None = None

    def credential(self):
        out = {"method": self.method, "target_uri": self.url, "headers": [list(line) for line in self.headers.lines]}
        if self.body is not None:
            out["body"] = self.body
        return out


def request(method, url, headers=(), body=None):
    return Request(method, url, FieldLines(headers), body)


class ContentDigestSHA512(ContentDigest):
    algorithm = "sha-512"


class HMACLabelledRSAPSS(HMAC_SHA256):
    """HMAC-SHA256 output under the `alg` name of another registered algorithm (alg confusion)."""
    algorithm_id = "rsa-pss-sha512"


GET_URL = "https://kbs.example/v1/secrets/db-password?version=3&format=raw"
POST_URL = "https://kbs.example/v1/keys/unwrap"
POST_BODY = json.dumps({"key": "wrapped-dek-7", "wrapping": "kek-2", "purpose": "decrypt"}, separators=(",", ":"))
GET_COMPONENTS = ("@method", "@authority", "@path", "@query")
POST_COMPONENTS = ("@method", "@authority", "@path", "content-type")  # the library adds content-digest with body


def get_request():
    return request("GET", GET_URL, [("Accept", "application/json")])


def post_request(body=POST_BODY):
    return request("POST", POST_URL, [("Content-Type", "application/json")], body)


def sign(message, *, key_id=CLIENT_A, signing_key=None, covered=GET_COMPONENTS, created=NOW - 30, nonce="nonce-0001",
         tag=TAG, include_alg=False, expires=None, label="kbs", algorithm=HMAC_SHA256, digest=ContentDigest,
         append=False, use_existing_digest=False):
    """Signs `message` in place with the library; the body (if any) gets a Content-Digest and is covered."""
    key = signing_key if signing_key is not None else {**KEYS, **UNTRUSTED}[key_id]
    signer = HTTPMessageSigner(signature_algorithm=algorithm,
                               key_resolver=MappingKeyResolver(public_keys={}, private_keys={key_id: key}))
    signer.content_digest_class = digest
    signer.sign(message, key_id=key_id, created=at(created), expires=at(expires) if expires else None, nonce=nonce,
                label=label, tag=tag, include_alg=include_alg, covered_component_ids=covered,
                append_if_signature_exists=append, use_existing_digest=use_existing_digest,
                body=message.body.encode() if message.body is not None else None)
    return message


def sign_with_parameters(message, parameters, *, key=KEYS[CLIENT_A], covered=GET_COMPONENTS, extra_parameters=""):
    """Signs with exactly `parameters` (HTTPMessageSigner.sign always adds created and keyid): the library builds
    the signature base; `extra_parameters` is appended verbatim to both `@signature-params` and Signature-Input."""
    from http_message_signatures._components import _parse_component_ids
    from http_sf.compat import Dictionary, Item

    handler = HTTPMessageVerifier(signature_algorithm=HMAC_SHA256, key_resolver=None)
    base, node, _ = handler._build_signature_base(message, covered_component_ids=_parse_component_ids(covered),
                                                  signature_params=parameters)
    base += extra_parameters
    signature = HMAC_SHA256(shared_secret=key).sign(base.encode())
    message.headers["Signature-Input"] = str(Dictionary({"kbs": node})) + extra_parameters
    message.headers["Signature"] = str(Dictionary({"kbs": Item(signature)}))
    return message


def header(message, name):
    return next(value for field, value in message.headers.lines if field.lower() == name.lower())


def replace_header(message, name, value):
    message.headers.lines = [(field, value if field.lower() == name.lower() else old)
                             for field, old in message.headers.lines]
    return message


# --- Reference: the library's verifier, clock frozen at NOW, with our policy.

class _FrozenDatetime(datetime.datetime):
    @classmethod
    def now(cls, tz=None):
        return NOW_DT if tz is None else NOW_DT.astimezone(tz)


http_message_signatures.signatures.datetime = types.SimpleNamespace(
    datetime=_FrozenDatetime, timezone=datetime.timezone, timedelta=datetime.timedelta)


def required_components(credential):
    required = ["@method", "@authority", "@path"]
    if "?" in credential["target_uri"].split("#")[0]:
        required.append("@query")
    if credential.get("body"):
        required.append("content-digest")
    return required


def reference(credential):
    """Returns (accepted, words): what HTTPMessageVerifier says of the artifact exactly as written."""
    label = f"http-message-signatures {version('http-message-signatures')}"
    message = Request(credential["method"], credential["target_uri"], FieldLines(credential["headers"]))
    body = credential.get("body")
    verifier = HTTPMessageVerifier(signature_algorithm=HMAC_SHA256,
                                   key_resolver=MappingKeyResolver(public_keys=KEYS, private_keys={}))
    required = required_components(credential)
    try:
        results = verifier.verify(message, max_age=datetime.timedelta(seconds=MAX_AGE), expect_tag=TAG,
                                  require_components=required, body=body.encode() if body is not None else None)
    except HTTPMessageSignaturesException as error:
        words = str(error)
        if not words and error.__cause__ is not None:
            words = f"{type(error.__cause__).__module__}.{type(error.__cause__).__name__}"
        return False, f"{label} rejects: {words}"
    keyids = ", ".join(result.parameters["keyid"] for result in results)
    digest = ", digest checked" if any(result.body is not None for result in results) else ""
    return True, f"{label} accepts (keyid {keyids}; tag {TAG!r}, requires {' '.join(required)}, max age {MAX_AGE} s{digest})"


CASES = []
WRITTEN = {"manifest.json", "keys.json"}


def case(name, message, expect, *, reason=None, attack=None, after=None, credential_of=None, note=None,
         reference_disagrees=False, now=None):
    """Records a case. `credential_of` reuses another case's artifact (replay); `note` is added to the reference
    words when the reference's verdict differs from ours; `reference_disagrees` allows that for an accept case."""
    if credential_of is None:
        file = name + ".json"
        write(file, credential_json(message.credential()))
        WRITTEN.add(file)
    else:
        file = credential_of + ".json"
    with open(os.path.join(OUT, file)) as handle:
        credential = json.load(handle)  # the reference reads the artifact exactly as written
    entry = {"name": name, "credential": file, "expect": expect}
    if now is not None:
        entry["now"] = now
    if after is not None:
        entry["after"] = after
    if expect == "accept":
        entry["subject"] = _keyid(credential)
        if attack:
            entry["attack"] = attack
    else:
        entry.update(reason=reason, attack=attack)
    passed, words = reference(credential)
    if passed != (expect == "accept"):
        if expect == "accept" and not reference_disagrees:
            raise SystemExit(f"{name}: the reference refuses an accept case: {words}")
        if note:
            words += f" ({note})"
    entry["reference"] = words
    CASES.append(entry)


def credential_json(credential):
    """The credential as JSON, one member (and one header field line) per line."""
    members = [f"  {json.dumps(name)}: {json.dumps(value)}" for name, value in credential.items() if name != "headers"]
    lines = ",\n".join(f"    {json.dumps(line)}" for line in credential["headers"])
    members.insert(2, f'  "headers": [\n{lines}\n  ]')
    return "{\n" + ",\n".join(members) + "\n}\n"


def _keyid(credential):
    inputs = next(value for field, value in credential["headers"] if field.lower() == "signature-input")
    return inputs.split('keyid="', 1)[1].split('"', 1)[0]


def main():
    os.makedirs(OUT, exist_ok=True)
    write("keys.json", json.dumps({"keys": [{"keyid": keyid, "secret": base64.b64encode(key).decode()}
                                           for keyid, key in KEYS.items()]}, indent=2) + "\n")

    # Accepted requests.
    case("valid_get_query", sign(get_request()), "accept")
    case("valid_post_sha256", sign(post_request(), covered=POST_COMPONENTS, nonce="nonce-0002"), "accept")
    case("valid_post_sha512", sign(post_request(), covered=POST_COMPONENTS, nonce="nonce-0003",
                                   digest=ContentDigestSHA512), "accept")
    case("valid_alg_hmac_sha256", sign(get_request(), include_alg=True, nonce="nonce-0004"), "accept",
         attack='explicit alg="hmac-sha256" (optional for HMAC; the key decides)')
    case("valid_second_key", sign(post_request(), key_id=CLIENT_B, covered=POST_COMPONENTS, nonce="nonce-0005"),
         "accept", attack="signed with the second key of keys.json")
    renamed = sign(post_request(), covered=POST_COMPONENTS, nonce="nonce-0006")
    renamed.headers.lines = [({"signature-input": "SIGNATURE-INPUT", "signature": "signature",
                               "content-digest": "CoNtEnT-DiGeSt", "content-type": "CONTENT-TYPE"}[field.lower()], value)
                             for field, value in renamed.headers.lines]
    case("header_name_case", renamed, "accept",
         attack="field names in other casings (SIGNATURE-INPUT, signature, CoNtEnT-DiGeSt, CONTENT-TYPE): names are case-insensitive")
    scoped = request("GET", GET_URL, [("X-KBS-Scope", "read"), ("Accept", "application/json"), ("x-kbs-scope", " write ")])
    case("covered_field_two_lines", sign(scoped, covered=GET_COMPONENTS + ("x-kbs-scope",), nonce="nonce-0007"),
         "accept", attack='covered field sent as two lines: its value is "read, write" (lines trimmed, joined by ", ")')
    case("created_at_max_age", sign(get_request(), created=NOW - MAX_AGE, nonce="nonce-0008"), "accept",
         attack=f"created exactly {MAX_AGE} s before now (the oldest accepted)")
    case("created_within_leeway", sign(get_request(), created=NOW + 30, nonce="nonce-0009"), "accept",
         attack="created 30 s in the future, inside the 60 s clock leeway", reference_disagrees=True,
         note="its clock skew is 5 s; ours is 60 s")
    case("same_nonce_other_key", sign(get_request(), key_id=CLIENT_B), "accept", after="valid_get_query",
         attack="nonce of valid_get_query under another keyid: replay state is per (keyid, nonce)")

    # Multiple signatures (RFC 9421 §3.2 step 1, §4.3): an intermediary adds its own signature; ours, picked by
    # tag, still verifies. (HTTPSignatureVerifier as of this writing refuses any second signature or field line
    # as `malformed`; these two cases record the RFC's outcome, not that.)
    both = sign(sign(get_request(), nonce="nonce-0010"), key_id="proxy-1", covered=("@method", "@authority", "@path", "@query"),
                nonce="proxy-nonce-1", tag="proxy", label="proxy", append=True)
    case("two_signatures_one_line", both, "accept",
         attack="Signature-Input and Signature each hold our kbs signature and a proxy's (another key, tag proxy)")
    split = sign(sign(get_request(), nonce="nonce-0011"), key_id="proxy-1", covered=("@method", "@authority", "@path", "@query"),
                 nonce="proxy-nonce-2", tag="proxy", label="proxy", append=True)
    lines = []
    for field, value in split.headers.lines:
        if field.lower() in ("signature-input", "signature"):
            ours, theirs = value.split(", proxy=")
            lines += [(field, ours), (field, "proxy=" + theirs)]
        else:
            lines.append((field, value))
    split.headers.lines = lines
    case("two_signatures_two_lines", split, "accept",
         attack="as two_signatures_one_line, each dictionary split over two field lines (RFC 9110 §5.3 combines them)")

    # Keys and signatures.
    case("unknown_keyid", sign(get_request(), key_id="kbs-client-unknown"), "reject", reason="unknown_key",
         attack="keyid that keys.json does not hold")
    case("wrong_secret", sign(get_request(), signing_key=UNTRUSTED["wrong-secret-for-a"]), "reject",
         reason="signature", attack="keyid kbs-client-a, signed with another secret")
    case("alg_rsa_pss_sha512", sign(get_request(), include_alg=True, algorithm=HMACLabelledRSAPSS), "reject",
         reason="algorithm", attack='alg="rsa-pss-sha512" on an HMAC key (the MAC itself is hmac-sha256)')

    # Tampering after signing.
    tampered = sign(post_request(), covered=POST_COMPONENTS)
    tampered.body = POST_BODY.replace("decrypt", "export")
    case("tampered_body", tampered, "reject", reason="digest",
         attack="body changed after signing; the signed Content-Digest is the original one")
    tampered = sign(get_request())
    tampered.url = GET_URL.replace("db-password", "root-password")
    case("tampered_path", tampered, "reject", reason="signature", attack="path changed after signing")
    tampered = sign(get_request())
    tampered.method = "DELETE"
    case("tampered_method", tampered, "reject", reason="signature", attack="method GET changed to DELETE after signing")
    tampered = sign(get_request())
    tampered.url = GET_URL.replace("version=3", "version=1")
    case("tampered_query", tampered, "reject", reason="signature", attack="query changed after signing")

    # Coverage and parameters.
    case("query_not_covered", sign(get_request(), covered=("@method", "@authority", "@path")), "reject",
         reason="missing_component", attack="the target has a query the signature does not cover")
    uncovered = post_request()
    ContentDigest.add(uncovered.headers, POST_BODY.encode())
    uncovered.body = None  # sign without body: the library then neither adds nor covers content-digest
    sign(uncovered, covered=POST_COMPONENTS, use_existing_digest=True)
    uncovered.body = POST_BODY
    case("content_digest_not_covered", uncovered, "reject", reason="missing_component",
         attack="body and a correct Content-Digest, but the signature does not cover content-digest")
    removed = sign(post_request(), covered=POST_COMPONENTS)
    removed.headers.lines = [line for line in removed.headers.lines if line[0].lower() != "content-digest"]
    case("content_digest_field_absent", removed, "reject", reason="missing_component",
         attack="the signature covers content-digest, but the request has no Content-Digest field")
    case("missing_nonce", sign(get_request(), nonce=None), "reject", reason="missing_component",
         attack="no nonce parameter (replay could not be detected)", note="nonce policy is the caller's")
    case("missing_tag", sign(get_request(), tag=None), "reject", reason="missing_component",
         attack="no tag parameter")
    case("wrong_tag", sign(get_request(), tag="other-app"), "reject", reason="missing_component",
         attack='tag="other-app": a signature made for another application')
    case("missing_created", sign_with_parameters(get_request(), {"keyid": CLIENT_A, "nonce": "nonce-0001", "tag": TAG}),
         "reject", reason="missing_component", attack="no created parameter")
    case("missing_keyid", sign_with_parameters(get_request(), {"created": NOW - 30, "nonce": "nonce-0001", "tag": TAG}),
         "reject", reason="missing_component", attack="no keyid parameter")

    # Time.
    case("created_too_old", sign(get_request(), created=NOW - 400), "reject", reason="expired",
         attack=f"created 400 s before now (window {MAX_AGE} s)")
    case("created_in_future", sign(get_request(), created=NOW + 600), "reject", reason="issued_in_future",
         attack="created 600 s after now (leeway 60 s)")
    case("expires_passed", sign(get_request(), created=NOW - 200, expires=NOW - 100), "reject", reason="expired",
         attack="expires 100 s before now (leeway 60 s)")
    # RFC 8941 parsers keep the last of duplicate parameters; HTTPSignatureVerifier as of this writing keeps the
    # first, so it reads a fresh `created` where the RFC reads a stale one.
    duplicate = sign_with_parameters(
        get_request(), {"created": NOW - 30, "keyid": CLIENT_A, "nonce": "nonce-0001", "tag": TAG},
        extra_parameters=f";created={NOW - 400}")
    case("duplicate_created", duplicate, "reject", reason="expired",
         attack=f"created given twice, fresh then {NOW - 400} (400 s old); RFC 8941 §4.2.3.2: the last value wins. "
                "The MAC is over the parameters exactly as sent")

    # Replay.
    case("replay_same_request", None, "reject", reason="replay", after="valid_get_query",
         credential_of="valid_get_query", attack="valid_get_query sent a second time",
         note="replay detection is the caller's")
    case("replay_nonce_other_request", sign(post_request(), covered=POST_COMPONENTS, nonce="nonce-0002",
                                            created=NOW - 10), "reject",
         reason="replay", after="valid_post_sha256",
         attack="a new request by the same key reusing valid_post_sha256's nonce", note="replay detection is the caller's")

    # Syntax.
    broken = sign(get_request())
    replace_header(broken, "signature-input", header(broken, "signature-input").replace('"@query")', '"@query"', 1))
    case("signature_input_malformed", broken, "reject", reason="malformed",
         attack="Signature-Input inner list without its closing parenthesis")
    broken = sign(get_request())
    replace_header(broken, "signature", 'kbs="' + header(broken, "signature").split(":")[1] + '"')
    case("signature_not_byte_sequence", broken, "reject", reason="malformed",
         attack="Signature member is a String, not a Byte Sequence")
    relabelled = sign(get_request())
    replace_header(relabelled, "signature", "sig1=" + header(relabelled, "signature").split("=", 1)[1])
    case("signature_label_mismatch", relabelled, "reject", reason="malformed",
         attack="Signature-Input labels the signature kbs, Signature labels it sig1")

    for stale in sorted(set(os.listdir(OUT)) - WRITTEN):
        if stale.endswith(".json"):
            os.remove(os.path.join(OUT, stale))
    write("manifest.json", json.dumps({
        "kind": "hmac", "generator": "Tools/gen-identity-fixtures (httpsig.py)",
        "libraries": {name: version(name) for name in LIBRARIES},
        "now": NOW_TEXT, "options": {"keys": "keys.json"}, "cases": CASES}, indent=2) + "\n")
    accepts = sum(c["expect"] == "accept" for c in CASES)
    print(f"hmac: {len(CASES)} cases ({accepts} accept, {len(CASES) - accepts} reject)")
    for entry in CASES:
        if (entry["expect"] == "accept") != (" accepts " in entry["reference"]):
            print(f"  reference differs: {entry['name']}: {entry['reference']}")


if __name__ == "__main__":
    main()
