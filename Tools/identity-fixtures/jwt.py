#!/usr/bin/env python3
"""Mints Fixtures/identity/jwt/: OIDC ID tokens and RFC 9068 access tokens signed with joserfc, each accepted case
re-verified by PyJWT with its clock frozen at NOW (see Fixtures/identity/FORMAT.md for the manifest).

The `discovery_` cases take the issuer's keys through OpenID Connect Discovery 1.0 instead of a JWK Set file: a URL
map (`documents_*.json`, `{"<https URL>": "<file>"}`) stands in for the network. PyJWT's PyJWKClient would fetch
over HTTPS, so the reference walks the map here: discovery document at <issuer>/.well-known/openid-configuration
(§4.1), its `issuer` identical to the configured one (§4.3), then PyJWT verifies with the JWK Set its `jwks_uri`
names.

Run through Tools/gen-identity-fixtures (it makes the venv from jwt.txt). Writes only Fixtures/identity/jwt/.
"""
import os
import sys

# This file is called jwt.py, and Python puts its folder first on sys.path, so `import jwt` would import this
# script instead of PyJWT. Drop the folder before importing anything.
HERE = os.path.dirname(os.path.realpath(__file__))
sys.path[:] = [p for p in sys.path if os.path.realpath(p or os.curdir) != HERE]

import base64  # noqa: E402
import datetime  # noqa: E402
import hashlib  # noqa: E402
import hmac  # noqa: E402
import json  # noqa: E402
import warnings  # noqa: E402
from importlib.metadata import version  # noqa: E402

import jwt as pyjwt  # noqa: E402
import jwt.api_jwt  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature  # noqa: E402
from joserfc import jws  # noqa: E402
from joserfc.jwk import ECKey, OKPKey, RSAKey  # noqa: E402
from joserfc.jws import JWSRegistry  # noqa: E402
from fixture_files import write_if_changed
from test_keys import ec_key, rsa_key  # noqa: E402

# joserfc warns that EdDSA is deprecated (RFC 9864) and that a PEM is a poor oct key: both are what we want here.
warnings.simplefilter("ignore")

OUT = os.path.join(HERE, "..", "..", "Fixtures", "identity", "jwt")
NOW_TEXT = "2026-11-25T12:00:00Z"
NOW_DT = datetime.datetime(2026, 11, 25, 12, 0, 0, tzinfo=datetime.timezone.utc)
NOW = int(NOW_DT.timestamp())
ISSUER, AUDIENCE, NONCE = "https://idp.example", "kbs-client", "n-0S6_WzA2Mj"
OPTIONS = {"jwks": "jwks.json", "issuer": ISSUER, "audience": AUDIENCE, "nonce": NONCE}
LEEWAY = 60


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def compact_json(value):
    return json.dumps(value, separators=(",", ":"))


def write(name, text):
    write_if_changed(os.path.join(OUT, name), text)


# --- Keys: test keys from public labels (lib/test_keys.py), the same on every run.


def jwk(kind, private, kid, alg):
    return {"RSA": RSAKey, "EC": ECKey, "OKP": OKPKey}[kind].import_key(private, {"kid": kid, "alg": alg, "use": "sig"})


KEYS = {
    "RS256": jwk("RSA", rsa_key("hanzo-kbs jwt rs256"), "rs256-2026-11", "RS256"),
    "PS256": jwk("RSA", rsa_key("hanzo-kbs jwt ps256"), "ps256-2026-11", "PS256"),
    "ES256": jwk("EC", ec_key("hanzo-kbs jwt es256", "P-256"), "es256-2026-11", "ES256"),
    "ES384": jwk("EC", ec_key("hanzo-kbs jwt es384", "P-384"), "es384-2026-11", "ES384"),
    "EdDSA": jwk("OKP", ed25519.Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"hanzo-kbs jwt eddsa").digest()),
                 "eddsa-2026-11", "EdDSA"),
}
ROTATED = jwk("RSA", rsa_key("hanzo-kbs jwt rs256 rotated"), "rs256-2026-12", "RS256")
WEAK = jwk("RSA", rsa_key("hanzo-kbs jwt weak", 1024), "rs256-weak-1024", "RS256")
# The attacker's own key: never in any JWKS we trust.
ATTACKER = jwk("RSA", rsa_key("hanzo-kbs jwt attacker"), "attacker-1", "RS256")
ATTACKER_ISSUER = "https://attacker.example"
DISCOVERY_URL = ISSUER + "/.well-known/openid-configuration"
JWKS_URI = ISSUER + "/.well-known/jwks.json"
DISCOVERY = {"jwks": None, "discovery": True, "documents": "documents.json"}
RS = KEYS["RS256"]


def public_jwk(key):
    return key.as_dict(private=False)


# --- Tokens

def claims(**changes):
    """A valid ID token for alice; `changes` override members (None removes one)."""
    body = {"iss": ISSUER, "sub": "alice", "aud": AUDIENCE, "iat": NOW - 60, "exp": NOW + 600, "nonce": NONCE}
    body.update(changes)
    return {name: value for name, value in body.items() if value is not None}


def access_claims(**changes):
    body = {"iss": ISSUER, "sub": "agent-7", "aud": AUDIENCE, "iat": NOW - 60, "exp": NOW + 600,
            "client_id": "agent-7", "scope": "kbs.resource.read", "jti": "at-0001"}
    body.update(changes)
    return body


def sign(key, claim_set, typ="JWT", **header):
    """The ordinary path: joserfc's own JWS serializer (it also validates the header)."""
    alg = key.alg
    protected = {"alg": alg, "typ": typ, "kid": key.kid, **header}
    return jws.serialize_compact(protected, compact_json(claim_set).encode(), key, algorithms=[alg])


def sign_raw(key, alg, header_text, payload_text):
    """For headers joserfc would refuse to write (crit, duplicates, padding): joserfc's JWA signs the exact bytes."""
    signing_input = f"{header_text}.{payload_text}".encode()
    return f"{header_text}.{payload_text}.{b64u(JWSRegistry.algorithms[alg].sign(signing_input, key))}"


def emit(name, token, key=None):
    """Writes NAME.jwt. PS256 and ECDSA signatures are randomised; when the file on disk has the same header and
    payload and its signature still verifies under `key`, keep it, so re-runs do not churn. Returns the kept token."""
    path = os.path.join(OUT, name + ".jwt")
    if key is not None and os.path.exists(path):
        old = open(path).read().strip()
        old_parts, new_parts = old.split("."), token.split(".")
        if len(old_parts) == 3 and old_parts[:2] == new_parts[:2]:
            padded = old_parts[2] + "=" * (-len(old_parts[2]) % 4)
            algorithm = JWSRegistry.algorithms[json.loads(base64.urlsafe_b64decode(old_parts[0] + "=="))["alg"]]
            if algorithm.verify(f"{old_parts[0]}.{old_parts[1]}".encode(), base64.urlsafe_b64decode(padded), key):
                token = old
    write(name + ".jwt", token + "\n")
    return token


# --- PyJWT as the reference: same trust options, clock frozen at NOW.

class _FrozenDatetime(datetime.datetime):
    @classmethod
    def now(cls, tz=None):
        return NOW_DT if tz is None else NOW_DT.astimezone(tz)


jwt.api_jwt.datetime = _FrozenDatetime


def pyjwt_opinion(token, options):
    """PyJWT 2.15.1 with our options: key by kid (after one refresh), alg pinned to the JWK's alg, iss/aud exact,
    60 s leeway. Without a matching kid it tries every trusted key, so a rejection means no key accepts."""
    label = f"PyJWT {version('PyJWT')}"
    keys = json.load(open(os.path.join(OUT, options["jwks"])))["keys"]
    if options.get("jwks_refresh"):
        keys += json.load(open(os.path.join(OUT, options["jwks_refresh"])))["keys"]
    try:
        kid = pyjwt.get_unverified_header(token).get("kid")
    except Exception as error:
        return False, f"{label} rejects: {type(error).__name__}"
    candidates = [k for k in keys if k["kid"] == kid] or keys
    errors = []
    for candidate in candidates:
        try:
            payload = pyjwt.decode(token, pyjwt.PyJWK(candidate).key, algorithms=[candidate["alg"]],
                                   audience=options["audience"], issuer=options["issuer"], leeway=LEEWAY,
                                   options={"require": ["exp", "iat", "iss", "aud", "sub"]})
            return True, f"{label} accepts (sub {payload['sub']})"
        except Exception as error:
            errors.append(type(error).__name__)
    return False, f"{label} rejects: {errors[0]}"


def discovery_url(issuer):
    """OpenID Connect Discovery 1.0 §4.1: the issuer with any terminating "/" removed, then the well-known path."""
    return (issuer[:-1] if issuer.endswith("/") else issuer) + "/.well-known/openid-configuration"


def discovery_opinion(token, options):
    """Discovery through the URL map (the network here), then PyJWT with the JWK Set the document's jwks_uri names.
    Returns (accepted, words) like pyjwt_opinion."""
    documents = json.load(open(os.path.join(OUT, options["documents"])))
    issuer, url = options["issuer"], discovery_url(options["issuer"])
    if url not in documents:
        return False, f"the map has no discovery document at {url}"
    config = json.load(open(os.path.join(OUT, documents[url])))
    jwks_uri = config.get("jwks_uri")
    keys_file = documents.get(jwks_uri) if isinstance(jwks_uri, str) else None
    if config.get("issuer") != issuer:
        words = (f"OpenID Connect Discovery 1.0 §4.3: the document at {url} names issuer {config.get('issuer')!r}, not "
                 f"{issuer!r} whose well-known URL served it, so its data MUST NOT be used")
        if keys_file:
            words += f"; without that check {pyjwt_opinion(token, {**options, 'jwks': keys_file})[1]} with the " \
                     f"JWK Set its jwks_uri {jwks_uri} names"
        return False, words
    if jwks_uri is None:
        return False, f"OpenID Connect Discovery 1.0 §3: jwks_uri is REQUIRED and the document at {url} has none: " \
                      "no keys to verify with"
    if not jwks_uri.startswith("https://"):
        return False, f"jwks_uri {jwks_uri} is not https (RFC 8414 §2: it MUST use the https scheme), and the map " \
                      "has no document for it"
    if keys_file is None:
        return False, f"the map has no document for jwks_uri {jwks_uri}: the keys cannot be fetched"
    accepted, opinion = pyjwt_opinion(token, {**options, "jwks": keys_file})
    return accepted, f"discovery {url} names issuer {issuer} and jwks_uri {jwks_uri} ({keys_file}); {opinion}"


CASES = []


def case(name, token, expect, *, subject=None, reason=None, attack=None, options=None, credential=None, note=None):
    """Records a case; `note` says why PyJWT (which checks less than we do) may accept what we reject."""
    entry = {"name": name, "credential": credential or name + ".jwt"}
    if options:
        entry["options"] = options
    entry["expect"] = expect
    if expect == "accept":
        entry.update(subject=subject, issuer=ISSUER)
    else:
        entry.update(reason=reason, attack=attack)
    merged = {name: value for name, value in {**OPTIONS, **(options or {})}.items() if value is not None}
    accepted, opinion = (discovery_opinion if merged.get("discovery") else pyjwt_opinion)(token, merged)
    if expect == "accept" and not accepted:
        raise SystemExit(f"{name}: the reference refuses an accept case: {opinion}")
    if accepted and expect == "reject" and note:
        opinion += f"; {note}"
    entry["reference"] = opinion
    CASES.append(entry)


def main():
    os.makedirs(OUT, exist_ok=True)
    jwks = {"keys": [public_jwk(k) for k in KEYS.values()]}
    write("jwks.json", json.dumps(jwks, indent=2) + "\n")
    write("jwks_after_rotation.json", json.dumps({"keys": jwks["keys"] + [public_jwk(ROTATED)]}, indent=2) + "\n")
    write("jwks_weak.json", json.dumps({"keys": [public_jwk(WEAK)]}, indent=2) + "\n")
    write("openid-configuration.json", json.dumps(openid_configuration(), indent=2) + "\n")

    # One valid ID token per algorithm.
    valid = {}
    for alg, key in KEYS.items():
        name = "valid_" + alg.lower()
        valid[alg] = emit(name, sign(key, claims()), key)
        case(name, valid[alg], "accept", subject="alice")
    access = emit("valid_access_token", sign(RS, access_claims(), typ="at+jwt"))
    case("valid_access_token", access, "accept", subject="agent-7", options={"access_token": True, "nonce": None})
    token = emit("exp_within_60s_leeway", sign(RS, claims(iat=NOW - 630, exp=NOW - 30)))
    case("exp_within_60s_leeway", token, "accept", subject="alice")

    header, payload, signature = valid["RS256"].split(".")

    # alg none in every casing: no signature, and a trusted kid with a real RS256 signature over the none header.
    for alg in ("none", "None", "NONE", "nOnE"):
        token = emit("alg_" + alg, f"{b64u(compact_json({'alg': alg, 'typ': 'JWT'}).encode())}.{payload}.")
        case("alg_" + alg, token, "reject", reason="algorithm", attack=f"alg {alg!r}, empty signature (CVE-2022-23540)")
    none_header = b64u(compact_json({"alg": "none", "typ": "JWT", "kid": RS.kid}).encode())
    token = emit("alg_none_with_kid_and_sig", sign_raw(RS, "RS256", none_header, payload))
    case("alg_none_with_kid_and_sig", token, "reject", reason="algorithm",
         attack="alg none with the trusted RS256 kid and a valid RS256 signature: the header alg must not be ignored")

    # HMAC keyed with public material the attacker can read. joserfc refuses public keys and empty secrets as oct
    # keys (the defence we test), so the attacker's MACs come from the standard library.
    def attacker_mac(secret, header_text):
        return f"{header_text}.{payload}.{b64u(hmac.new(secret, f'{header_text}.{payload}'.encode(), hashlib.sha256).digest())}"

    pem = RS.get_op_key("verify").public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    hs_header = b64u(compact_json({"alg": "HS256", "typ": "JWT", "kid": RS.kid}).encode())
    token = emit("hs256_key_confusion_pem", attacker_mac(pem, hs_header))
    case("hs256_key_confusion_pem", token, "reject", reason="algorithm",
         attack="HS256 keyed with the RS256 key's public PEM (CVE-2015-9235, CVE-2022-29217)")
    token = emit("hs256_key_confusion_jwk_json", attacker_mac(compact_json(public_jwk(RS)).encode(), hs_header))
    case("hs256_key_confusion_jwk_json", token, "reject", reason="algorithm",
         attack="HS256 keyed with the RS256 JWK's JSON text (compact) as the secret")
    traversal = b64u(compact_json({"alg": "HS256", "typ": "JWT", "kid": "../../../../../../dev/null"}).encode())
    token = emit("hs256_kid_path_traversal_empty_key", attacker_mac(b"", traversal))
    case("hs256_kid_path_traversal_empty_key", token, "reject", reason="algorithm",
         attack="kid ../../dev/null so a file-backed key store reads an empty HMAC key; HS256 is never allowed")

    # Keys chosen by the token itself, all with the trusted kid and signed by the attacker.
    for name, extra, what in (("embedded_jwk_attacker_key", {"jwk": public_jwk(ATTACKER)}, "header jwk (CVE-2018-0114)"),
                              ("jku_attacker_url", {"jku": "https://attacker.example/jwks.json"}, "header jku"),
                              ("x5u_attacker_url", {"x5u": "https://attacker.example/cert.pem"}, "header x5u")):
        text = b64u(compact_json({"alg": "RS256", "typ": "JWT", "kid": RS.kid, **extra}).encode())
        token = emit(name, sign_raw(ATTACKER, "RS256", text, payload))
        case(name, token, "reject", reason="untrusted_key", attack=f"attacker key named by the {what}")

    attacker_claims = b64u(compact_json(claims()).encode())
    text = b64u(compact_json({"alg": "RS256", "typ": "JWT", "kid": "rs256-2031-01"}).encode())
    token = emit("kid_unknown", sign_raw(ATTACKER, "RS256", text, attacker_claims))
    case("kid_unknown", token, "reject", reason="unknown_key",
         attack="kid not in the JWKS (jwt-kit falls back to a default key)")
    token = emit("same_kid_attacker_key", sign_raw(ATTACKER, "RS256", header, payload))
    case("same_kid_attacker_key", token, "reject", reason="signature", attack="trusted kid, attacker's RSA key")

    rotated = emit("kid_rotated", sign(ROTATED, claims()))
    case("kid_rotated_refresh_then_accept", rotated, "accept", subject="alice", credential="kid_rotated.jwt",
         options={"jwks": "jwks.json", "jwks_refresh": "jwks_after_rotation.json"})
    case("kid_rotated_no_refresh", rotated, "reject", reason="unknown_key", credential="kid_rotated.jwt",
         attack="kid of a key published after our JWKS, and no refresh source configured")

    # ECDSA encodings.
    es_header, es_payload, es_signature = valid["ES256"].split(".")
    token = emit("es256_psychic_r0_s0", f"{es_header}.{es_payload}.{b64u(bytes(64))}")
    case("es256_psychic_r0_s0", token, "reject", reason="signature", attack="r = s = 0 (CVE-2022-21449)")
    raw = base64.urlsafe_b64decode(es_signature + "==")
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    token = emit("es256_der_signature", f"{es_header}.{es_payload}.{b64u(der)}")
    case("es256_der_signature", token, "reject", reason="signature",
         attack="valid ES256 signature, DER-encoded instead of raw r||s (RFC 7518 §3.4)")
    token = emit("es256_signature_wrong_length", f"{es_header}.{es_payload}.{b64u(raw[:63])}")
    case("es256_signature_wrong_length", token, "reject", reason="signature", attack="ES256 signature of 63 bytes")
    rs_raw = base64.urlsafe_b64decode(signature + "==")
    token = emit("rs256_signature_wrong_length", f"{header}.{payload}.{b64u(rs_raw[:-1])}")
    case("rs256_signature_wrong_length", token, "reject", reason="signature", attack="RS256 signature of 255 bytes")

    # Claims, each token otherwise valid.
    claim_cases = [
        ("expired", claims(iat=NOW - 7200, exp=NOW - 3600), "expired", "exp an hour ago"),
        ("missing_exp", claims(exp=None), "missing_claim", "no exp"),
        ("nbf_in_future", claims(nbf=NOW + 300), "not_yet_valid", "nbf 5 minutes ahead"),
        ("iat_in_future", claims(iat=NOW + 300, exp=NOW + 900), "issued_in_future", "iat 5 minutes ahead"),
        ("wrong_aud", claims(aud="other-client"), "audience", "aud is another client"),
        ("aud_array_with_ours_but_azp_other", claims(aud=[AUDIENCE, "other-client"], azp="other-client"),
         "audience", "several audiences and azp names another client (OIDC Core §3.1.3.7)"),
        ("wrong_iss", claims(iss="https://evil.example"), "issuer", "another issuer"),
        ("iss_trailing_slash", claims(iss=ISSUER + "/"), "issuer", "issuer with a trailing slash (exact match only)"),
        ("nonce_mismatch", claims(nonce="n-attacker"), "nonce", "nonce of another login"),
    ]
    notes = {"aud_array_with_ours_but_azp_other": "PyJWT does not check azp", "nonce_mismatch": "PyJWT has no nonce"}
    for name, claim_set, reason, what in claim_cases:
        case(name, emit(name, sign(RS, claim_set)), "reject", reason=reason, attack=what, note=notes.get(name))

    # Token kinds (RFC 8725 §2.8, RFC 9068).
    token = emit("access_token_as_id_token", sign(RS, access_claims(nonce=NONCE), typ="at+jwt"))
    case("access_token_as_id_token", token, "reject", reason="token_type",
         attack="typ at+jwt (even with our nonce) offered as an ID token", note="PyJWT does not check typ")
    case("id_token_as_access_token", valid["RS256"], "reject", reason="token_type", credential="valid_rs256.jwt",
         options={"access_token": True, "nonce": None}, attack="an ID token (typ JWT) offered as an access token",
         note="PyJWT does not check typ")
    text = b64u(compact_json({"alg": "RS256", "typ": "JWT", "kid": RS.kid, "crit": ["urn:example:unknown"],
                              "urn:example:unknown": True}).encode())
    token = emit("crit_unknown_extension", sign_raw(RS, "RS256", text, payload))
    case("crit_unknown_extension", token, "reject", reason="critical", attack="crit names an unknown extension",
         note="PyJWT ignores crit other than b64")
    token = emit("weak_rsa_1024", sign(WEAK, claims()))
    case("weak_rsa_1024", token, "reject", reason="weak_key", options={"jwks": "jwks_weak.json"},
         attack="RS256 with a 1024-bit key in the trusted JWKS", note="PyJWT has no minimum RSA size")

    # Parser differentials and broken encodings.
    dup_payload = compact_json(claims())[:-1] + ',"sub":"admin"}'
    token = emit("duplicate_sub_claim", sign_raw(RS, "RS256", header, b64u(dup_payload.encode())))
    case("duplicate_sub_claim", token, "reject", reason="malformed",
         attack='payload has "sub":"alice" then "sub":"admin" (first-wins vs last-wins parsers)',
         note="PyJWT keeps the last member")
    dup_header = '{"alg":"RS256","typ":"JWT","kid":"attacker-1","kid":"' + RS.kid + '"}'
    token = emit("duplicate_header_member", sign_raw(RS, "RS256", b64u(dup_header.encode()), payload))
    case("duplicate_header_member", token, "reject", reason="malformed", attack="header has kid twice",
         note="PyJWT keeps the last member")
    padded_payload = b64u(compact_json(claims(jti="pad")).encode())
    assert len(padded_payload) % 4, "needs a payload whose base64url is not a multiple of 4 long"
    padded_payload += "=" * (-len(padded_payload) % 4)
    token = emit("padding_in_b64", sign_raw(RS, "RS256", header, padded_payload))
    case("padding_in_b64", token, "reject", reason="malformed",
         attack="payload segment carries '=' padding (signed as sent); JOSE base64url has none",
         note="PyJWT tolerates padding")
    token = emit("extra_segment", valid["RS256"] + "." + signature)
    case("extra_segment", token, "reject", reason="malformed", attack="four segments")
    mallory = b64u(compact_json(claims(sub="mallory")).encode())
    token = emit("payload_swapped", f"{header}.{mallory}.{signature}")
    case("payload_swapped", token, "reject", reason="signature",
         attack="header and signature of alice's token around a payload naming mallory")
    token = emit("garbage", "eyJhbGciOiJSUzI1NiJ9.not base64!.%%%")
    case("garbage", token, "reject", reason="malformed", attack="not base64url")

    discovery_cases(valid["RS256"])

    write("manifest.json", json.dumps({
        "kind": "jwt", "generator": "Tools/gen-identity-fixtures (jwt.py)",
        "libraries": {name: version(name) for name in ("joserfc", "PyJWT", "cryptography")},
        "now": NOW_TEXT, "options": OPTIONS, "cases": CASES}, indent=2) + "\n")
    accepts = sum(c["expect"] == "accept" for c in CASES)
    print(f"jwt: {len(CASES)} cases ({accepts} accept, {len(CASES) - accepts} reject)")
    for entry in CASES:
        if entry["expect"] == "reject" and " accepts" in entry["reference"]:
            print(f"  reference differs: {entry['name']}: {entry['reference']}")


def openid_configuration(issuer=ISSUER, **changes):
    """The issuer's discovery document (OpenID Connect Discovery 1.0 §3); `changes` override members (None removes)."""
    body = {"issuer": issuer, "jwks_uri": issuer + "/.well-known/jwks.json",
            "authorization_endpoint": issuer + "/authorize", "token_endpoint": issuer + "/token",
            "response_types_supported": ["code"], "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": list(KEYS)}
    body.update(changes)
    return {name: value for name, value in body.items() if value is not None}


def document_map(name, documents):
    """Writes a URL map for FileDocumentFetcher; returns its file name for the `documents` option."""
    write(name, json.dumps(documents, indent=2) + "\n")
    return name


def discovery_cases(valid_rs256):
    """Keys through OpenID Connect Discovery (the `discovery` option) from URL maps instead of the network."""
    documents = document_map("documents.json", {DISCOVERY_URL: "openid-configuration.json",
                                                JWKS_URI: "jwks.json"})
    assert documents == DISCOVERY["documents"]
    configuration = json.load(open(os.path.join(OUT, "openid-configuration.json")))
    assert configuration["issuer"] == ISSUER and configuration["jwks_uri"] == JWKS_URI, configuration

    case("discovery_valid_rs256", valid_rs256, "accept", subject="alice", credential="valid_rs256.jwt",
         options=DISCOVERY)
    case("discovery_kid_unknown", open(os.path.join(OUT, "kid_unknown.jwt")).read().strip(), "reject",
         reason="unknown_key", credential="kid_unknown.jwt", options=DISCOVERY,
         attack="kid in no key of the JWK Set that discovery names (one refresh re-reads discovery, then refuses)")
    case("discovery_configured_issuer_trailing_slash", valid_rs256, "reject", reason="issuer",
         credential="valid_rs256.jwt", options={**DISCOVERY, "issuer": ISSUER + "/"},
         attack="configured issuer https://idp.example/ (trailing slash): discovery is fetched from the same URL "
                "(§4.1 drops the terminating /), but the document's issuer https://idp.example is not identical to "
                "the configured one, nor is the token's iss (OIDC Core §3.1.3.7)")

    # IdP mix-up: the document at our issuer's well-known URL names the attacker as issuer and the attacker's keys.
    write("jwks_attacker.json", json.dumps({"keys": [public_jwk(ATTACKER)]}, indent=2) + "\n")
    write("openid-configuration-mixup.json", json.dumps(openid_configuration(ATTACKER_ISSUER), indent=2) + "\n")
    mixup = document_map("documents_mixup.json", {DISCOVERY_URL: "openid-configuration-mixup.json",
                                                  ATTACKER_ISSUER + "/.well-known/jwks.json": "jwks_attacker.json",
                                                  JWKS_URI: "jwks.json"})
    header = b64u(compact_json({"alg": "RS256", "typ": "JWT", "kid": ATTACKER.kid}).encode())
    token = emit("discovery_issuer_mixup", sign_raw(ATTACKER, "RS256", header, b64u(compact_json(claims()).encode())))
    case("discovery_issuer_mixup", token, "reject", reason="issuer", options={**DISCOVERY, "documents": mixup},
         attack="IdP mix-up: the discovery document served for https://idp.example names issuer "
                "https://attacker.example and the attacker's jwks_uri; the token (iss https://idp.example) is signed "
                "by the attacker's key")

    # jwks_uri that cannot be fetched within policy: not in the map, http, or absent.
    for name, jwks_uri, attack in (
        ("discovery_jwks_uri_unlisted", "https://keys.idp.example/jwks.json",
         "discovery names a jwks_uri for which there is no document"),
        ("discovery_jwks_uri_http", "http://idp.example/.well-known/jwks.json",
         "discovery names an http (not https) jwks_uri"),
        ("discovery_no_jwks_uri", None, "the discovery document has no jwks_uri"),
    ):
        stem = name.removeprefix("discovery_").replace("_", "-")
        write(f"openid-configuration-{stem}.json", json.dumps(openid_configuration(jwks_uri=jwks_uri), indent=2) + "\n")
        documents = document_map(f"documents_{stem.replace('-', '_')}.json",
                                 {DISCOVERY_URL: f"openid-configuration-{stem}.json", JWKS_URI: "jwks.json"})
        case(name, valid_rs256, "reject", reason="fetch", credential="valid_rs256.jwt",
             options={**DISCOVERY, "documents": documents}, attack=attack)


if __name__ == "__main__":
    main()
