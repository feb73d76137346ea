#!/usr/bin/env python3
"""Mints Fixtures/identity/eip191/, eip712/ and siwe/: Ethereum sign-in credentials, see Fixtures/identity/FORMAT.md.

eth-account signs every artifact (EIP-191 `personal_sign` through encode_defunct, EIP-712 through encode_typed_data,
both with Account.sign_message; RFC 6979, so the same key and message give the same signature) and recovers the
signer of each as the reference. The `siwe` package (spruceid's Python library) builds the valid EIP-4361 messages
(SiweMessage.prepare_message), parses every message with its ABNF grammar and runs SiweMessage.verify on it.
Two published vectors guard the EIP-712 encoding: the EIP's own "Ether Mail" example (key keccak256("cow")) and
eth-sig-util's signTypedData_v4 example with arrays of structs.

Run through Tools/gen-identity-fixtures (it makes the venv from eth.txt). Writes only Fixtures/identity/eip191/,
Fixtures/identity/eip712/ and Fixtures/identity/siwe/.
"""
import copy
import datetime
import json
import os
import sys
from importlib.metadata import version

HERE = os.path.dirname(os.path.realpath(__file__))
# Python puts this script's folder first on sys.path, where sibling generators (jwt.py) would shadow modules of
# the same name that eth-account imports.
sys.path[:] = [p for p in sys.path if os.path.realpath(p or ".") != HERE]

import pydantic  # noqa: E402
from eth_account import Account  # noqa: E402
from eth_account.messages import _hash_eip191_message, encode_defunct, encode_typed_data  # noqa: E402
from eth_utils import is_checksum_address, keccak  # noqa: E402
from siwe import SiweMessage, VerificationError  # noqa: E402

ROOT = os.path.join(HERE, "..", "..", "Fixtures", "identity")
NOW = datetime.datetime(2026, 11, 25, 12, 0, 0, tzinfo=datetime.timezone.utc)
NOW_TEXT = "2026-11-25T12:00:00Z"
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
ETH_ACCOUNT = f"eth-account {version('eth-account')}"
SIWE = f"siwe {version('siwe')}"

# --- Keys: test keys only, keccak256 of fixed public labels, so every run mints the same signatures.
COW = Account.from_key(keccak(text="cow"))  # the EIP-712 example's signer
ALICE = Account.from_key(keccak(text="hanzo-kbs eth alice"))
BOB = Account.from_key(keccak(text="hanzo-kbs eth bob"))
assert COW.address == "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"


def at(seconds):
    """NOW plus `seconds`, as RFC 3339 with milliseconds (the form siwe writes)."""
    moment = NOW + datetime.timedelta(seconds=seconds)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --- Signatures: 65 bytes r ‖ s ‖ v, written 0x + 130 hex digits.

def sign(signable, account):
    return bytes(Account.sign_message(signable, account.key).signature)


def hex0x(data):
    return "0x" + data.hex()


def with_v(signature, v):
    return signature[:64] + bytes([v])


def high_s_twin(signature):
    """The malleable twin (EIP-2): s' = n - s with the recovery bit flipped; it recovers the same signer."""
    r, s, v = signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]
    assert s <= SECP256K1_N // 2, "eth-account signs low-s"
    return r + (SECP256K1_N - s).to_bytes(32, "big") + bytes([{27: 28, 28: 27}[v]])


def recovered(signable, signature):
    """(address or None, words): what eth-account recovers."""
    try:
        address = Account.recover_message(signable, signature=signature)
    except Exception as error:  # noqa: BLE001 - the reference's own refusal, recorded as words
        return None, f"{ETH_ACCOUNT} refuses the signature ({type(error).__name__}: {str(error)[:90]})"
    return address, f"{ETH_ACCOUNT} recovers {address}"


# --- Output

class Folder:
    """One kind's folder: artifacts, cases and manifest, each written only when its bytes change."""

    def __init__(self, kind, options, libraries):
        self.kind, self.options, self.libraries = kind, options, libraries
        self.out = os.path.join(ROOT, kind)
        self.cases = []
        os.makedirs(self.out, exist_ok=True)

    def write(self, name, data):
        path = os.path.join(self.out, name)
        if os.path.exists(path):
            with open(path, "rb") as handle:
                if handle.read() == data:
                    return
        with open(path, "wb") as handle:
            handle.write(data)

    def case(self, name, credential, expect, *, reason=None, subject=None, issuer=None, attack=None, options=None,
             after=None, reference=None):
        """`credential` is the file's text, or an existing case's file name to reuse (`file:NAME.json`)."""
        if credential.startswith("file:"):
            file = credential[len("file:"):]
        else:
            file = name + ".json"
            self.write(file, credential.encode("utf-8"))
        assert not any(c["name"] == name for c in self.cases), name
        entry = {"name": name, "credential": file, "expect": expect}
        if expect == "accept":
            entry["subject"] = subject
            if issuer:
                entry["issuer"] = issuer
        else:
            entry.update(reason=reason, attack=attack)
        if options:
            entry["options"] = options
        if after:
            assert any(c["name"] == after for c in self.cases), after
            entry["after"] = after
        if reference:
            entry["reference"] = reference
        self.cases.append(entry)

    def finish(self):
        self.write("manifest.json", (json.dumps({
            "kind": self.kind, "generator": "Tools/gen-identity-fixtures (eth.py)",
            "libraries": {name: version(name) for name in self.libraries},
            "now": NOW_TEXT, "options": self.options, "cases": self.cases}, indent=2, ensure_ascii=False) + "\n").encode())
        accepts = sum(c["expect"] == "accept" for c in self.cases)
        print(f"{self.kind}: {len(self.cases)} cases ({accepts} accept, {len(self.cases) - accepts} reject)")
        for entry in self.cases:
            words = entry.get("reference", "")
            if entry["expect"] == "reject" and ("accepts" in words or "(the expected account)" in words):
                print(f"  reference passes: {entry['name']}: {words}")


def credential_json(value, ascii_only=False):
    return json.dumps(value, ensure_ascii=ascii_only) + "\n"


def check_reference(name, expect, reason, address, expected, words):
    """Accepted cases must recover the expected account; `address` cases must recover some other account (so the
    refusal is about who signed, not about a signature that recovers nothing)."""
    if expect == "accept":
        assert address == expected, (name, words)
    if reason == "malleable":  # the twin still recovers the signer, or the library refuses the v outright
        assert address in (expected, None), (name, words)
    if reason == "address":
        assert address is not None and address != expected, (name, words)


def signer_words(signable, signature, expected):
    address, words = recovered(signable, signature)
    if address is not None:
        words += " (the expected account)" if address == expected else f" (not the expected {expected})"
    return address, words


# --- EIP-191 personal_sign

def eip191():
    folder = Folder("eip191", {"address": ALICE.address}, ("eth-account", "eth-keys", "eth-hash", "pycryptodome"))

    def personal(name, message, expect, *, signature=None, signer=ALICE, expected=ALICE.address, ascii_only=False,
                 signed_message=None, note=None, **fields):
        """Signs `signed_message` (default: `message`) with `signer` unless `signature` is given; records eth-account."""
        signable = encode_defunct(text=message)
        if signature is None:
            signature = sign(encode_defunct(text=message if signed_message is None else signed_message), signer)
        address, words = signer_words(signable, signature, expected)
        check_reference(name, expect, fields.get("reason"), address, expected, words)
        if note:
            words += f"; {note}"
        if expect == "accept":
            fields.update(subject=expected, issuer="eip191")
        folder.case(name, credential_json({"message": message, "signature": hex0x(signature)}, ascii_only), expect,
                    reference=words, **fields)
        return signature

    # Deterministic signing fixes v per message: walk a counter until both recovery ids turn up.
    by_v = {}
    counter = 0
    while len(by_v) < 2:
        text = f"Sign in to Hanzo KBS (attempt {counter})"
        by_v.setdefault(sign(encode_defunct(text=text), ALICE)[64], text)
        counter += 1
    good = personal("valid_v27", by_v[27], "accept")
    assert good[64] == 27
    personal("valid_v28", by_v[28], "accept")
    personal("valid_v0", by_v[27], "accept", signature=with_v(good, 0))
    personal("valid_v1", by_v[28], "accept", signature=with_v(sign(encode_defunct(text=by_v[28]), ALICE), 1))
    personal("valid_empty_message", "", "accept")
    unicode_text = "Grüße aus Zürich — 日本語 🔑"
    personal("valid_unicode_message", unicode_text, "accept")
    # The same credential with every non-ASCII character as a \u escape (the emoji as a surrogate pair).
    personal("valid_unicode_escaped_json", unicode_text, "accept", ascii_only=True)
    personal("valid_multiline_message", "Hanzo KBS login\nnonce: 8f1c2a\n", "accept")
    personal("expected_address_lowercase", by_v[27], "accept", options={"address": ALICE.address.lower()})
    personal("expected_address_uppercase", by_v[27], "accept",
             options={"address": "0x" + ALICE.address[2:].upper()})

    # Wrong signer.
    personal("wrong_address", by_v[27], "reject", reason="address", expected=BOB.address,
             options={"address": BOB.address}, attack="a valid signature by another account than the expected one")
    personal("tampered_message", by_v[27] + "!", "reject", reason="address", signed_message=by_v[27],
             attack="message changed after signing: the signature recovers to an unrelated address")
    personal("signed_by_other_key", by_v[27], "reject", reason="address", signer=BOB,
             attack="the message the expected account should sign, signed by another key")

    # Signature encoding.
    personal("high_s", by_v[27], "reject", reason="malleable", signature=high_s_twin(good),
             attack="the high-s twin (s' = n - s, v flipped) of a valid signature (EIP-2)",
             note="it has no low-s rule")
    personal("v_29", by_v[27], "reject", reason="malleable", signature=with_v(good, 29),
             attack="v = 29, outside {0, 1, 27, 28}")
    personal("v_37_eip155", by_v[27], "reject", reason="malleable", signature=with_v(good, 37),
             attack="v = 37, the EIP-155 transaction form (chain 1), which personal_sign never produces",
             note="it reads v >= 35 as EIP-155")
    personal("signature_64_bytes", by_v[27], "reject", reason="malformed", signature=good[:64],
             attack="r ‖ s without v")
    personal("signature_66_bytes", by_v[27], "reject", reason="malformed", signature=good + b"\x00",
             attack="a trailing byte after v")
    personal("signature_zero", by_v[27], "reject", reason="signature", signature=bytes(64) + b"\x1b",
             attack="r = s = 0")
    personal("signature_s_equals_n", by_v[27], "reject", reason="signature",
             signature=good[:32] + SECP256K1_N.to_bytes(32, "big") + good[64:], attack="s = n, not below the group order")
    folder.case("signature_without_0x", credential_json({"message": by_v[27], "signature": good.hex()}), "reject",
                reason="malformed", attack="signature hex without the 0x prefix",
                reference=recovered(encode_defunct(text=by_v[27]), good)[1] + " (it takes bytes, not our JSON text)")

    # Envelope.
    folder.case("not_json", f"message={by_v[27]}&signature={hex0x(good)}\n", "reject", reason="malformed",
                attack="a form-encoded body instead of JSON",
                reference=_json_words(f"message={by_v[27]}&signature={hex0x(good)}"))
    evil = "Transfer all funds to mallory"
    dup = '{"message": %s, "message": %s, "signature": "%s"}\n' % (json.dumps(by_v[27]), json.dumps(evil), hex0x(good))
    folder.case("duplicate_message_member", dup, "reject", reason="malformed",
                attack="two `message` members: a last-wins reader shows a text the signature does not cover",
                reference=f"Python json keeps the last: {json.loads(dup)['message']!r}")
    folder.case("missing_signature", credential_json({"message": by_v[27]}), "reject", reason="malformed",
                attack="no `signature` member")
    folder.case("message_not_string", credential_json({"message": ["x"], "signature": hex0x(good)}), "reject",
                reason="malformed", attack="`message` is an array")

    # Trust options.
    bad_checksum = ALICE.address[:2] + ALICE.address[2:].swapcase()
    if bad_checksum.lower() == bad_checksum or bad_checksum.upper() == bad_checksum:
        raise SystemExit("alice's address has no letters to break the checksum with")
    assert not is_checksum_address(bad_checksum)
    personal("expected_address_bad_checksum", by_v[27], "reject", reason="configuration",
             options={"address": bad_checksum}, note="eth-utils is_checksum_address says False for the configured text",
             attack="the configured --address is mixed case with a wrong EIP-55 checksum (a typo must not pass)")
    folder.finish()


def _json_words(text):
    try:
        json.loads(text)
    except json.JSONDecodeError as error:
        return f"Python json refuses it ({error.msg})"
    return "Python json reads it"


# --- EIP-712 typed data

MAIL_CONTRACT = "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"
DOMAIN_TYPE = [{"name": "name", "type": "string"}, {"name": "version", "type": "string"},
               {"name": "chainId", "type": "uint256"}, {"name": "verifyingContract", "type": "address"}]
MAIL = {  # EIP-712's example (eip-712.md, Example.js), byte for byte the spec's values
    "types": {
        "EIP712Domain": DOMAIN_TYPE,
        "Person": [{"name": "name", "type": "string"}, {"name": "wallet", "type": "address"}],
        "Mail": [{"name": "from", "type": "Person"}, {"name": "to", "type": "Person"},
                 {"name": "contents", "type": "string"}],
    },
    "primaryType": "Mail",
    "domain": {"name": "Ether Mail", "version": "1", "chainId": 1, "verifyingContract": MAIL_CONTRACT},
    "message": {
        "from": {"name": "Cow", "wallet": "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"},
        "to": {"name": "Bob", "wallet": "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB"},
        "contents": "Hello, Bob!",
    },
}
MAIL_DIGEST = "be609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2"
MAIL_SIGNATURE = ("4355c47d63924e8a72e509b65029052eb6c299d53a04e167c5775fd466751c9d"
                  "07299936d304c153f6443dfa05f40ff007d72911b6f72307f996231605b91562" "1c")
# eth-sig-util's signTypedData_v4 example: arrays of addresses and of structs.
MAIL_V4 = {
    "types": {
        "EIP712Domain": DOMAIN_TYPE,
        "Person": [{"name": "name", "type": "string"}, {"name": "wallets", "type": "address[]"}],
        "Mail": [{"name": "from", "type": "Person"}, {"name": "to", "type": "Person[]"},
                 {"name": "contents", "type": "string"}],
    },
    "primaryType": "Mail",
    "domain": {"name": "Ether Mail", "version": "1", "chainId": 1, "verifyingContract": MAIL_CONTRACT},
    "message": {
        "from": {"name": "Cow", "wallets": ["0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826",
                                            "0xDeaDbeefdEAdbeefdEadbEEFdeadbeEFdEaDbeeF"]},
        "to": [{"name": "Bob", "wallets": ["0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB",
                                           "0xB0BdaBea57B0BDABeA57b0bdABEA57b0BDabEa57",
                                           "0xB0B0b0b0b0b0B000000000000000000000000000"]}],
        "contents": "Hello, Bob!",
    },
}
MAIL_V4_DIGEST = "a85c2e2b118698e88db68a8105b794a8cc7cec074e89ef991cb4f5f533819cc2"
MAIL_V4_SIGNATURE = ("65cbd956f2fae28a601bebc9b906cea0191744bd4c4247bcd27cd08f8eb6b71c"
                     "78efdf7a31dc9abee78f492292721f362d296cf86b4538e07b51303b67f74906" "1b")
PAYMENTS_CONTRACT = "0x5FbDB2315678afecb367f032d93F642f64180aa3"


def typed_digest(typed):
    return _hash_eip191_message(encode_typed_data(full_message=typed)).hex()


def eip712():
    folder = Folder("eip712", {"address": COW.address, "chain_id": "1", "verifying_contract": MAIL_CONTRACT,
                               "domain_name": "Ether Mail"}, ("eth-account", "eth-abi", "eth-keys", "eth-hash"))

    def typed_case(name, typed, expect, *, signature=None, signer=COW, signed=None, expected=COW.address, note=None,
                   **fields):
        """Signs `signed` (default: `typed`) with `signer` unless `signature` is given; eth-account recovers the
        signer of `typed` itself where it can encode it."""
        if signature is None:
            signature = sign(encode_typed_data(full_message=typed if signed is None else signed), signer)
        try:
            signable = encode_typed_data(full_message=typed)
        except Exception as error:  # noqa: BLE001 - the reference's refusal is the finding
            address, words = None, f"{ETH_ACCOUNT} cannot encode it ({type(error).__name__}: {str(error)[:100]})"
        else:
            address, words = signer_words(signable, signature, expected)
            words += f"; digest 0x{_hash_eip191_message(signable).hex()}"
            if note:
                words += f" ({note})"
        check_reference(name, expect, fields.get("reason"), address, expected, words)
        if expect == "accept":
            chain = typed["domain"].get("chainId")
            fields.update(subject=expected, issuer=f"eip155:{int(chain, 0) if isinstance(chain, str) else chain}")
        folder.case(name, credential_json({"typedData": typed, "signature": hex0x(signature)}), expect,
                    reference=words, **fields)
        return signature

    # The EIP's own example: eth-account must reproduce the published digest and signature (v = 28).
    assert typed_digest(MAIL) == MAIL_DIGEST
    mail_signature = typed_case("mail_eip712_example", MAIL, "accept")
    assert mail_signature.hex() == MAIL_SIGNATURE, mail_signature.hex()
    typed_case("mail_eip712_example_v1", MAIL, "accept", signature=with_v(mail_signature, 1))

    # Arrays of atomic values and of structs (eth-sig-util's v4 vector).
    assert typed_digest(MAIL_V4) == MAIL_V4_DIGEST
    v4_signature = typed_case("nested_struct_arrays", MAIL_V4, "accept")
    assert v4_signature.hex() == MAIL_V4_SIGNATURE, v4_signature.hex()

    # A login challenge as a relying party would issue it: no verifyingContract.
    login = {
        "types": {
            "EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"},
                             {"name": "chainId", "type": "uint256"}],
            "Login": [{"name": "wallet", "type": "address"}, {"name": "service", "type": "string"},
                      {"name": "nonce", "type": "string"}, {"name": "issuedAt", "type": "uint64"}],
        },
        "primaryType": "Login",
        "domain": {"name": "Hanzo KBS", "version": "1", "chainId": 1},
        "message": {"wallet": ALICE.address, "service": "kbs.example", "nonce": "kbs712nonce1",
                    "issuedAt": int(NOW.timestamp()) - 30},
    }
    login_options = {"address": ALICE.address, "domain_name": "Hanzo KBS", "verifying_contract": None}
    typed_case("login", login, "accept", signer=ALICE, expected=ALICE.address, options=login_options)

    # Every atomic kind the encoder handles, values beyond 64 bits, negative two's complement, multi-dimension arrays.
    payment = {
        "types": {
            "EIP712Domain": DOMAIN_TYPE,
            "Payment": [
                {"name": "payer", "type": "address"}, {"name": "amount", "type": "uint256"},
                {"name": "fee", "type": "uint64"}, {"name": "delta", "type": "int8"}, {"name": "offset", "type": "int256"},
                {"name": "urgent", "type": "bool"}, {"name": "memo", "type": "bytes"}, {"name": "ref", "type": "bytes32"},
                {"name": "tag", "type": "bytes4"}, {"name": "labels", "type": "string[]"},
                {"name": "window", "type": "uint32[2]"}, {"name": "grid", "type": "int16[][]"},
            ],
        },
        "primaryType": "Payment",
        "domain": {"name": "Hanzo KBS Payments", "version": "2", "chainId": 10, "verifyingContract": PAYMENTS_CONTRACT},
        "message": {
            "payer": COW.address, "amount": 10 ** 24, "fee": str(2 ** 64 - 1), "delta": -5, "offset": -(2 ** 255),
            "urgent": True, "memo": "0xdeadbeef", "ref": hex0x(keccak(text="hanzo-kbs payment ref")),
            "tag": "0x01020304", "labels": ["rent", "décembre"], "window": [1764072000, 1764158400],
            "grid": [[1, -2], [], [32767, -32768, 0]],
        },
    }
    typed_case("atomic_types", payment, "accept",
               options={"chain_id": "10", "verifying_contract": PAYMENTS_CONTRACT, "domain_name": "Hanzo KBS Payments"})

    # chainId spellings: the digest is the same as for the number 1 (uint256 of 1 either way).
    as_string = copy.deepcopy(MAIL)
    as_string["domain"]["chainId"] = "1"
    assert typed_digest(as_string) == MAIL_DIGEST
    typed_case("chain_id_decimal_string", as_string, "accept")
    as_hex = copy.deepcopy(MAIL)
    as_hex["domain"]["chainId"] = "0x1"
    assert typed_digest(as_hex) == MAIL_DIGEST
    typed_case("chain_id_hex_string", as_hex, "accept")

    # Domain binding: each artifact is validly signed by the expected account, for another domain.
    for name, change, reason, attack in (
        ("wrong_chain_id", {"chainId": 137}, "chain", "signed for chain 137 (Polygon); we expect chain 1"),
        ("wrong_verifying_contract", {"verifyingContract": "0xDeaDbeefdEAdbeefdEadbEEFdeadbeEFdEaDbeeF"}, "chain",
         "signed for another verifying contract"),
        ("wrong_domain_name", {"name": "Evil Mail"}, "domain", 'signed for domain name "Evil Mail"'),
    ):
        other = copy.deepcopy(MAIL)
        other["domain"].update(change)
        typed_case(name, other, "reject", reason=reason, attack=attack, note="it checks no domain values")
    no_chain = copy.deepcopy(MAIL)
    del no_chain["domain"]["chainId"]
    no_chain["types"]["EIP712Domain"] = [m for m in DOMAIN_TYPE if m["name"] != "chainId"]
    typed_case("domain_without_chain_id", no_chain, "reject", reason="chain",
               attack="a domain with no chainId while we require chain 1 (replayable on every chain)",
               note="it checks no domain values")

    # Signer.
    typed_case("wrong_address", MAIL, "reject", reason="address", expected=BOB.address, options={"address": BOB.address},
               signature=mail_signature, attack="the example signed by Cow, while we expect another account")
    tampered = copy.deepcopy(MAIL)
    tampered["message"]["contents"] = "Hello, Mallory!"
    typed_case("tampered_message", tampered, "reject", reason="address", signature=mail_signature,
               attack="contents changed after signing: the signature recovers to an unrelated address")
    typed_case("high_s", MAIL, "reject", reason="malleable", signature=high_s_twin(mail_signature),
               attack="the high-s twin of the EIP's example signature", note="it has no low-s rule")

    # Structure.
    no_person = copy.deepcopy(MAIL)
    del no_person["types"]["Person"]
    typed_case("missing_struct_type", no_person, "reject", reason="malformed", signature=mail_signature,
               attack="Mail refers to Person, which `types` does not define")
    no_domain_type = copy.deepcopy(MAIL)
    del no_domain_type["types"]["EIP712Domain"]
    typed_case("missing_domain_type", no_domain_type, "reject", reason="malformed", signature=mail_signature,
               attack="`types` has no EIP712Domain to hash the domain with",
               note="it derives EIP712Domain from the domain's keys")
    undefined_primary = copy.deepcopy(MAIL)
    undefined_primary["primaryType"] = "Letter"
    typed_case("primary_type_undefined", undefined_primary, "reject", reason="malformed", signature=mail_signature,
               attack="primaryType names a type `types` does not define")
    extra = copy.deepcopy(MAIL)
    extra["message"]["amount"] = "1000000 ETH"
    assert typed_digest(extra) == MAIL_DIGEST
    typed_case("extra_message_field", extra, "reject", reason="malformed", signature=mail_signature,
               attack="a message member no type declares: unsigned text riding along with a valid signature",
               note="it hashes the declared members only, so the digest is the example's")
    extra_domain = copy.deepcopy(MAIL)
    extra_domain["domain"]["salt"] = hex0x(bytes(32))
    typed_case("extra_domain_field", extra_domain, "reject", reason="malformed", signature=mail_signature,
               attack="a domain member (salt) that EIP712Domain does not declare")
    missing_field = copy.deepcopy(MAIL)
    del missing_field["message"]["contents"]
    typed_case("missing_message_field", missing_field, "reject", reason="malformed", signature=mail_signature,
               attack="the message lacks the declared member `contents`")
    folder.case("typed_data_not_object", credential_json({"typedData": json.dumps(MAIL),
                                                          "signature": hex0x(mail_signature)}), "reject",
                reason="malformed", attack="typedData as a JSON string (eth_signTypedData's wire form) instead of an object")
    folder.finish()


# --- SIWE (EIP-4361)

DOMAIN = "kbs.example"
NONCE = "kbsNonce2026a"
SIWE_OPTIONS = {"domain": DOMAIN, "nonce": NONCE, "chain_id": "1"}


def siwe_message(**fields):
    """The EIP-4361 text siwe writes for `fields` (defaults: a valid sign-in by Alice to kbs.example)."""
    values = {"domain": DOMAIN, "address": ALICE.address, "uri": f"https://{DOMAIN}/login", "version": "1",
              "chain_id": 1, "nonce": NONCE, "issued_at": at(-30)}
    values.update(fields)
    message = SiweMessage(**{k: v for k, v in values.items() if v is not None})
    text = message.prepare_message()
    assert SiweMessage.from_message(text).prepare_message() == text
    return text


def siwe_reference(text, signature, options):
    """What siwe says: whether its ABNF parser takes the text, and what SiweMessage.verify makes of it with our
    domain, nonce and time (it checks no chain and no Issued At)."""
    try:
        parsed = SiweMessage.from_message(text)
    except (ValueError, pydantic.ValidationError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error.__cause__ or error).__name__
        return f"{SIWE} does not parse the message ({first[:100]})"
    if parsed.prepare_message() != text:
        return f"{SIWE} parses the message but writes it back differently"
    try:
        parsed.verify(hex0x(signature), domain=options.get("domain"), nonce=options.get("nonce"), timestamp=NOW)
    except VerificationError as error:
        return f"{SIWE} SiweMessage.verify raises {type(error).__name__}"
    return f"{SIWE} SiweMessage.verify accepts"


def siwe():
    folder = Folder("siwe", SIWE_OPTIONS, ("siwe", "eth-account", "eth-keys", "eth-hash", "abnf", "pydantic"))

    def sign_in(name, text, expect, *, signer=ALICE, signature=None, options=None, note=None, **fields):
        """Signs `text` with `signer` unless `signature` is given; `note` says why siwe may accept a reject case."""
        if signature is None:
            signature = sign(encode_defunct(text=text), signer)
        merged = {k: v for k, v in {**SIWE_OPTIONS, **(options or {})}.items() if v is not None}
        words = siwe_reference(text, signature, merged)
        if note and words.endswith("verify accepts"):
            words += f" ({note})"
        if expect == "accept":
            assert words.endswith("verify accepts"), (name, words)
            address = Account.recover_message(encode_defunct(text=text), signature=signature)
            fields.update(subject=address, issuer="eip155:" + text.split("Chain ID: ")[1].split("\n")[0])
        folder.case(name, credential_json({"message": text, "signature": hex0x(signature)}), expect,
                    options=options, reference=words, **fields)
        return signature

    full = siwe_message(statement="Sign in to Hanzo KBS to unlock your keys.", expiration_time=at(600),
                        not_before=at(-60), request_id="req-7f3a9c",
                        resources=["https://kbs.example/keys/alice", "ipfs://bafybeiemxf5abjwjbikoz4mc3a3dla6ual3jsgpdr4cjr3oz3evfyavhwq"])
    good = sign_in("valid_full", full, "accept", options={"address": ALICE.address})
    sign_in("valid_minimal", siwe_message(nonce="minimal0001", issued_at="2026-11-25T11:59:00Z"), "accept",
            options={"nonce": None, "chain_id": None})
    sign_in("valid_with_scheme", siwe_message(scheme="https"), "accept")
    sign_in("valid_domain_with_port", siwe_message(domain="kbs.example:8443", uri="https://kbs.example:8443/"),
            "accept", options={"domain": "kbs.example:8443"})
    sign_in("valid_v0_signature", full, "accept", signature=with_v(good, good[64] - 27))

    # What the message is for.
    sign_in("wrong_domain", siwe_message(domain="kbs.example.evil.test", uri="https://kbs.example.evil.test/"), "reject",
            reason="domain", attack="a phishing site's sign-in request (its own domain), replayed to us")
    sign_in("wrong_nonce", siwe_message(nonce="otherNonce99"), "reject", reason="nonce",
            attack="a message with a nonce we did not issue")
    sign_in("wrong_chain", siwe_message(chain_id=137), "reject", reason="chain",
            attack="signed for chain 137 while we allow chain 1", note="it checks no Chain ID")

    # When.
    sign_in("expired", siwe_message(issued_at=at(-7200), expiration_time=at(-3600)), "reject", reason="expired",
            attack="Expiration Time an hour ago")
    sign_in("not_yet_valid", siwe_message(not_before=at(3600), expiration_time=at(7200)), "reject",
            reason="not_yet_valid", attack="Not Before an hour ahead")
    sign_in("issued_in_future", siwe_message(issued_at=at(3600), expiration_time=at(7200)), "reject",
            reason="issued_in_future", attack="Issued At an hour ahead (pre-signed for later)",
            note="it does not check Issued At")
    sign_in("stale_without_expiration", siwe_message(issued_at=at(-3600)), "reject", reason="expired",
            attack="no Expiration Time and Issued At an hour ago (our 900 s limit for open-ended messages)",
            note="it sets no age limit")

    # Who.
    sign_in("signer_not_message_address", siwe_message(), "reject", reason="address", signer=BOB,
            attack="the message names Alice; Bob signed it")
    sign_in("expected_address_mismatch", siwe_message(address=BOB.address), "reject", reason="address", signer=BOB,
            options={"address": ALICE.address}, attack="Bob signs in correctly, but --address expects Alice",
            note="it takes no expected address")

    # Replay: the nonce is single use.
    folder.case("replay_same_message", "file:valid_full.json", "reject", reason="replay", after="valid_full",
                attack="valid_full presented a second time", reference=f"{SIWE} keeps no replay state")
    sign_in("replay_same_nonce", siwe_message(issued_at=at(-10), request_id="req-second"), "reject",
            reason="replay", after="valid_full", attack="a second, freshly signed message reusing valid_full's nonce",
            note="it keeps no replay state")

    # Grammar (EIP-4361 ABNF).
    valid = siwe_message()
    lines = valid.split("\n")
    for name, text, attack in (
        ("missing_header_line", "\n".join(lines[1:]), "no `… wants you to sign in with your Ethereum account:` line"),
        ("header_wrong_wording", valid.replace("with your Ethereum account:", "with your account:"),
         "the first line misquotes the fixed wording"),
        ("address_lowercase", valid.replace(ALICE.address, ALICE.address.lower()),
         "the address in all lower case (EIP-4361 requires the EIP-55 checksummed form)"),
        ("address_bad_checksum", valid.replace(ALICE.address, ALICE.address[:2] + ALICE.address[2:].swapcase()),
         "the address in mixed case with a wrong EIP-55 checksum"),
        ("extra_blank_line", valid.replace("\n\n\nURI:", "\n\n\n\nURI:"), "three blank lines before URI"),
        ("statement_two_lines", siwe_message(statement="Sign in").replace("Sign in\n", "Sign in\nand pay\n"),
         "a statement that runs over two lines"),
        ("version_2", valid.replace("Version: 1", "Version: 2"), "Version: 2"),
        ("trailing_newline", valid + "\n", "a line feed after the last field"),
        ("crlf_line_endings", valid.replace("\n", "\r\n"), "CR LF line endings"),
        ("nonce_too_short", valid.replace(NONCE, "kbs2026"), "a 7-character nonce (at least 8 required)"),
        ("nonce_not_alphanumeric", valid.replace(NONCE, "kbs-nonce-2026"), "a nonce with `-`"),
        ("fields_out_of_order", valid.replace(f"Chain ID: 1\nNonce: {NONCE}", f"Nonce: {NONCE}\nChain ID: 1"),
         "Nonce before Chain ID"),
        ("unknown_field", valid + "\nSession: admin", "a field EIP-4361 does not define"),
        ("issued_at_not_rfc3339", valid.replace(at(-30), "2026-11-25 11:59:30"), "Issued At without `T` and offset"),
        ("chain_id_plus_sign", valid.replace("Chain ID: 1", "Chain ID: +1"),
         "Chain ID `+1` (the ABNF is 1*DIGIT; a lax integer parser reads 1)"),
        ("statement_bidi_override",
         siwe_message(statement="Sign in to Hanzo KBS").replace("Sign in to Hanzo KBS", "Sign in \u202eSBK oznaH ot"),
         "a statement with U+202E RIGHT-TO-LEFT OVERRIDE (the statement is ASCII by the ABNF)"),
    ):
        sign_in(name, text, "reject", reason="malformed", attack=attack)

    # Signature.
    sign_in("high_s", full, "reject", reason="malleable", signature=high_s_twin(good),
            attack="the high-s twin of valid_full's signature (EIP-2)", note="eth-account has no low-s rule")
    sign_in("v_29", full, "reject", reason="malleable", signature=with_v(good, 29), attack="v = 29")
    sign_in("signature_truncated", full, "reject", reason="malformed", signature=good[:64], attack="r ‖ s without v")
    folder.finish()


if __name__ == "__main__":
    eip191()
    eip712()
    siwe()
