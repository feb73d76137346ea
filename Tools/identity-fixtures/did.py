#!/usr/bin/env python3
"""Mints Fixtures/identity/did/: DID-signed login proofs (compact JWS whose `kid` is a DID URL) for did:key and
did:jwk, see Fixtures/identity/FORMAT.md. didkit (spruceid's resolver) derives the DIDs of well-formed keys and
resolves every DID as the reference; `cryptography` signs and checks signatures against the didkit-resolved JWK.

Run through Tools/gen-identity-fixtures (it makes the venv from did.txt). Writes only Fixtures/identity/did/.
"""
import asyncio
import base64
import datetime
import hashlib
import json
import os
from importlib.metadata import version

import base58
import didkit
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from fixture_files import write_if_changed

HERE = os.path.dirname(os.path.realpath(__file__))
OUT = os.path.join(HERE, "..", "..", "Fixtures", "identity", "did")
NOW_TEXT = "2026-11-25T12:00:00Z"
NOW = int(datetime.datetime(2026, 11, 25, 12, 0, 0, tzinfo=datetime.timezone.utc).timestamp())
AUDIENCE, NONCE = "https://kbs.example", "did-nonce-1"
OPTIONS = {"audience": AUDIENCE, "nonce": NONCE}

# Multicodec codes (multiformats/multicodec table.csv).
ED25519_PUB, X25519_PUB, SECP256K1_PUB, P256_PUB, ED25519_PRIV = 0xED, 0xEC, 0xE7, 0x1200, 0x1300
P256_P = 2 ** 256 - 2 ** 224 + 2 ** 192 + 2 ** 96 - 1
P256_B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64u_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def compact_json(value):
    return json.dumps(value, separators=(",", ":"))


def write(name, text):
    write_if_changed(os.path.join(OUT, name), text)


# --- Keys: test keys only, from fixed public labels, so every run mints the same DIDs and signatures.

def seed(label):
    return hashlib.sha256(label.encode()).digest()


ED = ed25519.Ed25519PrivateKey.from_private_bytes(seed("hanzo-kbs did ed25519"))
ED_OTHER = ed25519.Ed25519PrivateKey.from_private_bytes(seed("hanzo-kbs did ed25519 other"))
P256 = ec.derive_private_key(int.from_bytes(seed("hanzo-kbs did p256"), "big"), ec.SECP256R1())
K1 = ec.derive_private_key(int.from_bytes(seed("hanzo-kbs did secp256k1"), "big"), ec.SECP256K1())


def raw_public(key):
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint)


def public_jwk(key):
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return {"kty": "OKP", "crv": "Ed25519", "x": b64u(raw_public(key))}
    numbers = key.public_key().public_numbers()
    crv = {"secp256r1": "P-256", "secp256k1": "secp256k1"}[key.curve.name]
    return {"kty": "EC", "crv": crv, "x": b64u(numbers.x.to_bytes(32, "big")), "y": b64u(numbers.y.to_bytes(32, "big"))}


def varint(n):
    """Unsigned LEB128, minimal, as multicodec prefixes use."""
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def did_key_of(prefix, material):
    """did:key from raw bytes, for identifiers didkit will not mint (bad codecs, lengths, points)."""
    msid = "z" + base58.b58encode(prefix + material).decode()
    return f"did:key:{msid}", f"did:key:{msid}#{msid}"


def did_key(key):
    """did:key of a good key: didkit derives it, and our own encoding must agree (guards the helpers above)."""
    did = didkit.key_to_did("key", json.dumps(public_jwk(key)))
    codec = ED25519_PUB if isinstance(key, ed25519.Ed25519PrivateKey) else {
        "secp256r1": P256_PUB, "secp256k1": SECP256K1_PUB}[key.curve.name]
    ours = did_key_of(varint(codec), raw_public(key))
    assert ours[0] == did, (ours, did)
    return ours


def did_jwk(key):
    did = didkit.key_to_did("jwk", json.dumps(public_jwk(key)))
    return did, did + "#0"


def off_curve_x():
    """The smallest x >= 1 with no P-256 point (x^3 - 3x + b is a non-residue mod p)."""
    x = 1
    while pow((x ** 3 - 3 * x + P256_B) % P256_P, (P256_P - 1) // 2, P256_P) == 1:
        x += 1
    return x


# --- Credentials

def claims(iss, **changes):
    return {"iss": iss, "aud": AUDIENCE, "nonce": NONCE, "iat": NOW - 30, "exp": NOW + 300, **changes}


def raw_signature(key, message, high_s=False):
    """EdDSA, or ECDSA (RFC 6979, so deterministic) as raw r||s; ES256K low-s unless high_s is asked for."""
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(message)
    r, s = decode_dss_signature(key.sign(message, ec.ECDSA(hashes.SHA256(), deterministic_signing=True)))
    if key.curve.name == "secp256k1":
        s = min(s, SECP256K1_N - s)
        if high_s:
            s = SECP256K1_N - s
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def default_alg(key):
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "EdDSA"
    return {"secp256r1": "ES256", "secp256k1": "ES256K"}[key.curve.name]


def jws(key, kid, payload, alg=None, high_s=False):
    header = b64u(compact_json({"alg": alg or default_alg(key), "typ": "JWT", "kid": kid}).encode())
    body = b64u(compact_json(payload).encode())
    return f"{header}.{body}.{b64u(raw_signature(key, f'{header}.{body}'.encode(), high_s))}"


# --- Reference: didkit resolves the kid's DID; cryptography checks the signature with the resolved key.

def verifies(jwk, alg, message, signature):
    """Whether `signature` verifies under `jwk` for `alg`; None when the alg does not fit the key type."""
    try:
        if jwk.get("crv") == "Ed25519" and alg == "EdDSA":
            ed25519.Ed25519PublicKey.from_public_bytes(b64u_decode(jwk["x"])).verify(signature, message)
            return True
        curve = {("P-256", "ES256"): ec.SECP256R1(), ("secp256k1", "ES256K"): ec.SECP256K1()}.get((jwk.get("crv"), alg))
        if curve is None:
            return None
        point = ec.EllipticCurvePublicNumbers(int.from_bytes(b64u_decode(jwk["x"]), "big"),
                                              int.from_bytes(b64u_decode(jwk["y"]), "big"), curve).public_key()
        if len(signature) != 64:
            return False
        der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
        point.verify(der, message, ec.ECDSA(hashes.SHA256()))
        return True
    except (InvalidSignature, ValueError):
        return False


async def reference(token):
    """Returns (key and signature check passed, words)."""
    label = f"didkit {version('didkit')}"
    header_text, body_text, signature_text = token.split(".")
    header = json.loads(b64u_decode(header_text))
    kid, alg = header["kid"], header["alg"]
    try:
        document = json.loads(await didkit.resolve_did(kid.split("#")[0], "{}"))
    except didkit.DIDKitException as error:
        return False, f"{label} does not resolve the DID ({error})"
    method = next((m for m in document.get("verificationMethod", []) if m["id"] == kid), None)
    if method is None:
        return False, f"{label} resolves the DID, but it has no verification method {kid.split('#', 1)[-1]!r}"
    words = f"{label} resolves {method['id']} ({method['type']})"
    if kid not in document.get("authentication", []):
        return False, words + ", not listed under authentication"
    ok = verifies(method["publicKeyJwk"], alg, f"{header_text}.{body_text}".encode(), b64u_decode(signature_text))
    if ok is None:
        return False, words + f"; alg {alg} does not fit its publicKeyJwk"
    return ok, words + f"; cryptography {'verifies' if ok else 'rejects'} the {alg} signature with its publicKeyJwk"


CASES = []


async def case(name, token, expect, *, subject=None, reason=None, attack=None, note=None):
    write(name + ".jws", token + "\n")
    entry = {"name": name, "credential": name + ".jws", "expect": expect}
    if expect == "accept":
        entry["subject"] = subject
    else:
        entry.update(reason=reason, attack=attack)
    passed, words = await reference(token)
    if expect == "accept" and not passed:
        raise SystemExit(f"{name}: the reference refuses an accept case: {words}")
    if expect == "reject" and passed and note:
        words += f" ({note})"
    entry["reference"] = words
    CASES.append(entry)


async def main():
    os.makedirs(OUT, exist_ok=True)
    ed_did, ed_kid = did_key(ED)
    p256_did, p256_kid = did_key(P256)
    k1_did, k1_kid = did_key(K1)
    claims_only = "the reference checks key and signature only; the claims are ours to check"

    for name, key, (did, kid) in (("did_key_ed25519", ED, (ed_did, ed_kid)), ("did_key_p256", P256, (p256_did, p256_kid)),
                                  ("did_key_secp256k1", K1, (k1_did, k1_kid)), ("did_jwk_p256", P256, did_jwk(P256)),
                                  ("did_jwk_ed25519", ED, did_jwk(ED))):
        await case(name, jws(key, kid, claims(did)), "accept", subject=did)

    # Key material that is not a public signing key of the claimed type. Each is signed by the key it encodes (or
    # by the Ed25519 key whose bytes it reuses), so only the encoding is wrong.
    ed_raw = raw_public(ED)
    private_seed = ED.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                    serialization.NoEncryption())
    for name, prefix, material, reason, attack in (
        ("did_key_private_key_codec", varint(ED25519_PRIV), private_seed, "invalid_key",
         "ed25519-priv multicodec 0x1300: the DID publishes the private key"),
        ("did_key_x25519_for_signature", varint(X25519_PUB), ed_raw, "invalid_key",
         "x25519-pub (0xec, key agreement only) carrying the Ed25519 key's bytes, used to verify an EdDSA signature"),
        ("did_key_unknown_codec", varint(0x300001), ed_raw, "unsupported",
         "multicodec 0x300001 (private-use range) that no verifier knows"),
        ("did_key_non_minimal_varint", bytes([0xED, 0x81, 0x00]), ed_raw, "malformed",
         "ed25519-pub codec written as the 3-byte varint ed 81 00 instead of ed 01"),
        ("did_key_wrong_length", varint(ED25519_PUB), ed_raw + b"\x00", "invalid_key",
         "ed25519-pub with 33 key bytes (a lax decoder reads the first 32)"),
    ):
        did, kid = did_key_of(prefix, material)
        await case(name, jws(ED, kid, claims(did)), "reject", reason=reason, attack=attack,
                   note="didkit does not check this")
    point = b"\x02" + off_curve_x().to_bytes(32, "big")
    try:  # cryptography must agree that the point is not on the curve
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
        raise SystemExit("off-curve point was accepted by cryptography")
    except ValueError:
        pass
    did, kid = did_key_of(varint(P256_PUB), point)
    await case("did_key_p256_off_curve", jws(P256, kid, claims(did)), "reject", reason="invalid_key",
               attack="p256-pub compressed point whose x has no point on P-256")
    private_jwk = {**public_jwk(P256), "d": b64u(P256.private_numbers().private_value.to_bytes(32, "big"))}
    did = "did:jwk:" + b64u(compact_json(private_jwk).encode())
    await case("did_jwk_private_d", jws(P256, did + "#0", claims(did)), "reject", reason="invalid_key",
               attack='did:jwk whose JWK carries the private member "d"', note="didkit does not check this")

    # Binding between the DID that claims (iss) and the key that signed (kid).
    await case("kid_did_differs_from_iss", jws(P256, p256_kid, claims(ed_did)), "reject",
               reason="verification_method", attack="iss is one DID; kid and signature belong to another DID",
               note=claims_only)
    other_msid = did_key(ED_OTHER)[0].split(":")[2]
    await case("kid_fragment_not_vm", jws(ED_OTHER, f"{ed_did}#{other_msid}", claims(ed_did)), "reject",
               reason="verification_method",
               attack="kid is the iss DID with another key's multibase as fragment, signed by that other key")

    # Signatures.
    await case("secp256k1_high_s", jws(K1, k1_kid, claims(k1_did), high_s=True), "reject", reason="malleable",
               attack="ES256K signature with s > n/2 (the malleable twin of a valid one)",
               note="cryptography has no low-s rule")
    good = jws(ED, ed_kid, claims(ed_did)).split(".")
    other = jws(ED, ed_kid, claims(ed_did, nonce="did-nonce-0")).split(".")
    await case("wrong_signature", f"{good[0]}.{good[1]}.{other[2]}", "reject", reason="signature",
               attack="signature of another payload by the same key")
    await case("alg_mismatch_es256_on_ed25519", jws(ED, ed_kid, claims(ed_did), alg="ES256"), "reject",
               reason="algorithm", attack="header alg ES256 over an Ed25519 did:key (signature made with EdDSA)")

    # Claims.
    for name, payload, reason, attack in (
        ("expired", claims(ed_did, iat=NOW - 4200, exp=NOW - 3600), "expired", "exp an hour ago"),
        ("wrong_aud", claims(ed_did, aud="https://evil.example"), "audience", "aud is another service"),
        ("wrong_nonce", claims(ed_did, nonce="did-nonce-0"), "nonce", "nonce of another challenge"),
    ):
        await case(name, jws(ED, ed_kid, payload), "reject", reason=reason, attack=attack, note=claims_only)

    # Methods and syntax.
    did = "did:example:123456789abcdefghi"
    await case("did_example_method", jws(ED, did + "#key-1", claims(did)), "reject", reason="unsupported",
               attack="did:example, a method we do not resolve")
    msid = ed_did.split(":")[2]
    bad = f"did:key:{msid[:10]}0{msid[11:]}"  # '0' is not in the base58btc alphabet
    await case("base58_invalid_char", jws(ED, f"{bad}#{msid[:10]}0{msid[11:]}", claims(bad)), "reject",
               reason="malformed", attack="did:key whose base58btc text contains '0'")

    write("manifest.json", json.dumps({
        "kind": "did", "generator": "Tools/gen-identity-fixtures (did.py)",
        "libraries": {name: version(name) for name in ("didkit", "cryptography", "base58")},
        "now": NOW_TEXT, "options": OPTIONS, "cases": CASES}, indent=2) + "\n")
    accepts = sum(c["expect"] == "accept" for c in CASES)
    print(f"did: {len(CASES)} cases ({accepts} accept, {len(CASES) - accepts} reject)")
    for entry in CASES:
        if entry["expect"] == "reject" and "verifies" in entry["reference"]:
            print(f"  reference passes key and signature: {entry['name']}: {entry['reference']}")


if __name__ == "__main__":
    asyncio.run(main())
