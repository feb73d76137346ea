#!/usr/bin/env python3
"""Drives `kbs serve`'s AWS KMS API with unmodified AWS clients (issue 16): boto3 with real SigV4, and the AWS CLI.

Every request goes over HTTP to the server given; nothing here is a fake or a stand-in for it. Each scenario runs a
list of checks and prints one JSON object, {"checks": [{"name", "ok", "detail"?}]}, on stdout; the Swift tests
(Tests/KBSServerTests/KMSEndToEndTests.swift) assert every check passed.

    boto3      every operation: keys, aliases, encryption and its context, data keys, re-encryption, random bytes, key
               states, deletion, rotation, tags, Sign/Verify/GetPublicKey (checked with `cryptography`), wrong secrets
               and keys, denials
    bad-input  raw requests signed by botocore's own SigV4 signer: malformed JSON, wrong types, bad base64, oversized
               bodies, unknown targets, no or broken signatures, a stale date; then /healthz must still answer
    tier       a key whose required tier is 2: refused to the API key alone, served with an attestation token (attested
               with the same API key as credential) as the session token (--session-token); a token borrowed by another
               API key, or attested without a credential (--unbound-session-token), refused
    cli        `aws kms encrypt` / `aws kms decrypt` with --endpoint-url, through files as the CLI documents
    revoked    the access key given was revoked: every request UnrecognizedClientException
    sweep-setup  a key with an alias encrypts, then has its deletion scheduled (7 days); prints the key id and the
               ciphertext as "state" beside the checks, for the key sweeper's test to destroy it unasked
    sweep-check  after the sweeper destroyed that key (--key, --blob): its ciphertext no longer decrypts, the key and its
               alias are gone from DescribeKey, ListKeys and ListAliases

Run with the tests' venv: .venv-test/bin/python Tools/clients/kms-client.py SCENARIO --endpoint URL --access-key ID
--secret SECRET [--other-access-key ID --other-secret SECRET] [--session-token TOKEN]. Tools/bootstrap pins boto3,
awscli and cryptography.
"""
import os
import sys

# Python puts this script's folder first on sys.path; drop it so no sibling file can shadow a library module.
HERE = os.path.dirname(os.path.realpath(__file__))
sys.path[:] = [p for p in sys.path if os.path.realpath(p or os.curdir) != HERE]

import importlib.util  # noqa: E402

_spec = importlib.util.spec_from_file_location("kbs_client_checks", os.path.join(HERE, "client_checks.py"))
_checks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_checks)
Checks = _checks.Checks

import argparse  # noqa: E402
import base64  # noqa: E402
import datetime  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import urllib.error  # noqa: E402
import urllib.request  # noqa: E402

import boto3  # noqa: E402
import botocore.auth  # noqa: E402
import botocore.awsrequest  # noqa: E402
import botocore.credentials  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402
from cryptography.exceptions import InvalidSignature  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, padding, utils  # noqa: E402

REGION = "eu-central-1"


def client(args, access_key=None, secret=None, session_token=None):
    return boto3.client(
        "kms", endpoint_url=args.endpoint, region_name=REGION,
        aws_access_key_id=access_key or args.access_key, aws_secret_access_key=secret or args.secret,
        aws_session_token=session_token,
        config=Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=30))


def expect_error(code, function, *arguments, **keywords):
    """Calls function and requires a ClientError with `code` (and a 4xx status); returns the message."""
    try:
        function(*arguments, **keywords)
    except ClientError as error:
        got = error.response["Error"]["Code"]
        status = error.response["ResponseMetadata"]["HTTPStatusCode"]
        assert got == code, f"expected {code}, got {got}: {error.response['Error'].get('Message')}"
        assert 400 <= status < 500, f"{code} came with status {status}"
        return error.response["Error"].get("Message")
    raise AssertionError(f"expected {code}, but the call succeeded")


def require(condition, message):
    if not condition:
        raise AssertionError(message)


# MARK: boto3: every operation


def scenario_boto3(args, checks):
    kms = client(args)
    state = {}

    def create():
        meta = kms.create_key(Description="e2e symmetric", Tags=[{"TagKey": "team", "TagValue": "e2e"}])["KeyMetadata"]
        require(meta["KeyState"] == "Enabled" and meta["Enabled"], meta)
        require(meta["KeyUsage"] == "ENCRYPT_DECRYPT" and meta["KeySpec"] == "SYMMETRIC_DEFAULT", meta)
        require(meta["Arn"] == f"arn:aws:kms:{REGION}:{meta['AWSAccountId']}:key/{meta['KeyId']}", meta["Arn"])
        require(meta["EncryptionAlgorithms"] == ["SYMMETRIC_DEFAULT"] and meta["Description"] == "e2e symmetric", meta)
        state["key"], state["arn"] = meta["KeyId"], meta["Arn"]
        state["other"] = kms.create_key(Description="e2e second")["KeyMetadata"]["KeyId"]
    checks.run("CreateKey SYMMETRIC_DEFAULT answers KeyMetadata with the ARN in the signing region", create)

    def aliases():
        kms.create_alias(AliasName="alias/e2e-main", TargetKeyId=state["key"])
        kms.create_alias(AliasName="alias/e2e-spare", TargetKeyId=state["arn"])
        expect_error("AlreadyExistsException", kms.create_alias, AliasName="alias/e2e-main", TargetKeyId=state["other"])
        expect_error("InvalidAliasNameException", kms.create_alias, AliasName="alias/aws/mine", TargetKeyId=state["key"])
        expect_error("NotFoundException", kms.create_alias, AliasName="alias/e2e-x", TargetKeyId="00000000-0000-0000-0000-000000000000")
        listed = kms.list_aliases(KeyId=state["key"])["Aliases"]
        require(sorted(a["AliasName"] for a in listed) == ["alias/e2e-main", "alias/e2e-spare"], listed)
        require(all(a["TargetKeyId"] == state["key"] and a["AliasArn"].endswith(":" + a["AliasName"]) for a in listed), listed)
        kms.update_alias(AliasName="alias/e2e-spare", TargetKeyId=state["other"])
        require(kms.describe_key(KeyId="alias/e2e-spare")["KeyMetadata"]["KeyId"] == state["other"], "UpdateAlias")
        kms.delete_alias(AliasName="alias/e2e-spare")
        expect_error("NotFoundException", kms.delete_alias, AliasName="alias/e2e-spare")
        expect_error("NotFoundException", kms.describe_key, KeyId="alias/e2e-spare")
    checks.run("CreateAlias, UpdateAlias, ListAliases by key, DeleteAlias; duplicates, reserved names, unknown targets refused", aliases)

    def describe():
        account = kms.describe_key(KeyId=state["key"])["KeyMetadata"]["AWSAccountId"]
        alias_arn = f"arn:aws:kms:{REGION}:{account}:alias/e2e-main"
        for reference in (state["key"], state["arn"], "alias/e2e-main", alias_arn):
            require(kms.describe_key(KeyId=reference)["KeyMetadata"]["KeyId"] == state["key"], reference)
        expect_error("NotFoundException", kms.describe_key, KeyId="11111111-2222-3333-4444-555555555555")
        expect_error("NotFoundException", kms.describe_key, KeyId="alias/none-such")
        expect_error("NotFoundException", kms.describe_key, KeyId="not a key id")
    checks.run("DescribeKey by key id, key ARN, alias name and alias ARN; unknown keys NotFoundException", describe)

    def list_keys():
        extra = [kms.create_key(Description=f"page {n}")["KeyMetadata"]["KeyId"] for n in range(3)]
        seen, marker, pages = [], None, 0
        while True:
            page = kms.list_keys(Limit=2, **({"Marker": marker} if marker else {}))
            pages += 1
            require(len(page["Keys"]) <= 2, page)
            seen += [k["KeyId"] for k in page["Keys"]]
            require(all(k["KeyArn"].endswith("key/" + k["KeyId"]) for k in page["Keys"]), page)
            if not page["Truncated"]:
                break
            marker = page["NextMarker"]
        require(len(seen) == len(set(seen)), f"a key listed twice: {seen}")
        require({state["key"], state["other"], *extra} <= set(seen), f"missing keys: {seen}")
        require(pages >= 3, f"{pages} pages")
        expect_error("InvalidMarkerException", kms.list_keys, Marker="garbage")
        paginated = [k["KeyId"] for page in kms.get_paginator("list_keys").paginate(PaginationConfig={"PageSize": 1})
                     for k in page["Keys"]]
        require(paginated == seen, "boto3's paginator sees the same keys")
    checks.run("ListKeys pages with Limit and NextMarker (and boto3's paginator); a bad marker InvalidMarkerException", list_keys)

    def encrypt_decrypt():
        context = {"purpose": "e2e", "Tenant": "ACME"}
        sealed = kms.encrypt(KeyId="alias/e2e-main", Plaintext=b"the secret", EncryptionContext=context)
        require(sealed["KeyId"] == state["arn"] and sealed["EncryptionAlgorithm"] == "SYMMETRIC_DEFAULT", sealed)
        state["blob"], state["context"] = sealed["CiphertextBlob"], context
        opened = kms.decrypt(CiphertextBlob=sealed["CiphertextBlob"], EncryptionContext=dict(reversed(list(context.items()))))
        require(opened["Plaintext"] == b"the secret" and opened["KeyId"] == state["arn"], opened)
        opened = kms.decrypt(CiphertextBlob=sealed["CiphertextBlob"], EncryptionContext=context, KeyId=state["key"])
        require(opened["Plaintext"] == b"the secret", opened)
        expect_error("IncorrectKeyException", kms.decrypt, CiphertextBlob=sealed["CiphertextBlob"], EncryptionContext=context,
                     KeyId=state["other"])
        big = kms.encrypt(KeyId=state["key"], Plaintext=b"x" * 4096)
        require(len(big["CiphertextBlob"]) <= 6144, len(big["CiphertextBlob"]))
        require(kms.decrypt(CiphertextBlob=big["CiphertextBlob"])["Plaintext"] == b"x" * 4096, "4096 bytes")
        expect_error("ValidationException", kms.encrypt, KeyId=state["key"], Plaintext=b"x" * 4097)
        expect_error("UnsupportedOperationException", kms.encrypt, KeyId=state["key"], Plaintext=b"x", DryRun=True)
    checks.run("Encrypt and Decrypt with an encryption context, no KeyId needed; a wrong KeyId IncorrectKeyException", encrypt_decrypt)

    def context_bound():
        blob, context = state["blob"], state["context"]
        for changed in ({"purpose": "e2e"}, {**context, "extra": "x"}, {"purpose": "E2E", "Tenant": "ACME"},
                        {"Purpose": "e2e", "Tenant": "ACME"}, {}):
            expect_error("InvalidCiphertextException", kms.decrypt, CiphertextBlob=blob, EncryptionContext=changed)
        for position in (0, 5, 8, 40, 46, 60, len(blob) // 2, len(blob) - 17, len(blob) - 1):
            altered = bytearray(blob)
            altered[position] ^= 0x01
            expect_error("InvalidCiphertextException", kms.decrypt, CiphertextBlob=bytes(altered), EncryptionContext=context)
        expect_error("InvalidCiphertextException", kms.decrypt, CiphertextBlob=blob[:-1], EncryptionContext=context)
        expect_error("InvalidCiphertextException", kms.decrypt, CiphertextBlob=b"not a ciphertext at all", EncryptionContext=context)
    checks.run("A changed encryption context (value, key case, pair added or left out) or any changed byte InvalidCiphertextException",
               context_bound)

    def data_keys():
        made = kms.generate_data_key(KeyId=state["key"], KeySpec="AES_256", EncryptionContext={"file": "a"})
        require(len(made["Plaintext"]) == 32 and made["KeyId"] == state["arn"], made["KeyId"])
        opened = kms.decrypt(CiphertextBlob=made["CiphertextBlob"], EncryptionContext={"file": "a"})
        require(opened["Plaintext"] == made["Plaintext"], "the data key decrypts to its plaintext")
        require(len(kms.generate_data_key(KeyId=state["key"], KeySpec="AES_128")["Plaintext"]) == 16, "AES_128")
        require(len(kms.generate_data_key(KeyId=state["key"], NumberOfBytes=64)["Plaintext"]) == 64, "64 bytes")
        bare = kms.generate_data_key_without_plaintext(KeyId="alias/e2e-main", KeySpec="AES_256")
        require("Plaintext" not in bare, bare.keys())
        require(len(kms.decrypt(CiphertextBlob=bare["CiphertextBlob"])["Plaintext"]) == 32, "without plaintext decrypts")
        expect_error("ValidationException", kms.generate_data_key, KeyId=state["key"])
        expect_error("ValidationException", kms.generate_data_key, KeyId=state["key"], KeySpec="AES_256", NumberOfBytes=32)
    checks.run("GenerateDataKey (AES_256, AES_128, NumberOfBytes) and GenerateDataKeyWithoutPlaintext; neither or both ValidationException",
               data_keys)

    def reencrypt():
        moved = kms.re_encrypt(CiphertextBlob=state["blob"], SourceEncryptionContext=state["context"],
                               DestinationKeyId=state["other"], DestinationEncryptionContext={"moved": "yes"})
        require("Plaintext" not in moved, "ReEncrypt never returns the plaintext")
        require(moved["SourceKeyId"] == state["arn"] and moved["KeyId"].endswith(state["other"]), moved)
        opened = kms.decrypt(CiphertextBlob=moved["CiphertextBlob"], EncryptionContext={"moved": "yes"})
        require(opened["Plaintext"] == b"the secret" and opened["KeyId"].endswith(state["other"]), opened)
        expect_error("InvalidCiphertextException", kms.re_encrypt, CiphertextBlob=state["blob"],
                     SourceEncryptionContext={"wrong": "context"}, DestinationKeyId=state["other"])
    checks.run("ReEncrypt to another key and context; the old context must match", reencrypt)

    def random():
        one, two = (kms.generate_random(NumberOfBytes=32)["Plaintext"] for _ in range(2))
        require(len(one) == 32 and one != two, "32 fresh bytes each time")
        require(len(kms.generate_random(NumberOfBytes=1024)["Plaintext"]) == 1024, "1024 bytes")
        expect_error("ValidationException", kms.generate_random, NumberOfBytes=1025)
    checks.run("GenerateRandom", random)

    def disabled():
        kms.disable_key(KeyId=state["other"])
        require(kms.describe_key(KeyId=state["other"])["KeyMetadata"]["KeyState"] == "Disabled", "Disabled")
        expect_error("DisabledException", kms.encrypt, KeyId=state["other"], Plaintext=b"x")
        sealed_before = kms.re_encrypt(CiphertextBlob=state["blob"], SourceEncryptionContext=state["context"],
                                       DestinationKeyId=state["key"])["CiphertextBlob"]
        require(sealed_before, "re-encrypted under the enabled key")
        expect_error("DisabledException", kms.generate_data_key, KeyId=state["other"], KeySpec="AES_256")
        kms.enable_key(KeyId=state["other"])
        kms.encrypt(KeyId=state["other"], Plaintext=b"x")
    checks.run("DisableKey: the key refuses use (DisabledException) until EnableKey", disabled)

    def deletion():
        doomed = kms.create_key(Description="doomed")["KeyMetadata"]["KeyId"]
        blob = kms.encrypt(KeyId=doomed, Plaintext=b"bye")["CiphertextBlob"]
        expect_error("ValidationException", kms.schedule_key_deletion, KeyId=doomed, PendingWindowInDays=3)
        scheduled = kms.schedule_key_deletion(KeyId=doomed, PendingWindowInDays=7)
        require(scheduled["KeyState"] == "PendingDeletion" and scheduled["PendingWindowInDays"] == 7, scheduled)
        days = (scheduled["DeletionDate"] - datetime.datetime.now(datetime.timezone.utc)).total_seconds() / 86400
        require(6.9 < days < 7.1, f"deletion in {days} days")
        meta = kms.describe_key(KeyId=doomed)["KeyMetadata"]
        require(meta["KeyState"] == "PendingDeletion" and meta["PendingDeletionWindowInDays"] == 7 and not meta["Enabled"], meta)
        expect_error("KMSInvalidStateException", kms.encrypt, KeyId=doomed, Plaintext=b"x")
        expect_error("KMSInvalidStateException", kms.decrypt, CiphertextBlob=blob)
        expect_error("KMSInvalidStateException", kms.enable_key, KeyId=doomed)
        expect_error("KMSInvalidStateException", kms.schedule_key_deletion, KeyId=doomed, PendingWindowInDays=7)
        require(kms.cancel_key_deletion(KeyId=doomed)["KeyId"].endswith(doomed), "cancelled")
        require(kms.describe_key(KeyId=doomed)["KeyMetadata"]["KeyState"] == "Disabled", "cancelling leaves it disabled")
        kms.enable_key(KeyId=doomed)
        require(kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"bye", "usable again")
        expect_error("KMSInvalidStateException", kms.cancel_key_deletion, KeyId=doomed)
    checks.run("ScheduleKeyDeletion (7-30 days): pending deletion refuses use (KMSInvalidStateException); CancelKeyDeletion leaves it Disabled",
               deletion)

    def rotation():
        status = kms.get_key_rotation_status(KeyId=state["key"])
        require(status["KeyRotationEnabled"] is False, status)
        kms.enable_key_rotation(KeyId=state["key"], RotationPeriodInDays=180)
        status = kms.get_key_rotation_status(KeyId=state["key"])
        require(status["KeyRotationEnabled"] and status["RotationPeriodInDays"] == 180, status)
        days = (status["NextRotationDate"] - datetime.datetime.now(datetime.timezone.utc)).total_seconds() / 86400
        require(179.9 < days < 180.1, f"next rotation in {days} days")
        expect_error("ValidationException", kms.enable_key_rotation, KeyId=state["key"], RotationPeriodInDays=3000)
        old = kms.encrypt(KeyId=state["key"], Plaintext=b"before rotation")["CiphertextBlob"]
        kms.rotate_key_on_demand(KeyId=state["key"])
        new = kms.encrypt(KeyId=state["key"], Plaintext=b"after rotation")["CiphertextBlob"]
        require(kms.decrypt(CiphertextBlob=old)["Plaintext"] == b"before rotation", "the old version still decrypts")
        require(kms.decrypt(CiphertextBlob=new)["Plaintext"] == b"after rotation", "the new version decrypts")
        require(kms.decrypt(CiphertextBlob=state["blob"], EncryptionContext=state["context"])["Plaintext"] == b"the secret", "first blob")
        kms.disable_key_rotation(KeyId=state["key"])
        require(kms.get_key_rotation_status(KeyId=state["key"])["KeyRotationEnabled"] is False, "rotation off")
    checks.run("EnableKeyRotation/GetKeyRotationStatus/DisableKeyRotation; RotateKeyOnDemand keeps old ciphertexts decryptable", rotation)

    def tags():
        kms.tag_resource(KeyId=state["key"], Tags=[{"TagKey": "env", "TagValue": "test"}, {"TagKey": "team", "TagValue": "kbs"}])
        listed = kms.list_resource_tags(KeyId=state["key"])["Tags"]
        require(listed == [{"TagKey": "env", "TagValue": "test"}, {"TagKey": "team", "TagValue": "kbs"}], listed)
        page = kms.list_resource_tags(KeyId=state["key"], Limit=1)
        require(page["Truncated"] and page["Tags"] == [{"TagKey": "env", "TagValue": "test"}], page)
        rest = kms.list_resource_tags(KeyId=state["key"], Limit=1, Marker=page["NextMarker"])
        require(rest["Tags"] == [{"TagKey": "team", "TagValue": "kbs"}] and not rest["Truncated"], rest)
        kms.untag_resource(KeyId=state["key"], TagKeys=["env"])
        require(kms.list_resource_tags(KeyId=state["key"])["Tags"] == [{"TagKey": "team", "TagValue": "kbs"}], "untagged")
        expect_error("TagException", kms.tag_resource, KeyId=state["key"], Tags=[{"TagKey": "aws:reserved", "TagValue": "x"}])
        kms.update_key_description(KeyId=state["key"], Description="renamed")
        require(kms.describe_key(KeyId=state["key"])["KeyMetadata"]["Description"] == "renamed", "UpdateKeyDescription")
    checks.run("TagResource, ListResourceTags (paged), UntagResource, UpdateKeyDescription; reserved tag keys TagException", tags)

    def ecc():
        meta = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY", Description="e2e ecc")["KeyMetadata"]
        require(meta["SigningAlgorithms"] == ["ECDSA_SHA_256"] and "EncryptionAlgorithms" not in meta, meta)
        key = meta["KeyId"]
        public = kms.get_public_key(KeyId=key)
        require(public["KeySpec"] == "ECC_NIST_P256" and public["SigningAlgorithms"] == ["ECDSA_SHA_256"], public)
        verifier = serialization.load_der_public_key(public["PublicKey"])
        require(isinstance(verifier, ec.EllipticCurvePublicKey) and verifier.curve.name == "secp256r1", "a P-256 SPKI")
        message = b"sign me, P-256"
        signature = kms.sign(KeyId=key, Message=message, SigningAlgorithm="ECDSA_SHA_256")["Signature"]
        verifier.verify(signature, message, ec.ECDSA(hashes.SHA256()))
        digest = hashlib.sha256(message).digest()
        signed = kms.sign(KeyId=key, Message=digest, MessageType="DIGEST", SigningAlgorithm="ECDSA_SHA_256")["Signature"]
        verifier.verify(signed, digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
        require(kms.verify(KeyId=key, Message=message, Signature=signature, SigningAlgorithm="ECDSA_SHA_256")["SignatureValid"], "valid")
        require(kms.verify(KeyId=key, Message=digest, MessageType="DIGEST", Signature=signature,
                           SigningAlgorithm="ECDSA_SHA_256")["SignatureValid"], "valid over its digest")
        expect_error("KMSInvalidSignatureException", kms.verify, KeyId=key, Message=b"another message", Signature=signature,
                     SigningAlgorithm="ECDSA_SHA_256")
        expect_error("InvalidKeyUsageException", kms.sign, KeyId=key, Message=message, SigningAlgorithm="RSASSA_PSS_SHA_256")
        expect_error("InvalidKeyUsageException", kms.encrypt, KeyId=key, Plaintext=b"x")
        expect_error("InvalidKeyUsageException", kms.sign, KeyId=state["key"], Message=message, SigningAlgorithm="ECDSA_SHA_256")
        expect_error("UnsupportedOperationException", kms.get_public_key, KeyId=state["key"])
        expect_error("UnsupportedOperationException", kms.enable_key_rotation, KeyId=key)
        expect_error("ValidationException", kms.sign, KeyId=key, Message=b"short", MessageType="DIGEST", SigningAlgorithm="ECDSA_SHA_256")
    checks.run("ECC_NIST_P256: Sign (RAW and DIGEST) and Verify, GetPublicKey checked by `cryptography`; wrong uses refused", ecc)

    def rsa():
        meta = kms.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
        key = meta["KeyId"]
        require("RSASSA_PSS_SHA_256" in meta["SigningAlgorithms"] and "RSASSA_PKCS1_V1_5_SHA_512" in meta["SigningAlgorithms"], meta)
        verifier = serialization.load_der_public_key(kms.get_public_key(KeyId=key)["PublicKey"])
        require(verifier.key_size == 2048, "an RSA 2048 SPKI")
        message = b"sign me, RSA"
        for algorithm, pad, digest in (
            ("RSASSA_PSS_SHA_256", padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256()),
            ("RSASSA_PSS_SHA_512", padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64), hashes.SHA512()),
            ("RSASSA_PKCS1_V1_5_SHA_384", padding.PKCS1v15(), hashes.SHA384()),
        ):
            signature = kms.sign(KeyId=key, Message=message, SigningAlgorithm=algorithm)["Signature"]
            verifier.verify(signature, message, pad, digest)
            require(kms.verify(KeyId=key, Message=message, Signature=signature, SigningAlgorithm=algorithm)["SignatureValid"], algorithm)
        bad = bytearray(kms.sign(KeyId=key, Message=message, SigningAlgorithm="RSASSA_PSS_SHA_256")["Signature"])
        bad[10] ^= 1
        expect_error("KMSInvalidSignatureException", kms.verify, KeyId=key, Message=message, Signature=bytes(bad),
                     SigningAlgorithm="RSASSA_PSS_SHA_256")
        try:
            verifier.verify(bytes(bad), message, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256())
            raise AssertionError("cryptography accepted an altered signature")
        except InvalidSignature:
            pass
        expect_error("UnsupportedOperationException", kms.create_key, KeySpec="ECC_SECG_P256K1", KeyUsage="SIGN_VERIFY")
        expect_error("ValidationException", kms.create_key, KeySpec="RSA_2048", KeyUsage="ENCRYPT_DECRYPT")
    checks.run("RSA_2048: RSASSA-PSS and PKCS #1 v1.5 signatures checked by `cryptography`; a changed signature refused", rsa)

    def credentials():
        wrong = client(args, secret=args.secret[:-2] + ("AA" if not args.secret.endswith("AA") else "BB"))
        expect_error("InvalidSignatureException", wrong.describe_key, KeyId=state["key"])
        expect_error("InvalidSignatureException", wrong.encrypt, KeyId=state["key"], Plaintext=b"x")
        unknown = client(args, access_key="0000000000000000")
        expect_error("UnrecognizedClientException", unknown.list_keys)
        forged = client(args, session_token="not-an-attestation-token")
        expect_error("UnrecognizedClientException", forged.list_keys)
    checks.run("A wrong secret InvalidSignatureException; an unknown access key or a forged session token UnrecognizedClientException",
               credentials)

    if args.other_access_key:
        def other_caller():
            other = client(args, access_key=args.other_access_key, secret=args.other_secret)
            expect_error("AccessDeniedException", other.encrypt, KeyId=state["key"], Plaintext=b"x")
            expect_error("AccessDeniedException", other.decrypt, CiphertextBlob=state["blob"], EncryptionContext=state["context"])
            expect_error("AccessDeniedException", other.describe_key, KeyId=state["key"])
            expect_error("AccessDeniedException", other.disable_key, KeyId=state["key"])
            expect_error("AccessDeniedException", other.schedule_key_deletion, KeyId=state["key"], PendingWindowInDays=7)
            mine = other.create_key()["KeyMetadata"]["KeyId"]
            require(other.decrypt(CiphertextBlob=other.encrypt(KeyId=mine, Plaintext=b"own")["CiphertextBlob"])["Plaintext"] == b"own",
                    "the other caller uses its own key")
        checks.run("Another API key is refused every use and management of the first's key (AccessDeniedException)", other_caller)

    if args.other_access_key and args.admin_token:
        def roles():
            other = client(args, access_key=args.other_access_key, secret=args.other_secret)
            shared = kms.create_key(Tags=[{"TagKey": "role", "TagValue": "e2e-users"}])["KeyMetadata"]["KeyId"]
            expect_error("AccessDeniedException", kms.encrypt, KeyId=shared, Plaintext=b"x")  # a role-tagged key needs the role
            expect_error("AccessDeniedException", other.encrypt, KeyId=shared, Plaintext=b"x")
            for key_id in (args.access_key, args.other_access_key):
                admin(args, "POST", "/kbs/v1/entities", {"type": "Subject", "id": "apikey:" + key_id,
                                                         "roles": [{"role": "e2e-users", "scope": "kms/**"}]})
            blob = kms.encrypt(KeyId=shared, Plaintext=b"shared")["CiphertextBlob"]
            require(other.decrypt(CiphertextBlob=blob)["Plaintext"] == b"shared", "the role holder decrypts")
            require(other.describe_key(KeyId=shared)["KeyMetadata"]["KeyId"] == shared, "the role holder describes")
            expect_error("AccessDeniedException", other.disable_key, KeyId=shared)
            expect_error("AccessDeniedException", other.untag_resource, KeyId=shared, TagKeys=["role"])
        checks.run("A key tagged `role` serves the holders of that role (granted through the admin API), creator included, "
                   "and only its creator manages it", roles)


def admin(args, method, path, body):
    request = urllib.request.Request(args.endpoint + path, data=json.dumps(body).encode(), method=method, headers={
        "Authorization": "Bearer " + args.admin_token, "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"{}")


# MARK: bad input, raw


def signed_request(args, target, body, headers=None, when=None, secret=None):
    """A request to the KMS API signed by botocore's SigV4Auth (at `when`, default now); status, JSON body."""
    request = botocore.awsrequest.AWSRequest(method="POST", url=args.endpoint + "/", data=body, headers={
        "Content-Type": "application/x-amz-json-1.1", **({"X-Amz-Target": target} if target else {}), **(headers or {})})
    credentials = botocore.credentials.Credentials(args.access_key, secret or args.secret)
    signer = botocore.auth.SigV4Auth(credentials, "kms", REGION)
    if when is not None:
        original = botocore.auth.get_current_datetime
        botocore.auth.get_current_datetime = lambda: when
        try:
            signer.add_auth(request)
        finally:
            botocore.auth.get_current_datetime = original
    else:
        signer.add_auth(request)
    return send(args.endpoint, body, dict(request.headers.items()))


def send(endpoint, body, headers):
    request = urllib.request.Request(endpoint + "/", data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def expect_raw(expected_type, outcome):
    status, body = outcome
    require(400 <= status < 500 and body.get("__type") == expected_type and isinstance(body.get("message"), str),
            f"expected 4xx {expected_type}, got {status} {body}")


def scenario_bad_input(args, checks):
    kms = client(args)
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    target = "TrentService.Encrypt"
    cases = [
        ("malformed JSON", "SerializationException", target, b'{"KeyId": '),
        ("a JSON array body", "SerializationException", target, b"[]"),
        ("a number where a string belongs", "SerializationException", target, b'{"KeyId": 5, "Plaintext": "eA=="}'),
        ("an object where a blob belongs", "SerializationException", target, json.dumps({"KeyId": key, "Plaintext": {}}).encode()),
        ("bad base64", "SerializationException", target, json.dumps({"KeyId": key, "Plaintext": "!!not base64!!"}).encode()),
        ("unpadded base64", "SerializationException", target, json.dumps({"KeyId": key, "Plaintext": "eA"}).encode()),
        ("a context that is not a map of strings", "SerializationException", target,
         json.dumps({"KeyId": key, "Plaintext": "eA==", "EncryptionContext": {"a": 1}}).encode()),
        ("a missing required member", "ValidationException", target, json.dumps({"KeyId": key}).encode()),
        ("a plaintext over 4096 bytes", "ValidationException", target,
         json.dumps({"KeyId": key, "Plaintext": base64.b64encode(b"x" * 5000).decode()}).encode()),
        ("a body over 64 KiB", "ValidationException", target, json.dumps({"KeyId": key, "Description": "x" * 70000}).encode()),
        ("a string for a number", "SerializationException", "TrentService.GenerateRandom", b'{"NumberOfBytes": "32"}'),
        ("an unknown operation", "UnknownOperationException", "TrentService.LaunchMissiles", b"{}"),
        ("another service's target", "UnknownOperationException", "DynamoDB_20120810.ListTables", b"{}"),
        ("no target", "UnknownOperationException", None, b"{}"),
        ("an unknown key id", "NotFoundException", target, json.dumps({"KeyId": "key-that-is-not", "Plaintext": "eA=="}).encode()),
        ("a ciphertext of another shape", "InvalidCiphertextException", "TrentService.Decrypt",
         json.dumps({"CiphertextBlob": base64.b64encode(b"KBSK" + bytes(80)).decode()}).encode()),
    ]
    for name, expected, case_target, body in cases:
        checks.run(f"{name}: {expected}", lambda e=expected, t=case_target, b=body: expect_raw(e, signed_request(args, t, b)))

    def unsigned():
        expect_raw("MissingAuthenticationTokenException", send(args.endpoint, b"{}", {"X-Amz-Target": "TrentService.ListKeys"}))
        expect_raw("IncompleteSignatureException", send(args.endpoint, b"{}", {
            "X-Amz-Target": "TrentService.ListKeys", "X-Amz-Date": "20260101T000000Z",
            "Authorization": "AWS4-HMAC-SHA256 Credential=broken"}))
        expect_raw("InvalidSignatureException", send(args.endpoint, b"{}", {
            "X-Amz-Target": "TrentService.ListKeys", "Authorization": "Bearer " + args.secret}))
    checks.run("no signature, a truncated one, a bearer token: MissingAuthenticationToken, IncompleteSignature, InvalidSignature", unsigned)

    def stale():
        now = datetime.datetime.now(datetime.timezone.utc)
        expect_raw("InvalidSignatureException", signed_request(args, "TrentService.ListKeys", b"{}", when=now - datetime.timedelta(minutes=20)))
        expect_raw("InvalidSignatureException", signed_request(args, "TrentService.ListKeys", b"{}", when=now + datetime.timedelta(minutes=20)))
        status, body = signed_request(args, "TrentService.ListKeys", b"{}", when=now - datetime.timedelta(minutes=10))
        require(status == 200 and "Keys" in body, f"10 minutes off is within AWS's 15: {status} {body}")
    checks.run("X-Amz-Date more than 15 minutes off InvalidSignatureException; 10 minutes off accepted", stale)

    def altered():
        request = botocore.awsrequest.AWSRequest(method="POST", url=args.endpoint + "/", data=b"{}", headers={
            "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "TrentService.ListKeys"})
        botocore.auth.SigV4Auth(botocore.credentials.Credentials(args.access_key, args.secret), "kms", REGION).add_auth(request)
        headers = dict(request.headers.items())
        expect_raw("InvalidSignatureException", send(args.endpoint, b'{"Limit": 1}', headers))
        expect_raw("InvalidSignatureException", send(args.endpoint, b"{}", {**headers, "X-Amz-Target": "TrentService.GenerateRandom"}))
        wrong_service = botocore.awsrequest.AWSRequest(method="POST", url=args.endpoint + "/", data=b"{}", headers={
            "X-Amz-Target": "TrentService.ListKeys"})
        botocore.auth.SigV4Auth(botocore.credentials.Credentials(args.access_key, args.secret), "s3", REGION).add_auth(wrong_service)
        expect_raw("InvalidSignatureException", send(args.endpoint, b"{}", dict(wrong_service.headers.items())))
    checks.run("a signed request with its body or target changed, or signed for another service, InvalidSignatureException", altered)

    def healthy():
        with urllib.request.urlopen(args.endpoint + "/healthz", timeout=10) as response:
            require(response.status == 200, response.status)
        require(len(kms.generate_random(NumberOfBytes=8)["Plaintext"]) == 8, "still serving")
    checks.run("after all of it the server is healthy and serving", healthy)


# MARK: tier


def scenario_tier(args, checks):
    plain = client(args)
    attested = client(args, session_token=args.session_token)
    state = {}

    def create():
        meta = plain.create_key(Tags=[{"TagKey": "kbs:required-tier", "TagValue": "2"}])["KeyMetadata"]
        state["key"] = meta["KeyId"]
        require(not any(t["TagKey"].startswith("kbs:") for t in plain.list_resource_tags(KeyId=meta["KeyId"])["Tags"]), "reserved tag not kept")
        state["default"] = plain.create_key()["KeyMetadata"]["KeyId"]
    checks.run("a key created with kbs:required-tier 2, and one at the server's default tier (PRIVACY_TIER 2)", create)

    def refused():
        for key in (state["key"], state["default"]):
            expect_error("AccessDeniedException", plain.encrypt, KeyId=key, Plaintext=b"x")
            expect_error("AccessDeniedException", plain.generate_data_key, KeyId=key, KeySpec="AES_256")
        require(plain.describe_key(KeyId=state["key"])["KeyMetadata"]["KeyState"] == "Enabled", "describing needs no tier")
    checks.run("the API key alone (tier 1) may not use tier-2 keys: AccessDeniedException", refused)

    def served():
        for key in (state["key"], state["default"]):
            blob = attested.encrypt(KeyId=key, Plaintext=b"tier 2", EncryptionContext={"t": "2"})["CiphertextBlob"]
            require(attested.decrypt(CiphertextBlob=blob, EncryptionContext={"t": "2"})["Plaintext"] == b"tier 2", key)
            expect_error("AccessDeniedException", plain.decrypt, CiphertextBlob=blob, EncryptionContext={"t": "2"})
    checks.run("with an attestation token as the session token (tier 2) the same API key uses them", served)

    def borrowed():
        other = client(args, access_key=args.other_access_key, secret=args.other_secret, session_token=args.session_token)
        expect_error("UnrecognizedClientException", other.list_keys)
        if args.unbound_session_token:
            unbound = client(args, session_token=args.unbound_session_token)
            expect_error("UnrecognizedClientException", unbound.encrypt, KeyId=state["key"], Plaintext=b"x")
    checks.run("the token lends its tier to no one else: another API key, or a token attested without this API key, "
               "UnrecognizedClientException", borrowed)


# MARK: the AWS CLI


def scenario_cli(args, checks):
    kms = client(args)
    key = kms.create_key(Description="cli")["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/e2e-cli", TargetKeyId=key)
    aws = os.path.join(os.path.dirname(sys.executable), "aws")
    environment = {
        "PATH": os.environ.get("PATH", ""), "AWS_ACCESS_KEY_ID": args.access_key, "AWS_SECRET_ACCESS_KEY": args.secret,
        "AWS_DEFAULT_REGION": REGION, "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true", "AWS_MAX_ATTEMPTS": "1",
    }

    def cli(*arguments):
        run = subprocess.run([sys.executable, aws, "kms", *arguments, "--endpoint-url", args.endpoint], env=environment,
                             capture_output=True, text=True, timeout=120)
        return run.returncode, run.stdout.strip(), run.stderr.strip()

    def round_trip():
        with tempfile.TemporaryDirectory() as work:
            plaintext = os.path.join(work, "plaintext")
            with open(plaintext, "wb") as handle:
                handle.write(b"secret through the AWS CLI\n")
            code, out, err = cli("encrypt", "--key-id", "alias/e2e-cli", "--plaintext", "fileb://" + plaintext,
                                 "--encryption-context", "app=cli", "--output", "text", "--query", "CiphertextBlob")
            require(code == 0 and out, f"encrypt: {code} {err}")
            sealed = os.path.join(work, "sealed")
            with open(sealed, "wb") as handle:
                handle.write(base64.b64decode(out))
            code, out, err = cli("decrypt", "--ciphertext-blob", "fileb://" + sealed, "--encryption-context", "app=cli",
                                 "--output", "text", "--query", "Plaintext")
            require(code == 0 and base64.b64decode(out) == b"secret through the AWS CLI\n", f"decrypt: {code} {out} {err}")
            code, out, err = cli("decrypt", "--ciphertext-blob", "fileb://" + sealed, "--encryption-context", "app=other")
            require(code != 0 and "InvalidCiphertextException" in err, f"a changed context: {code} {err}")
    checks.run("aws kms encrypt / decrypt --endpoint-url round trip; a changed context InvalidCiphertextException", round_trip)

    def wrong_secret():
        environment["AWS_SECRET_ACCESS_KEY"] = args.secret + "x"
        try:
            code, _, err = cli("list-keys")
            require(code != 0 and "InvalidSignatureException" in err, f"{code} {err}")
        finally:
            environment["AWS_SECRET_ACCESS_KEY"] = args.secret
    checks.run("aws kms list-keys with a wrong secret: InvalidSignatureException", wrong_secret)

    def endpoint_variable():
        run = subprocess.run([sys.executable, aws, "kms", "describe-key", "--key-id", "alias/e2e-cli", "--output", "json"],
                             env={**environment, "AWS_ENDPOINT_URL_KMS": args.endpoint}, capture_output=True, text=True, timeout=120)
        require(run.returncode == 0 and json.loads(run.stdout)["KeyMetadata"]["KeyId"] == key, f"{run.returncode} {run.stderr}")
    checks.run("AWS_ENDPOINT_URL_KMS points an unchanged command at the server (no --endpoint-url)", endpoint_variable)


# MARK: the key sweeper


SWEEP_ALIAS = "alias/e2e-sweep"
SWEEP_CONTEXT = {"app": "sweep"}


def scenario_sweep_setup(args, checks):
    kms = client(args)
    state = {}

    def create():
        key = kms.create_key(Description="swept")["KeyMetadata"]["KeyId"]
        kms.create_alias(AliasName=SWEEP_ALIAS, TargetKeyId=key)
        blob = kms.encrypt(KeyId=SWEEP_ALIAS, Plaintext=b"swept secret", EncryptionContext=SWEEP_CONTEXT)["CiphertextBlob"]
        require(kms.decrypt(CiphertextBlob=blob, EncryptionContext=SWEEP_CONTEXT)["Plaintext"] == b"swept secret", "round trip")
        state["key"], state["blob"] = key, base64.b64encode(blob).decode()
    checks.run("CreateKey, CreateAlias, Encrypt and Decrypt through the alias", create)

    def schedule():
        answer = kms.schedule_key_deletion(KeyId=state["key"], PendingWindowInDays=7)
        require(answer["KeyState"] == "PendingDeletion" and answer["PendingWindowInDays"] == 7, answer)
        expect_error("KMSInvalidStateException", kms.decrypt, CiphertextBlob=base64.b64decode(state["blob"]),
                     EncryptionContext=SWEEP_CONTEXT)
        require(kms.describe_key(KeyId=SWEEP_ALIAS)["KeyMetadata"]["KeyState"] == "PendingDeletion", "the alias still names it")
    checks.run("ScheduleKeyDeletion (7 days): meanwhile the key refuses use, KMSInvalidStateException", schedule)
    return state


def scenario_sweep_check(args, checks):
    kms = client(args)
    require(args.key and args.blob, "sweep-check needs --key and --blob")

    def undecryptable():
        expect_error("NotFoundException", kms.decrypt, CiphertextBlob=base64.b64decode(args.blob), EncryptionContext=SWEEP_CONTEXT)
    checks.run("the ciphertext no longer decrypts: NotFoundException", undecryptable)

    def gone():
        expect_error("NotFoundException", kms.describe_key, KeyId=args.key)
        expect_error("NotFoundException", kms.describe_key, KeyId=SWEEP_ALIAS)
        require(all(a["AliasName"] != SWEEP_ALIAS for a in kms.list_aliases()["Aliases"]), "the alias is listed")
        keys = [k["KeyId"] for page in kms.get_paginator("list_keys").paginate() for k in page["Keys"]]
        require(args.key not in keys, "the key is listed")
        expect_error("NotFoundException", kms.cancel_key_deletion, KeyId=args.key)
    checks.run("the key and its alias are gone: DescribeKey, ListKeys, ListAliases, CancelKeyDeletion", gone)


# MARK: a revoked key


def scenario_revoked(args, checks):
    checks.run("a revoked API key signs nothing: UnrecognizedClientException",
               lambda: expect_error("UnrecognizedClientException", client(args).list_keys))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("scenario", choices=["boto3", "bad-input", "tier", "cli", "revoked", "sweep-setup", "sweep-check"])
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--access-key", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--other-access-key")
    parser.add_argument("--other-secret")
    parser.add_argument("--admin-token", help="the server's admin token, to grant roles through the admin API")
    parser.add_argument("--session-token", help="an attestation token of the server, attested with --access-key as credential")
    parser.add_argument("--unbound-session-token", help="an attestation token attested without a credential")
    parser.add_argument("--key", help="sweep-check: the key the sweeper destroyed")
    parser.add_argument("--blob", help="sweep-check: a ciphertext of that key, base64")
    args = parser.parse_args()
    checks = Checks()
    scenarios = {"boto3": scenario_boto3, "bad-input": scenario_bad_input, "tier": scenario_tier, "cli": scenario_cli,
                 "revoked": scenario_revoked, "sweep-setup": scenario_sweep_setup, "sweep-check": scenario_sweep_check}
    state = scenarios[args.scenario](args, checks)
    checks.report(**({"state": state} if state else {}))


if __name__ == "__main__":
    sys.exit(main())
