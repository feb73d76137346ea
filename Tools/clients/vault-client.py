#!/usr/bin/env python3
"""Drives `kbs serve`'s Vault API with hvac, HashiCorp's Python client as teams use it (issue 16).

Every request goes over HTTP to the server given; nothing here is a fake or a stand-in for it. Each scenario runs a
list of checks and prints one JSON object, {"checks": [{"name", "ok", "detail"?}]}, on stdout; the Swift tests
(Tests/KBSServerTests/VaultEndToEndTests.swift) assert every check passed.

    hvac       token lookup and renewal, sys/health and mounts; JWT login (--jwt, minted at test time for role
               --role; --bad-jwt signed by another key); KV v2: versions, CAS conflict, patch, soft delete,
               undelete, destroy, metadata, list, configuration; Transit: create, encrypt, decrypt, rotate,
               rewrap, data keys, batches, derived and convergent keys, min_decryption_version, deletion refused
               until allowed; a token whose policies do not name a path is refused
    bad-input  raw requests: malformed JSON, wrong types, bad base64, oversized bodies, unknown paths, missing and
               unknown tokens, namespaces, unsupported methods; every answer Vault's {"errors": [...]} with 4xx, and
               sys/health still answers
    tier       a tier-3 Transit key and KV secret: refused to the administrator's token (tier 1) and to an OIDC
               login's; served to a token from auth/kbs/login with an attestation token (--attestation-token) of
               tier 3 (SNP + H100); a KMS key at tier 3 refuses an API key alone (boto3, --access-key/--secret)

Run with the tests' venv: .venv-test/bin/python Tools/clients/vault-client.py SCENARIO --url URL --token TOKEN ...
Tools/bootstrap pins hvac.
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
import json  # noqa: E402

import hvac  # noqa: E402
import hvac.exceptions as errors  # noqa: E402
import requests  # noqa: E402


def b64(text):
    return base64.b64encode(text if isinstance(text, bytes) else text.encode()).decode()


def unb64(text):
    return base64.b64decode(text)


def expect(error_type, function, *arguments, **keywords):
    """Calls function and requires hvac to raise error_type; returns the error's messages."""
    try:
        function(*arguments, **keywords)
    except error_type as error:
        return error.errors
    raise AssertionError(f"expected {error_type.__name__}")


def check(condition, message):
    if not condition:
        raise AssertionError(message)


# --- hvac

def tokens(checks, client, args):
    def lookup():
        data = client.auth.token.lookup_self()["data"]
        check(client.is_authenticated(), "is_authenticated")
        check(data["type"] == "service" and data["policies"] == ["default"], data)
        check(data["id"] == args.token and data["ttl"] > 0, "id and ttl")
        return {"accessor": data["accessor"], "meta": data["meta"]}
    checks.run("lookup-self: a service token with its policies and TTL (External Secrets reads `type`)", lookup)

    def renew():
        auth = client.auth.token.renew_self(increment="30m")["auth"]
        check(1700 <= auth["lease_duration"] <= 1800, auth)
    checks.run("renew-self extends the token by the increment", renew)

    def unknown():
        stranger = hvac.Client(url=args.url, token="hvs.not-a-token-of-this-server")
        check(not stranger.is_authenticated(), "an unknown token is not authenticated")
        expect(errors.Forbidden, stranger.secrets.kv.v2.read_secret_version, path="app/db", raise_on_deleted_version=True)
    checks.run("an unknown token: 403, not authenticated", unknown)

    def system():
        health = client.sys.read_health_status(method="GET")
        check(health["initialized"] and not health["sealed"], health)
        check(client.sys.read_health_status(method="HEAD").status_code == 200, "HEAD")
        check(not client.sys.is_sealed(), "sealed")
        mounts = client.sys.list_mounted_secrets_engines()["data"]
        check(mounts["secret/"]["options"]["version"] == "2" and mounts["transit/"]["type"] == "transit", mounts)
        ui = requests.get(f"{args.url}/v1/sys/internal/ui/mounts/secret/app", headers={"X-Vault-Token": args.token}).json()
        check(ui["data"]["options"]["version"] == "2", ui)
    checks.run("sys/health (GET and HEAD), seal-status, mounts and the KV-version preflight", system)


def jwt_login(checks, args):
    def login():
        client = hvac.Client(url=args.url)
        auth = client.auth.jwt.jwt_login(role=args.role, jwt=args.jwt)["auth"]
        check(auth["policies"] == ["secret/ci/**"], auth)
        client.token = auth["client_token"]
        data = client.auth.token.lookup_self()["data"]
        check(data["path"] == "auth/jwt/login" and data["meta"]["kbs_subject"].startswith("oidc:"), data)
        client.secrets.kv.v2.create_or_update_secret(path="ci/build", secret={"token": "ci-secret"})
        read = client.secrets.kv.v2.read_secret_version(path="ci/build", raise_on_deleted_version=True)
        check(read["data"]["data"] == {"token": "ci-secret"}, read)
        expect(errors.Forbidden, client.secrets.kv.v2.read_secret_version, path="app/db", raise_on_deleted_version=True)
        expect(errors.Forbidden, client.secrets.transit.encrypt_data, name="orders", plaintext=b64("x"))
        client.auth.token.revoke_self()
        check(not client.is_authenticated(), "revoked")
    checks.run("auth/jwt/login: a JWT minted at test time gets the role's policies; other paths 403; revoke-self", login)

    def refused():
        client = hvac.Client(url=args.url)
        expect(errors.InvalidRequest, client.auth.jwt.jwt_login, role=args.role, jwt=args.bad_jwt)
        expect(errors.InvalidRequest, client.auth.jwt.jwt_login, role="no-such-role", jwt=args.jwt)
    checks.run("auth/jwt/login refuses a JWT signed by another key, and an unknown role", refused)


def kv(checks, client):
    kv2 = client.secrets.kv.v2

    def versions():
        first = kv2.create_or_update_secret(path="app/db", secret={"user": "app", "password": "one"})["data"]
        second = kv2.create_or_update_secret(path="app/db", secret={"user": "app", "password": "two"})["data"]
        check(first["version"] == 1 and second["version"] == 2 and second["deletion_time"] == "", (first, second))
        check(kv2.read_secret_version(path="app/db", version=1, raise_on_deleted_version=True)["data"]["data"]["password"] == "one", "v1")
        latest = kv2.read_secret_version(path="app/db", raise_on_deleted_version=True)["data"]
        check(latest["data"]["password"] == "two" and latest["metadata"]["version"] == 2, latest)
    checks.run("KV v2: create, update, read the latest and an older version", versions)

    def cas():
        messages = expect(errors.InvalidRequest, kv2.create_or_update_secret, path="app/db", secret={"x": "1"}, cas=1)
        check(any("check-and-set" in m for m in messages), messages)
        check(kv2.create_or_update_secret(path="app/db", secret={"user": "app", "password": "three"}, cas=2)["data"]["version"] == 3, "cas 2")
        expect(errors.InvalidRequest, kv2.create_or_update_secret, path="app/db", secret={"x": "1"}, cas=0)
        check(kv2.create_or_update_secret(path="app/new", secret={"n": 1}, cas=0)["data"]["version"] == 1, "cas 0 on a new path")
    checks.run("KV v2: check-and-set conflicts are 400, matching versions write", cas)

    def patch():
        kv2.patch(path="app/db", secret={"password": "four", "port": 5432})
        data = kv2.read_secret_version(path="app/db", raise_on_deleted_version=True)["data"]
        check(data["data"] == {"user": "app", "password": "four", "port": 5432} and data["metadata"]["version"] == 4, data)
        raw = requests.patch(f"{client.url}/v1/secret/data/app/db", headers={"X-Vault-Token": client.token,
                             "Content-Type": "application/merge-patch+json"}, data=json.dumps({"data": {"port": None}}))
        check(raw.status_code == 200, raw.text)
        data = kv2.read_secret_version(path="app/db", raise_on_deleted_version=True)["data"]
        check(data["data"] == {"user": "app", "password": "four"} and data["metadata"]["version"] == 5, data)
    checks.run("KV v2: patch (hvac's read and CAS write, and an RFC 7386 PATCH removing a key)", patch)

    def deletion():
        kv2.delete_latest_version_of_secret(path="app/db")
        expect(errors.InvalidPath, kv2.read_secret_version, path="app/db", raise_on_deleted_version=True)
        body = kv2.read_secret_version(path="app/db", raise_on_deleted_version=False)
        check(body["data"]["data"] is None and body["data"]["metadata"]["deletion_time"] != "", body)
        kv2.undelete_secret_versions(path="app/db", versions=[5])
        check(kv2.read_secret_version(path="app/db", raise_on_deleted_version=True)["data"]["data"]["user"] == "app", "undeleted")
        kv2.delete_secret_versions(path="app/db", versions=[1])
        kv2.destroy_secret_versions(path="app/db", versions=[2])
        kv2.undelete_secret_versions(path="app/db", versions=[1, 2])
        check(kv2.read_secret_version(path="app/db", version=1, raise_on_deleted_version=True)["data"]["data"]["password"] == "one", "v1 back")
        # Destroyed, never soft-deleted: 404 even to hvac's raise_on_deleted_version=False (which returns only
        # soft-deleted versions), and undelete does not bring it back.
        expect(errors.InvalidPath, kv2.read_secret_version, path="app/db", version=2, raise_on_deleted_version=False)
    checks.run("KV v2: soft delete, undelete, destroy (destroyed data never comes back)", deletion)

    def metadata():
        kv2.update_metadata(path="app/db", max_versions=4, custom_metadata={"team": "payments"})
        meta = kv2.read_secret_metadata(path="app/db")["data"]
        check(meta["current_version"] == 5 and meta["max_versions"] == 4 and meta["custom_metadata"] == {"team": "payments"}, meta)
        check(sorted(meta["versions"]) == ["2", "3", "4", "5"] and meta["oldest_version"] == 2, meta["versions"])
        check(meta["versions"]["2"]["destroyed"] is True, meta["versions"]["2"])
    checks.run("KV v2: metadata (versions, max_versions trimming, custom metadata)", metadata)

    def listing():
        check(kv2.list_secrets(path="")["data"]["keys"] == ["app/", "ci/"], kv2.list_secrets(path=""))
        check(kv2.list_secrets(path="app")["data"]["keys"] == ["db", "new"], "app/")
        expect(errors.InvalidPath, kv2.list_secrets, path="nothing-here")
    checks.run("KV v2: LIST folders and names; an empty folder is 404", listing)

    def remove_all():
        kv2.delete_metadata_and_all_versions(path="app/new")
        expect(errors.InvalidPath, kv2.read_secret_version, path="app/new", raise_on_deleted_version=True)
        check(kv2.list_secrets(path="app")["data"]["keys"] == ["db"], "listing after delete")
    checks.run("KV v2: delete metadata and all versions", remove_all)

    def configuration():
        kv2.configure(max_versions=7, cas_required=False)
        config = kv2.read_configuration()["data"]
        check(config["max_versions"] == 7 and config["cas_required"] is False, config)
    checks.run("KV v2: engine configuration", configuration)


def transit(checks, client):
    tr = client.secrets.transit
    made = {}

    def keys():
        tr.create_key(name="orders")
        key = tr.read_key(name="orders")["data"]
        check(key["type"] == "aes256-gcm96" and key["latest_version"] == 1 and key["deletion_allowed"] is False, key)
        check("orders" in tr.list_keys()["data"]["keys"], "listed")
    checks.run("Transit: create, read and list a key", keys)

    def crypt():
        made["v1"] = tr.encrypt_data(name="orders", plaintext=b64("order 1"))["data"]["ciphertext"]
        check(made["v1"].startswith("vault:v1:"), made["v1"])
        check(unb64(tr.decrypt_data(name="orders", ciphertext=made["v1"])["data"]["plaintext"]) == b"order 1", "round trip")
        tampered = made["v1"][:-4] + ("AAAA" if not made["v1"].endswith("AAAA") else "BBBB")
        expect(errors.InvalidRequest, tr.decrypt_data, name="orders", ciphertext=tampered)
    checks.run("Transit: encrypt and decrypt (vault:v1: ciphertexts); a changed byte is refused", crypt)

    def rotate():
        tr.rotate_key(name="orders")
        check(tr.read_key(name="orders")["data"]["latest_version"] == 2, "rotated")
        made["v2"] = tr.encrypt_data(name="orders", plaintext=b64("order 2"))["data"]["ciphertext"]
        check(made["v2"].startswith("vault:v2:"), made["v2"])
        check(unb64(tr.decrypt_data(name="orders", ciphertext=made["v1"])["data"]["plaintext"]) == b"order 1", "old version")
        rewrapped = tr.rewrap_data(name="orders", ciphertext=made["v1"])["data"]
        check(rewrapped["ciphertext"].startswith("vault:v2:") and "plaintext" not in rewrapped, rewrapped)
        check(unb64(tr.decrypt_data(name="orders", ciphertext=rewrapped["ciphertext"])["data"]["plaintext"]) == b"order 1", "rewrapped")
    checks.run("Transit: rotate, old versions still decrypt, rewrap to the newest without the plaintext", rotate)

    def datakeys():
        plain = tr.generate_data_key(name="orders", key_type="plaintext", bits=256)["data"]
        check(len(unb64(plain["plaintext"])) == 32 and plain["ciphertext"].startswith("vault:v2:"), plain.keys())
        check(tr.decrypt_data(name="orders", ciphertext=plain["ciphertext"])["data"]["plaintext"] == plain["plaintext"], "unwrap")
        wrapped = tr.generate_data_key(name="orders", key_type="wrapped", bits=512)["data"]
        check("plaintext" not in wrapped and len(unb64(tr.decrypt_data(name="orders", ciphertext=wrapped["ciphertext"])["data"]["plaintext"])) == 64, wrapped)
    checks.run("Transit: data keys, plaintext and wrapped", datakeys)

    def batches():
        items = [{"plaintext": b64(f"item {i}")} for i in range(3)]
        results = tr.encrypt_data(name="orders", batch_input=items)["data"]["batch_results"]
        check(len(results) == 3 and all(r["ciphertext"].startswith("vault:v2:") for r in results), results)
        opened = tr.decrypt_data(name="orders", batch_input=[{"ciphertext": r["ciphertext"]} for r in results])["data"]["batch_results"]
        check([unb64(r["plaintext"]) for r in opened] == [b"item 0", b"item 1", b"item 2"], opened)
        mixed = requests.post(f"{client.url}/v1/transit/decrypt/orders", headers={"X-Vault-Token": client.token},
                              json={"batch_input": [{"ciphertext": results[0]["ciphertext"]}, {"ciphertext": "vault:v9:AAAA"}]})
        body = mixed.json()
        check(mixed.status_code == 400 and "plaintext" in body["data"]["batch_results"][0] and "error" in body["data"]["batch_results"][1], body)
    checks.run("Transit: batch encrypt and decrypt; a failed item reports its error", batches)

    def derived():
        tr.create_key(name="tenant", derived=True)
        context = b64("tenant-a")
        ciphertext = tr.encrypt_data(name="tenant", plaintext=b64("hello"), context=context)["data"]["ciphertext"]
        check(unb64(tr.decrypt_data(name="tenant", ciphertext=ciphertext, context=context)["data"]["plaintext"]) == b"hello", "context")
        expect(errors.InvalidRequest, tr.decrypt_data, name="tenant", ciphertext=ciphertext, context=b64("tenant-b"))
        expect(errors.InvalidRequest, tr.encrypt_data, name="tenant", plaintext=b64("hello"))
        tr.create_key(name="lookup", derived=True, convergent_encryption=True)
        one = tr.encrypt_data(name="lookup", plaintext=b64("same"), context=context)["data"]["ciphertext"]
        two = tr.encrypt_data(name="lookup", plaintext=b64("same"), context=context)["data"]["ciphertext"]
        other = tr.encrypt_data(name="lookup", plaintext=b64("same"), context=b64("tenant-b"))["data"]["ciphertext"]
        check(one == two and one != other, (one, two, other))
        check(tr.read_key(name="lookup")["data"]["convergent_encryption"] is True, "convergent")
    checks.run("Transit: derived keys need their context; convergent keys give equal ciphertexts for equal input", derived)

    def minimum():
        tr.update_key_configuration(name="orders", min_decryption_version=2)
        messages = expect(errors.InvalidRequest, tr.decrypt_data, name="orders", ciphertext=made["v1"])
        check(any("too old" in m for m in messages), messages)
        check(unb64(tr.decrypt_data(name="orders", ciphertext=made["v2"])["data"]["plaintext"]) == b"order 2", "v2")
        check(list(tr.read_key(name="orders")["data"]["keys"]) == ["2"], "keys below the minimum are not listed")
    checks.run("Transit: min_decryption_version refuses older ciphertexts", minimum)

    def delete():
        messages = expect(errors.InvalidRequest, tr.delete_key, name="orders")
        check(any("deletion is not allowed" in m for m in messages), messages)
        tr.update_key_configuration(name="orders", deletion_allowed=True)
        tr.delete_key(name="orders")
        expect(errors.InvalidPath, tr.read_key, name="orders")
        expect(errors.InvalidRequest, tr.decrypt_data, name="orders", ciphertext=made["v2"])
        tr.create_key(name="orders")
        expect(errors.InvalidRequest, tr.decrypt_data, name="orders", ciphertext=made["v2"])
    checks.run("Transit: deletion refused until allowed; then the key and its ciphertexts are gone, even under its name", delete)


def scenario_hvac(args):
    checks = Checks()
    client = hvac.Client(url=args.url, token=args.token)
    tokens(checks, client, args)
    jwt_login(checks, args)
    kv(checks, client)
    transit(checks, client)
    checks.report()


# --- bad input

def scenario_bad_input(args):
    checks = Checks()
    headers = {"X-Vault-Token": args.token}

    def refused(name, method, path, status, **keywords):
        def run():
            response = requests.request(method, f"{args.url}/v1/{path}", headers={**headers, **keywords.pop("headers", {})}, timeout=30,
                                        **keywords)
            check(response.status_code == status, f"{response.status_code} {response.text[:300]}")
            body = response.json()
            check(isinstance(body.get("errors"), list), body)
            return body["errors"][:1]
        checks.run(name, run)

    requests.post(f"{args.url}/v1/transit/keys/bad-input", headers=headers, timeout=30)
    refused("malformed JSON", "POST", "secret/data/x", 400, data="{not json")
    refused("a JSON array for a body", "POST", "secret/data/x", 400, data="[1,2]")
    refused("data that is not an object", "POST", "secret/data/x", 400, json={"data": "text"})
    refused("no data", "POST", "secret/data/x", 400, json={})
    refused("plaintext that is not base64", "POST", "transit/encrypt/bad-input", 400, json={"plaintext": "!!not base64!!"})
    refused("plaintext of the wrong type", "POST", "transit/encrypt/bad-input", 400, json={"plaintext": 5})
    refused("a context of the wrong type", "POST", "transit/encrypt/bad-input", 400, json={"plaintext": b64("x"), "context": {"a": 1}})
    refused("batch_input not a list", "POST", "transit/encrypt/bad-input", 400, json={"batch_input": "x"})
    refused("key_version not a number", "POST", "transit/encrypt/bad-input", 400, json={"plaintext": b64("x"), "key_version": "abc"})
    refused("a ciphertext without the vault prefix", "POST", "transit/decrypt/bad-input", 400, json={"ciphertext": "abc"})
    refused("a ciphertext version that does not exist", "POST", "transit/decrypt/bad-input", 400, json={"ciphertext": "vault:v99:" + b64("x" * 40)})
    refused("an unknown key type", "POST", "transit/keys/typo", 400, json={"type": "aes512-gcm"})
    refused("an exportable key", "POST", "transit/keys/exported", 400, json={"exportable": True})
    refused("min_decryption_version past the latest", "POST", "transit/keys/bad-input/config", 400, json={"min_decryption_version": 9})
    refused("invalid bits", "POST", "transit/datakey/plaintext/bad-input", 400, json={"bits": 100})
    refused("cas of the wrong type", "POST", "secret/data/x", 400, json={"data": {"a": 1}, "options": {"cas": "one"}})
    refused("versions of the wrong type", "POST", "secret/destroy/x", 400, json={"versions": "all"})
    refused("a path with a character no secret path holds", "GET", "secret/data/bad%00path", 400)
    refused("an oversized body", "POST", "secret/data/big", 413, data=b"{" + b" " * (2 * 1024 * 1024) + b"}")
    refused("an unknown mount", "GET", "nope/whatever", 404)
    refused("an unknown transit path", "POST", "transit/sign/bad-input", 404, json={})
    refused("an unsupported method", "DELETE", "transit/encrypt/bad-input", 405)
    refused("no token", "GET", "secret/data/x", 403, headers={"X-Vault-Token": ""})
    refused("an unknown token", "GET", "secret/data/x", 403, headers={"X-Vault-Token": "hvs.unknown"})
    refused("a namespace", "GET", "secret/data/x", 400, headers={"X-Vault-Namespace": "team-a/"})
    refused("a JWT login with a malformed JWT", "POST", "auth/jwt/login", 400, json={"role": "ci", "jwt": "not.a.jwt"})
    refused("a JWT login without a role", "POST", "auth/jwt/login", 400, json={"jwt": "x"})
    refused("a kbs login with a forged attestation token", "POST", "auth/kbs/login", 403, json={"token": "e30.e30.AAAA"})

    def admin_refused():
        response = requests.post(f"{args.url}/kbs/v1/vault-tokens", headers={"Authorization": f"Bearer {args.admin_token}"},
                                 json={"policies": 5}, timeout=30)
        check(response.status_code == 400, response.text)
    checks.run("an administrator's token request with policies of the wrong type", admin_refused)

    def healthy():
        check(requests.get(f"{args.url}/v1/sys/health", timeout=30).status_code == 200, "sys/health")
    checks.run("the server still answers sys/health", healthy)
    checks.report()


# --- tiers

def scenario_tier(args):
    checks = Checks()
    admin = hvac.Client(url=args.url, token=args.token)

    def setup():
        admin.write_data("transit/keys/gpu-key", data={"required_tier": 3})
        check(admin.secrets.transit.read_key(name="gpu-key")["data"]["kbs_required_tier"] == 3, "tier")
        admin.secrets.kv.v2.update_metadata(path="gpu/model-key", custom_metadata={"kbs:required-tier": "3"})
    checks.run("an administrator's token creates a tier-3 Transit key and KV secret (creating needs no tier)", setup)

    def unattested():
        expect(errors.Forbidden, admin.secrets.transit.encrypt_data, name="gpu-key", plaintext=b64("weights"))
        expect(errors.Forbidden, admin.secrets.kv.v2.create_or_update_secret, path="gpu/model-key", secret={"k": "v"})
        if args.jwt:
            oidc = hvac.Client(url=args.url)
            oidc.token = oidc.auth.jwt.jwt_login(role=args.role, jwt=args.jwt)["auth"]["client_token"]
            expect(errors.Forbidden, oidc.secrets.transit.encrypt_data, name="gpu-key", plaintext=b64("weights"))
    checks.run("the tier-3 key and secret refuse the administrator's token and an OIDC login's (tier 1)", unattested)

    def api_key():
        import boto3
        from botocore.config import Config
        from botocore.exceptions import ClientError
        kms = boto3.client("kms", endpoint_url=args.url, region_name="eu-central-1", aws_access_key_id=args.access_key,
                           aws_secret_access_key=args.secret, config=Config(retries={"max_attempts": 1}))
        key = kms.create_key(Tags=[{"TagKey": "kbs:required-tier", "TagValue": "3"}])["KeyMetadata"]["KeyId"]
        try:
            kms.encrypt(KeyId=key, Plaintext=b"weights")
        except ClientError as error:
            check(error.response["Error"]["Code"] == "AccessDeniedException", error.response["Error"])
            return
        raise AssertionError("an API key alone used a tier-3 key")
    if args.access_key:
        checks.run("a tier-3 KMS key refuses an API key alone (boto3, AccessDeniedException)", api_key)

    def attested():
        client = hvac.Client(url=args.url)
        # hvac's JWT login at the `kbs` mount: the attestation token is the JWT.
        auth = client.auth.jwt.jwt_login(role="attested", jwt=args.attestation_token, path="kbs")["auth"]
        check(auth["metadata"]["kbs_tier"] == "3", auth)
        client.token = auth["client_token"]
        ciphertext = client.secrets.transit.encrypt_data(name="gpu-key", plaintext=b64("weights"))["data"]["ciphertext"]
        check(unb64(client.secrets.transit.decrypt_data(name="gpu-key", ciphertext=ciphertext)["data"]["plaintext"]) == b"weights", "round trip")
        client.secrets.kv.v2.create_or_update_secret(path="gpu/model-key", secret={"k": "v"})
        check(client.secrets.kv.v2.read_secret_version(path="gpu/model-key", raise_on_deleted_version=True)["data"]["data"] == {"k": "v"}, "kv")
        expect(errors.Forbidden, admin.secrets.kv.v2.read_secret_version, path="gpu/model-key", raise_on_deleted_version=True)
        lookup = client.auth.token.lookup_self()["data"]
        check(lookup["path"] == "auth/kbs/login" and lookup["meta"]["kbs_tier"] == "3", lookup)
    checks.run("a token from auth/kbs/login with SNP + H100 evidence (tier 3) uses the key and the secret", attested)

    def forged():
        client = hvac.Client(url=args.url)
        token = args.attestation_token
        tampered = token[:-6] + ("AAAAAA" if not token.endswith("AAAAAA") else "BBBBBB")
        expect(errors.Forbidden, client.auth.jwt.jwt_login, role="attested", jwt=tampered, path="kbs")
    checks.run("auth/kbs/login refuses an altered attestation token", forged)
    checks.report()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("scenario", choices=["hvac", "bad-input", "tier"])
    parser.add_argument("--url", required=True)
    parser.add_argument("--token", required=True, help="a Vault token from POST /kbs/v1/vault-tokens")
    parser.add_argument("--admin-token")
    parser.add_argument("--jwt", help="a JWT of the configured OIDC issuer")
    parser.add_argument("--bad-jwt", help="a JWT under the issuer's kid signed by another key")
    parser.add_argument("--role", default="ci")
    parser.add_argument("--attestation-token")
    parser.add_argument("--access-key")
    parser.add_argument("--secret")
    args = parser.parse_args()
    {"hvac": scenario_hvac, "bad-input": scenario_bad_input, "tier": scenario_tier}[args.scenario](args)


if __name__ == "__main__":
    main()
