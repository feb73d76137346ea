#!/usr/bin/env python3
"""Mints Fixtures/identity/did/: DID-signed login proofs (compact JWS whose `kid` is a DID URL) for did:key,
did:jwk and did:pkh, see Fixtures/identity/FORMAT.md. didkit (spruceid's resolver) derives the DIDs of well-formed
keys and resolves every DID as the reference; `cryptography` signs and checks signatures against the
didkit-resolved JWK.

did:pkh:eip155 names an Ethereum account, not a key: its one verification method `#blockchainAccountId`
(EcdsaSecp256k1RecoveryMethod2020) is proved with ES256K-R, a recoverable secp256k1 signature r||s||v (v = 0 or 1)
over SHA-256 of the signing input. eth-keys signs those (RFC 6979, low s) and, as the reference, recovers the signer
of each and compares its address with the resolved blockchainAccountId. For the signature encodings (high s, v = 27,
64 bytes, alg ES256K) the reference also names what didkit's own ES256K-R verifier does with the same change made
to a proof it issued itself (an EcdsaSecp256k1RecoverySignature2020 presentation, since didkit verifies JWS only
inside presentations and credentials).

did:web (the `web_` cases) is resolved over HTTPS, which didkit does itself (its resolver opens the connection), so
didkit is not used for did:web: here a URL map, web-documents.json (`{"<https URL>": "<file>"}`, the `documents`
option), stands in for the network. The reference follows the did:web Read steps to the document's URL, takes the
document from the map, checks that its `id` is the DID resolved (did:web Read), reads it with pydid (the DID Core
data model: dereferences the `kid`, lists `authentication`), and `cryptography` verifies the signature with the
method's publicKeyJwk or publicKeyMultibase. didkit still derives every publicKeyMultibase (it is the did:key
method-specific id of the key), which works offline.

Run through Tools/gen-identity-fixtures (it makes the venv from did.txt). Writes only Fixtures/identity/did/.
"""
import asyncio
import base64
import datetime
import hashlib
import json
import os
import sys
from importlib.metadata import version

import base58
import didkit
import pydid
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from eth_keys import keys as eth
from eth_keys.exceptions import BadSignature
from eth_utils import ValidationError as EthValidationError
from eth_utils import is_checksum_address, to_checksum_address
from fixture_files import write_if_changed
from pydid.doc.doc import DIDDocumentError

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
PKH = eth.PrivateKey(seed("hanzo-kbs did pkh eip155"))
PKH_OTHER = eth.PrivateKey(seed("hanzo-kbs did pkh eip155 other"))
# did:web keys, one per verification method of the documents below.
WEB_P256 = ec.derive_private_key(int.from_bytes(seed("hanzo-kbs did web p256"), "big"), ec.SECP256R1())
WEB_ED = ed25519.Ed25519PrivateKey.from_private_bytes(seed("hanzo-kbs did web ed25519"))
WEB_ASSERT = ec.derive_private_key(int.from_bytes(seed("hanzo-kbs did web assertion secp256k1"), "big"), ec.SECP256K1())
WEB_PARTNER = ec.derive_private_key(int.from_bytes(seed("hanzo-kbs did web partner p256"), "big"), ec.SECP256R1())
WEB_ALICE = ec.derive_private_key(int.from_bytes(seed("hanzo-kbs did web alice secp256k1"), "big"), ec.SECP256K1())
WEB_PORT = ed25519.Ed25519PrivateKey.from_private_bytes(seed("hanzo-kbs did web port ed25519"))
WEB_CAROL = ec.derive_private_key(int.from_bytes(seed("hanzo-kbs did web carol p256"), "big"), ec.SECP256R1())
WEB_ERIN = ed25519.Ed25519PrivateKey.from_private_bytes(seed("hanzo-kbs did web erin ed25519"))
WEB_OTHER = ec.derive_private_key(int.from_bytes(seed("hanzo-kbs did web other p256"), "big"), ec.SECP256R1())
WEB_ATTACKER = ed25519.Ed25519PrivateKey.from_private_bytes(seed("hanzo-kbs did web attacker ed25519"))
WEB_MAP_FILE = "web-documents.json"
WEB_OPTIONS = {"documents": WEB_MAP_FILE}
WEB_MAP = {}  # URL -> file name, filled by web_cases before any web case is recorded


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


def did_pkh(key, chain=1, checksummed=False):
    """did:pkh:eip155 of an eth-keys key; the address all lower case unless the EIP-55 form is asked for."""
    address = key.public_key.to_checksum_address()
    did = f"did:pkh:eip155:{chain}:{address if checksummed else address.lower()}"
    return did, did + "#blockchainAccountId"


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


def es256kr_signature(key, message):
    """ES256K-R: eth-keys signs SHA-256 of the signing input; r||s||v with v = 0 or 1 (s is low, RFC 6979)."""
    return key.sign_msg_hash(hashlib.sha256(message).digest()).to_bytes()


def high_s_twin(signature):
    """The other valid signature of the same message and key: s' = n - s, recovery id flipped."""
    r, s, v = signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]
    return r + (SECP256K1_N - s).to_bytes(32, "big") + bytes([v ^ 1])


def pkh_jws(key, kid, payload, alg="ES256K-R", change=lambda signature: signature):
    """A did:pkh proof: the ES256K-R signature, after `change` (re-encodings of it: high s, v, length)."""
    header = b64u(compact_json({"alg": alg, "typ": "JWT", "kid": kid}).encode())
    body = b64u(compact_json(payload).encode())
    signature = change(es256kr_signature(key, f"{header}.{body}".encode()))
    return f"{header}.{body}.{b64u(signature)}"


# --- Reference: didkit resolves the kid's DID; cryptography checks the signature with the resolved key (did:pkh:
# eth-keys recovers the signer and compares its address with the resolved blockchainAccountId).

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


def recovered_address(signature, digest):
    """eth-keys' reading of the 65 bytes r||s||v: the signer's address (lower case), or why it refuses them."""
    try:
        return eth.Signature(signature_bytes=signature).recover_public_key_from_msg_hash(digest).to_address(), None
    except (BadSignature, EthValidationError) as error:
        return None, str(error)


def recovery_check(method, alg, message, signature):
    """Returns (the signature recovers the account, words) for an EcdsaSecp256k1RecoveryMethod2020."""
    account = method["blockchainAccountId"].rsplit(":", 1)[1].lower()
    digest = hashlib.sha256(message).digest()
    if alg not in ("ES256K-R", "ES256K"):
        return None, f"; alg {alg} does not fit {method['type']} (ES256K-R)"
    if len(signature) == 64:
        # did-jwt reads 64 bytes under either alg by trying both recovery ids against blockchainAccountId methods.
        found = [v for v in (0, 1) if recovered_address(signature + bytes([v]), digest)[0] == account]
        words = f"; the {alg} signature is r||s without v"
        if found:
            return True, words + f": with recovery id {found[0]} (did-jwt tries both) eth-keys recovers the account"
        return False, words + ": eth-keys recovers the account with neither recovery id"
    address, error = recovered_address(signature, digest)
    if address is None:
        return False, f"; eth-keys refuses the {len(signature)}-byte {alg} signature ({error})"
    high = int.from_bytes(signature[32:64], "big") > SECP256K1_N // 2
    words = f"; eth-keys recovers {address} from the {alg} signature{' (high s: it has no low-s rule)' if high else ''}"
    return address == account, words + (", the account" if address == account else ", not the account")


async def reference(token):
    """Returns (key and signature check passed, words)."""
    label = f"didkit {version('didkit')}"
    header_text, body_text, signature_text = token.split(".")
    header = json.loads(b64u_decode(header_text))
    kid, alg = header["kid"], header["alg"]
    if kid.startswith("did:web:"):
        return web_reference(kid, alg, f"{header_text}.{body_text}".encode(), b64u_decode(signature_text))
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
    message, signature = f"{header_text}.{body_text}".encode(), b64u_decode(signature_text)
    if method["type"] == "EcdsaSecp256k1RecoveryMethod2020":
        ok, more = recovery_check(method, alg, message, signature)
        return bool(ok), f"{label} resolves {method['id']} ({method['type']}, blockchainAccountId " \
                         f"{method['blockchainAccountId']})" + more
    ok = verifies(method["publicKeyJwk"], alg, message, signature)
    if ok is None:
        return False, words + f"; alg {alg} does not fit its publicKeyJwk"
    return ok, words + f"; cryptography {'verifies' if ok else 'rejects'} the {alg} signature with its publicKeyJwk"


async def didkit_own_verifier(change, proof_type="EcdsaSecp256k1RecoverySignature2020",
                              what="the same change to the signature"):
    """What didkit's ES256K-R verifier says when `change` is made to the signature of an authentication proof it
    issued itself for PKH's did:pkh (with proof_type None, didkit's default proof, whose JWS alg is ES256K)."""
    did, kid = did_pkh(PKH)
    public = PKH.public_key.to_bytes()
    jwk = {"kty": "EC", "crv": "secp256k1", "x": b64u(public[:32]), "y": b64u(public[32:]), "d": b64u(PKH.to_bytes())}
    options = {"proofPurpose": "authentication", "verificationMethod": kid, "challenge": NONCE, "created": NOW_TEXT}
    if proof_type:
        options["type"] = proof_type
    presentation = {"@context": ["https://www.w3.org/2018/credentials/v1"], "type": ["VerifiablePresentation"],
                    "holder": did}
    signed = json.loads(await didkit.issue_presentation(json.dumps(presentation), json.dumps(options), json.dumps(jwk)))
    header_text, _, signature_text = signed["proof"]["jws"].split(".")
    alg = json.loads(b64u_decode(header_text))["alg"]
    signed["proof"]["jws"] = f"{header_text}..{b64u(change(b64u_decode(signature_text)))}"
    result = json.loads(await didkit.verify_presentation(json.dumps(signed), json.dumps(
        {"proofPurpose": "authentication", "challenge": NONCE})))
    verdict = "accepts" if not result["errors"] else f"refuses ({'; '.join(result['errors'])})"
    return f"didkit {version('didkit')}'s own verifier {verdict} {what} of an {alg} {signed['proof']['type']} " \
           f"proof it issued for this account"


CASES = []
REFERENCE_PASSES = []


async def case(name, token, expect, *, subject=None, issuer=None, reason=None, attack=None, note=None, also=None,
               options=None):
    write(name + ".jws", token + "\n")
    entry = {"name": name, "credential": name + ".jws"}
    if options:
        entry["options"] = options
    entry["expect"] = expect
    if expect == "accept":
        entry["subject"] = subject
        if issuer:
            entry["issuer"] = issuer
    else:
        entry.update(reason=reason, attack=attack)
    passed, words = await reference(token)
    if expect == "accept" and not passed:
        raise SystemExit(f"{name}: the reference refuses an accept case: {words}")
    if expect == "reject" and passed:
        REFERENCE_PASSES.append(name)
        if note:
            words += f" ({note})"
    if also:
        words += f"; {also}"
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

    await pkh_cases(claims_only)
    await web_cases()

    write("manifest.json", json.dumps({
        "kind": "did", "generator": "Tools/gen-identity-fixtures (did.py)",
        "libraries": {name: version(name) for name in ("didkit", "cryptography", "base58", "eth-keys", "eth-utils",
                                                       "pydid")},
        "now": NOW_TEXT, "options": OPTIONS, "cases": CASES}, indent=2) + "\n")
    accepts = sum(c["expect"] == "accept" for c in CASES)
    print(f"did: {len(CASES)} cases ({accepts} accept, {len(CASES) - accepts} reject)")
    for entry in CASES:
        if entry["name"] in REFERENCE_PASSES:
            print(f"  reference passes key and signature: {entry['name']}: {entry['reference']}")


async def pkh_cases(claims_only):
    """did:pkh:eip155 proofs (ES256K-R), all by PKH unless the case says otherwise."""
    did, kid = did_pkh(PKH)
    for name, (case_did, case_kid) in (("pkh_eip155_1", (did, kid)),
                                       ("pkh_eip155_1_checksummed", did_pkh(PKH, checksummed=True)),
                                       ("pkh_eip155_137", did_pkh(PKH, chain=137))):
        # The subject is the canonical DID, the address in EIP-55 form, whichever case the proof wrote it in: one
        # account must be one principal.
        prefix, address = case_did.rsplit(":", 1)
        await case(name, pkh_jws(PKH, case_kid, claims(case_did)), "accept", subject=prefix + ":" + to_checksum_address(address),
                   issuer="did:pkh")

    # Signer and signature encodings.
    await case("pkh_wrong_signer", pkh_jws(PKH_OTHER, kid, claims(did)), "reject", reason="address",
               attack="ES256K-R signature by another account's key: it recovers that account, not the DID's")
    await case("pkh_high_s", pkh_jws(PKH, kid, claims(did), change=high_s_twin), "reject", reason="malleable",
               attack="the high-s twin of a valid ES256K-R signature (s' = n - s, recovery id flipped)",
               also=await didkit_own_verifier(high_s_twin))
    v27 = lambda signature: signature[:64] + bytes([signature[64] + 27])  # noqa: E731
    await case("pkh_v_27", pkh_jws(PKH, kid, claims(did), change=v27), "reject", reason="malleable",
               attack="recovery id written Ethereum-style as 27/28 instead of ES256K-R's 0/1",
               also=await didkit_own_verifier(v27))
    drop_v = lambda signature: signature[:64]  # noqa: E731
    await case("pkh_signature_64_bytes", pkh_jws(PKH, kid, claims(did), change=drop_v), "reject", reason="signature",
               attack="ES256K-R signature without its recovery byte (r||s, 64 bytes)",
               note="did-jwt's verifyRecoverableES256K reads 64 bytes this way; we require r||s||v",
               also=await didkit_own_verifier(drop_v))
    await case("pkh_alg_es256k", pkh_jws(PKH, kid, claims(did), alg="ES256K", change=drop_v), "reject",
               reason="algorithm", attack="alg ES256K (r||s, no recovery id) against the account's recovery method",
               note="did-jwt's verifyES256K falls back to recovery for blockchainAccountId methods; "
                    "we require ES256K-R",
               also=await didkit_own_verifier(lambda signature: signature, proof_type=None,
                                             what="the unchanged signature"))

    # The DID URL and the binding between iss and kid.
    await case("pkh_fragment_not_blockchain_account_id", pkh_jws(PKH, did + "#controller", claims(did)), "reject",
               reason="verification_method", attack="kid fragment #controller instead of #blockchainAccountId")
    other_did = did_pkh(PKH_OTHER)[0]
    await case("pkh_iss_differs_from_kid", pkh_jws(PKH, kid, claims(other_did)), "reject",
               reason="verification_method",
               attack="iss is another account's did:pkh; kid and signature are this one's",
               note=claims_only)
    await case("pkh_expired", pkh_jws(PKH, kid, claims(did, iat=NOW - 4200, exp=NOW - 3600)), "reject",
               reason="expired", attack="exp an hour ago", note=claims_only)

    # DID syntax: namespace, chain id, address checksum.
    solana = f"did:pkh:solana:4sGjMW1sUnHzSxGspuhpqLDx6wiyjNtZ:{base58.b58encode(raw_public(ED)).decode()}"
    await case("pkh_solana_namespace", jws(ED, solana + "#controller", claims(solana)), "reject", reason="unsupported",
               attack="did:pkh:solana (an Ed25519 account, EdDSA by its key): a namespace we do not verify",
               note="we verify the eip155 namespace only")
    zero_did = did.replace(":eip155:1:", ":eip155:01:")
    await case("pkh_chain_leading_zero", pkh_jws(PKH, zero_did + "#blockchainAccountId", claims(zero_did)), "reject",
               reason="malformed", attack="chain id written 01: a second DID text for chain 1's account",
               note="didkit does not check the chain id's form")
    checksummed = PKH.public_key.to_checksum_address()
    letter = next(i for i, c in enumerate(checksummed) if i >= 2 and c.isalpha())
    bad = checksummed[:letter] + checksummed[letter].swapcase() + checksummed[letter + 1:]
    digits = bad[2:]
    assert any(c.isupper() for c in digits) and any(c.islower() for c in digits) and not is_checksum_address(bad)
    bad_did = f"did:pkh:eip155:1:{bad}"
    await case("pkh_bad_checksum", pkh_jws(PKH, bad_did + "#blockchainAccountId", claims(bad_did)), "reject",
               reason="malformed", attack=f"mixed-case address with one letter's case flipped ({bad}): not EIP-55",
               note=f"didkit does not check EIP-55; eth-utils {version('eth-utils')} is_checksum_address is False")


# --- did:web: DID documents served from the URL map (web-documents.json) instead of HTTPS.

WEB_HOST = "kbs-users.example"
WEB_CONTEXT = ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/suites/jws-2020/v1",
               "https://w3id.org/security/multikey/v1", "https://w3id.org/security/suites/ed25519-2020/v1"]
PRIVATE_JWK_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")


def did_web_url(did):
    """The did:web Read steps: ":" to "/", the port's percent-encoded colon decoded, https://, /.well-known when
    there is no path, /did.json. Nothing else is decoded (so %2F stays %2F in the URL)."""
    domain, *path = did.removeprefix("did:web:").split(":")
    host = domain.replace("%3A", ":").replace("%3a", ":")
    return "https://" + host + ("/" + "/".join(path) if path else "/.well-known") + "/did.json"


def web_method(did, fragment, key, kind="JsonWebKey2020", controller=None, jwk=None):
    """A verification method of `did` (DID Core §5.2): JsonWebKey2020 with publicKeyJwk, or Multikey /
    Ed25519VerificationKey2020 with publicKeyMultibase (didkit's did:key method-specific id of the key)."""
    method = {"id": f"{did}#{fragment}", "type": kind, "controller": controller or did}
    if kind == "JsonWebKey2020":
        method["publicKeyJwk"] = jwk or public_jwk(key)
    else:
        method["publicKeyMultibase"] = did_key(key)[0].removeprefix("did:key:")
    return method


def web_document(did, methods, authentication, document_id=None, **relationships):
    """A DID document (DID Core §5): `id`, `verificationMethod`, and `authentication` (references, or embedded
    methods); every DID URL in it absolute, as did:web asks."""
    document = {"@context": WEB_CONTEXT, "id": document_id or did}
    if methods:
        document["verificationMethod"] = methods
    document["authentication"] = authentication
    document.update(relationships)
    return document


def web_reference(kid, alg, message, signature):
    """Returns (key and signature check passed, words) for a did:web proof, resolved through the URL map."""
    did = kid.split("#")[0]
    url = did_web_url(did)
    words = f"did:web Read gives {url}"
    if url not in WEB_MAP:
        return False, words + "; the map (the network here) has no document there: nothing to resolve"
    with open(os.path.join(OUT, WEB_MAP[url])) as handle:
        raw = json.load(handle)
    if raw.get("id") != did:
        return False, words + f"; its document's id is {raw.get('id')}, not the DID resolved (did:web Read: the id " \
                              "of the resolved document MUST match the DID)"
    label = f"pydid {version('pydid')}"
    try:
        document = pydid.deserialize_document(raw, strict=True)
        method = document.dereference(kid)
    except (DIDDocumentError, ValueError) as error:
        return False, words + f"; {label} finds no verification method {kid.split('#', 1)[1]!r} in it ({error})"
    words += f" ({WEB_MAP[url]}); {label} dereferences {kid} ({method.type})"
    listed = [str(item) if isinstance(item, pydid.DIDUrl) else str(item.id) for item in document.authentication or []]
    if kid not in listed:
        return False, words + ", not listed under authentication (DID Core §5.3.1)"
    if str(method.controller) != did:
        return False, words + f", controlled by {method.controller}, not the DID"
    if method.public_key_jwk is not None:
        jwk, material = method.public_key_jwk, "publicKeyJwk"
        private = [name for name in PRIVATE_JWK_MEMBERS if name in jwk]
        if private:
            return False, words + f"; its publicKeyJwk holds private member {private[0]!r} (DID Core §5.2.1: it " \
                                  "MUST NOT)"
    else:
        material = "publicKeyMultibase"
        decoded = base58.b58decode(method.public_key_multibase.removeprefix("z"))
        assert method.public_key_multibase.startswith("z") and decoded[:2] == varint(ED25519_PUB) and len(decoded) == 34
        jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64u(decoded[2:])}
    ok = verifies(jwk, alg, message, signature)
    if ok is None:
        return False, words + f"; alg {alg} does not fit its {material}"
    return ok, words + f"; cryptography {'verifies' if ok else 'rejects'} the {alg} signature with its {material}" \
                       " (didkit is not used for did:web: it resolves over the network)"


async def web_cases():
    """did:web proofs; each case adds the `documents` option (the URL map) to the manifest's options."""
    root = f"did:web:{WEB_HOST}"
    alice = f"did:web:{WEB_HOST}:users:alice"
    port = f"did:web:{WEB_HOST}%3A8443"
    mallory = f"did:web:{WEB_HOST}:users:mallory"
    carol = f"did:web:{WEB_HOST}:users:carol"
    erin = f"did:web:{WEB_HOST}:users:erin"
    slashed = f"did:web:{WEB_HOST}:users%2Falice"
    partner = "did:web:partner.example"
    assert did_web_url(root) == f"https://{WEB_HOST}/.well-known/did.json"
    assert did_web_url(alice) == f"https://{WEB_HOST}/users/alice/did.json"
    assert did_web_url(port) == f"https://{WEB_HOST}:8443/.well-known/did.json"

    carol_private = {**public_jwk(WEB_CAROL), "d": b64u(WEB_CAROL.private_numbers().private_value.to_bytes(32, "big"))}
    documents = {
        # The domain's DID: P-256 JWK (key-1), Ed25519 Multikey (key-2), a secp256k1 key for assertions only
        # (key-3), and a key listed for authentication but controlled by another DID (key-4).
        "web_root.did.json": (root, web_document(
            root, [web_method(root, "key-1", WEB_P256), web_method(root, "key-2", WEB_ED, "Multikey"),
                   web_method(root, "key-3", WEB_ASSERT), web_method(root, "key-4", WEB_PARTNER, controller=partner)],
            [f"{root}#key-1", f"{root}#key-2", f"{root}#key-4"], assertionMethod=[f"{root}#key-1", f"{root}#key-3"])),
        "web_users_alice.did.json": (alice, web_document(alice, [web_method(alice, "key-1", WEB_ALICE)],
                                                         [f"{alice}#key-1"])),
        # The port DID embeds its method in authentication (DID Core §5.3: a verification relationship may).
        "web_port_8443.did.json": (port, web_document(port, None, [web_method(port, "key-1", WEB_PORT,
                                                                              "Ed25519VerificationKey2020")])),
        # At mallory's path, a document about the domain's own DID, with mallory's method in it.
        "web_users_mallory.did.json": (mallory, web_document(
            mallory, [web_method(mallory, "key-1", WEB_ATTACKER)], [f"{mallory}#key-1"], document_id=root)),
        "web_users_carol.did.json": (carol, web_document(carol, [web_method(carol, "key-1", WEB_CAROL, jwk=carol_private)],
                                                         [f"{carol}#key-1"])),
        # A document for the DID with %2F, at the URL the Read steps give for it: only the DID's form is at fault.
        "web_users_2Falice.did.json": (slashed, web_document(slashed, [web_method(slashed, "key-1", WEB_ALICE)],
                                                             [f"{slashed}#key-1"])),
    }
    WEB_MAP.clear()
    for name, (did, document) in documents.items():
        write(name, json.dumps(document, indent=2) + "\n")
        WEB_MAP[did_web_url(did)] = name
    assert did_web_url(erin) not in WEB_MAP
    write(WEB_MAP_FILE, json.dumps(WEB_MAP, indent=2) + "\n")

    async def web_case(name, key, kid, expect, *, iss=None, **fields):
        did = kid.split("#")[0]
        if expect == "accept":
            fields.update(subject=did, issuer="did:web")
        await case(name, jws(key, kid, claims(iss or did)), expect, options=WEB_OPTIONS, **fields)

    await web_case("web_jwk_p256", WEB_P256, f"{root}#key-1", "accept")
    await web_case("web_multikey_ed25519", WEB_ED, f"{root}#key-2", "accept")
    await web_case("web_path_did", WEB_ALICE, f"{alice}#key-1", "accept")
    await web_case("web_port_did", WEB_PORT, f"{port}#key-1", "accept")

    await web_case("web_document_id_other_did", WEB_ATTACKER, f"{mallory}#key-1", "reject", reason="untrusted_key",
                   attack=f"the document at mallory's path says it is the domain's DID {root} (id), with mallory's "
                          "key listed for authentication")
    await web_case("web_method_assertion_only", WEB_ASSERT, f"{root}#key-3", "reject", reason="verification_method",
                   attack="key-3 is listed under assertionMethod only, not authentication")
    await web_case("web_method_controller_other_did", WEB_PARTNER, f"{root}#key-4", "reject",
                   reason="verification_method",
                   attack=f"key-4 is listed for authentication but its controller is {partner}")
    await web_case("web_fragment_not_in_document", WEB_OTHER, f"{root}#key-9", "reject", reason="verification_method",
                   attack="kid fragment #key-9 names no verification method of the document")
    await web_case("web_jwk_private_d", WEB_CAROL, f"{carol}#key-1", "reject", reason="invalid_key",
                   attack='publicKeyJwk carries the private member "d"')
    await web_case("web_document_not_in_map", WEB_ERIN, f"{erin}#key-1", "reject", reason="fetch",
                   attack=f"no document can be fetched for {erin} ({did_web_url(erin)})")
    await web_case("web_signature_other_key", WEB_OTHER, f"{root}#key-1", "reject", reason="signature",
                   attack="kid is the domain DID's key-1, the ES256 signature is by another P-256 key")
    await web_case("web_percent_2f_in_path", WEB_ALICE, f"{slashed}#key-1", "reject", reason="malformed",
                   attack="did:web with %2F in a path segment: a server that decodes it serves users/alice/did.json, "
                          "a second DID for alice's path", note="the did:web Read steps do not decode or forbid %2F")


if __name__ == "__main__":
    asyncio.run(main())
    # didkit's runtime threads race the interpreter's shutdown (a segfault or abort at exit, now and then): the
    # files are written and closed by now, so leave without finalizing.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
