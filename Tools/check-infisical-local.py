#!/usr/bin/env python3
"""Drives a running Infisical API (the stand-in in Tools/infisical-local, or a real one) with the official
Python SDK, `infisicalsdk`, so that the stand-in's wire format is checked by a client we did not write.

  check-infisical-local.py URL CLIENT_ID CLIENT_SECRET PROJECT_ID check
      login, create a KMS key, encrypt/decrypt round trip, create/get/update a secret, a wrong client secret
      refused; prints one `ok <step>` line per step and exits 0, or exits 1 at the first failure.
  check-infisical-local.py URL CLIENT_ID CLIENT_SECRET PROJECT_ID encrypt KEY_ID PLAINTEXT_BASE64
  check-infisical-local.py URL CLIENT_ID CLIENT_SECRET PROJECT_ID decrypt KEY_ID CIPHERTEXT
      print the ciphertext / base64 plaintext, for cross-checks with the Swift client.
  check-infisical-local.py URL CLIENT_ID CLIENT_SECRET PROJECT_ID get-secret ENVIRONMENT PATH NAME
      print the secret's value.
  check-infisical-local.py URL CLIENT_ID CLIENT_SECRET PROJECT_ID disable-key KEY_ID
      disable the KMS key and print `disabled`.
"""

import base64
import sys

from infisical_sdk import InfisicalSDKClient
from infisical_sdk.api_types import SymmetricEncryption
from infisical_sdk.infisical_requests import APIError


def client(url, client_id, client_secret):
    sdk = InfisicalSDKClient(host=url, cache_ttl=None)
    sdk.auth.universal_auth.login(client_id=client_id, client_secret=client_secret)
    return sdk


def expect(condition, step):
    if not condition:
        print(f"FAILED {step}", flush=True)
        sys.exit(1)
    print(f"ok {step}", flush=True)


def check(url, client_id, client_secret, project):
    sdk = InfisicalSDKClient(host=url, cache_ttl=None)
    login = sdk.auth.universal_auth.login(client_id=client_id, client_secret=client_secret)
    expect(login.tokenType == "Bearer" and login.expiresIn > 0 and login.accessToken, "login")

    key = sdk.kms.create_key(name="sdk-check-key", project_id=project,
                             encryption_algorithm=SymmetricEncryption.AES_GCM_256, description="from infisicalsdk")
    expect(key.name == "sdk-check-key" and key.projectId == project and not key.isDisabled, "create-key")
    expect(sdk.kms.get_key_by_name(key_name="sdk-check-key", project_id=project).id == key.id, "get-key-by-name")

    plaintext = b"\x00\x01 model weights key \xff"
    ciphertext = sdk.kms.encrypt_data(key_id=key.id, base64EncodedPlaintext=base64.b64encode(plaintext).decode())
    expect(base64.b64decode(ciphertext) != plaintext, "encrypt")
    decrypted = sdk.kms.decrypt_data(key_id=key.id, ciphertext=ciphertext)
    expect(base64.b64decode(decrypted) == plaintext, "decrypt")

    tampered = bytearray(base64.b64decode(ciphertext))
    tampered[14] ^= 1
    try:
        sdk.kms.decrypt_data(key_id=key.id, ciphertext=base64.b64encode(bytes(tampered)).decode())
        expect(False, "tampered-ciphertext-refused")
    except APIError as error:
        expect(error.status_code == 400, "tampered-ciphertext-refused")

    created = sdk.secrets.create_secret_by_name(secret_name="SDK_CHECK", project_id=project, secret_path="/",
                                                environment_slug="dev", secret_value="first value")
    expect(created.secretKey == "SDK_CHECK" and created.secretValue == "first value" and created.version == 1,
           "create-secret")
    fetched = sdk.secrets.get_secret_by_name(secret_name="SDK_CHECK", project_id=project, environment_slug="dev",
                                             secret_path="/")
    expect(fetched.secretValue == "first value", "get-secret")
    updated = sdk.secrets.update_secret_by_name(current_secret_name="SDK_CHECK", project_id=project,
                                                secret_path="/", environment_slug="dev", secret_value="second value")
    expect(updated.secretValue == "second value" and updated.version == 2, "update-secret")
    fetched = sdk.secrets.get_secret_by_name(secret_name="SDK_CHECK", project_id=project, environment_slug="dev",
                                             secret_path="/")
    expect(fetched.secretValue == "second value", "get-updated-secret")
    listed = sdk.secrets.list_secrets(project_id=project, environment_slug="dev", secret_path="/")
    expect([s.secretKey for s in listed.secrets] == ["SDK_CHECK"], "list-secrets")

    try:
        sdk.secrets.get_secret_by_name(secret_name="NO_SUCH_SECRET", project_id=project, environment_slug="dev",
                                       secret_path="/")
        expect(False, "missing-secret-404")
    except APIError as error:
        expect(error.status_code == 404, "missing-secret-404")

    try:
        InfisicalSDKClient(host=url, cache_ttl=None).auth.universal_auth.login(
            client_id=client_id, client_secret=client_secret + "-wrong")
        expect(False, "wrong-secret-refused")
    except APIError as error:
        expect(error.status_code == 401 and error.response.get("error") == "UnauthorizedError",
               "wrong-secret-refused")

    unauthenticated = InfisicalSDKClient(host=url, token="not-a-token", cache_ttl=None)
    try:
        unauthenticated.kms.get_key_by_id(key_id=key.id)
        expect(False, "bad-token-refused")
    except APIError as error:
        expect(error.status_code in (401, 403), "bad-token-refused")
    print("all checks passed", flush=True)


def main(argv):
    if len(argv) < 6:
        print(__doc__, file=sys.stderr)
        return 2
    url, client_id, client_secret, project, command = argv[1:6]
    rest = argv[6:]
    if command == "check":
        check(url, client_id, client_secret, project)
    elif command == "encrypt" and len(rest) == 2:
        print(client(url, client_id, client_secret).kms.encrypt_data(key_id=rest[0], base64EncodedPlaintext=rest[1]))
    elif command == "decrypt" and len(rest) == 2:
        print(client(url, client_id, client_secret).kms.decrypt_data(key_id=rest[0], ciphertext=rest[1]))
    elif command == "get-secret" and len(rest) == 3:
        secret = client(url, client_id, client_secret).secrets.get_secret_by_name(
            secret_name=rest[2], project_id=project, environment_slug=rest[0], secret_path=rest[1])
        print(secret.secretValue)
    elif command == "disable-key" and len(rest) == 1:
        key = client(url, client_id, client_secret).kms.update_key(key_id=rest[0], is_disabled=True)
        print("disabled" if key.isDisabled else "still enabled")
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
