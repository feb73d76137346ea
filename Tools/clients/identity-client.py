#!/usr/bin/env python3
"""Mints identity credentials for the end-to-end tests with PyPI libraries no one here wrote (issue 14).

Nothing here touches the network: every key is made locally and every credential is signed locally.

    oidc-issuer    joserfc: an issuer's signing key, DIR/jwks.json (public JWK Set) and DIR/private.json
    oidc-token     joserfc: an ID token (typ JWT) or an RFC 9068 access token (typ at+jwt)
    siwe           siwe + eth-account: an EIP-4361 message and its EIP-191 signature
    eip712         eth-account: EIP-712 typed data carrying the login challenge, and its signature
    did-proof      cryptography (Ed25519) + base58: a did:key and a compact JWS proof (alg EdDSA)
    saml-idp       cryptography: an IdP signing key and self-signed certificate
    saml-response  pysaml2 as the IdP (Server.create_authn_response, signed through xmlsec1)
    httpsig        http-message-signatures: an RFC 9421 hmac-sha256 request signature (+ RFC 9530 Content-Digest)
    tls-cert       cryptography: a test CA (made once per folder) and a server certificate it signs for 127.0.0.1
    tls-peer       Python's ssl: connects to 127.0.0.1:PORT trusting only the test CA and names the leaf it was shown
    batch          each line of standard input (a JSON list of arguments) run as a subcommand: the libraries load once

Each subcommand prints one JSON object on stdout; an error prints a message on stderr and exits 1.
Run with the tests' venv: .venv-test/bin/python Tools/clients/identity-client.py SUBCOMMAND ... (Tools/bootstrap
installs the pins). `Tools/clients/check-identity-client KBS` checks every output against `kbs identity verify`.
"""
import os
import sys

# Python puts this script's folder first on sys.path; drop it so no sibling file can shadow a library module.
HERE = os.path.dirname(os.path.realpath(__file__))
sys.path[:] = [p for p in sys.path if os.path.realpath(p or os.curdir) != HERE]

import argparse  # noqa: E402
import base64  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import secrets  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
import warnings  # noqa: E402

warnings.simplefilter("ignore")  # joserfc's EdDSA / security warnings, pysaml2's deprecations: not for stdout


class Failure(Exception):
    """A usage or input problem: printed as `error: …` on stderr, exit 1."""


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def compact_json(value):
    return json.dumps(value, separators=(",", ":"))


def rfc3339(seconds):
    """RFC 3339 UTC with whole seconds, e.g. 2026-11-25T12:00:00Z."""
    return datetime.datetime.fromtimestamp(int(seconds), tz=datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def key_value(text, what):
    """`k=v` → (k, v); v is read as JSON when it parses (numbers, booleans, arrays), else kept as a string."""
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise Failure(f"{what} must be NAME=VALUE, not {text!r}")
    try:
        return name, json.loads(value)
    except ValueError:
        return name, value


def write_file(path, text, mode=0o644):
    with open(path, "w") as handle:
        handle.write(text)
    os.chmod(path, mode)


# --- OIDC (joserfc)

def oidc_issuer(args):
    from joserfc.jwk import ECKey, RSAKey

    os.makedirs(args.out, exist_ok=True)
    parameters = {"alg": args.alg, "use": "sig"}
    key = RSAKey.generate_key(2048, parameters) if args.alg == "RS256" else ECKey.generate_key("P-256", parameters)
    kid = args.kid or key.thumbprint()
    key = type(key).import_key(key.as_dict(private=True), {**parameters, "kid": kid})
    jwks_path, private_path = os.path.join(args.out, "jwks.json"), os.path.join(args.out, "private.json")
    write_file(jwks_path, json.dumps({"keys": [key.as_dict(private=False)]}, indent=2) + "\n")
    write_file(private_path, json.dumps(key.as_dict(private=True), indent=2) + "\n", 0o600)
    return {"jwks": os.path.abspath(jwks_path), "private": os.path.abspath(private_path), "kid": kid, "alg": args.alg}


def oidc_token(args):
    from joserfc import jws
    from joserfc.jwk import ECKey, RSAKey, import_key

    try:
        private = json.load(open(args.key))
    except (OSError, ValueError) as error:
        raise Failure(f"--key: {error}")
    key = import_key(private)
    alg = private.get("alg") or ("RS256" if private.get("kty") == "RSA" else "ES256")
    kid = private.get("kid")
    if args.wrong_key:
        # Another key of the same type under the trusted kid: the signature cannot verify.
        parameters = {"alg": alg, "use": "sig", "kid": kid}
        key = RSAKey.generate_key(2048, parameters) if private.get("kty") == "RSA" else ECKey.generate_key("P-256", parameters)

    now = int(time.time())
    audiences = args.aud
    claims = {"iss": args.iss, "sub": args.sub, "aud": audiences[0] if len(audiences) == 1 else audiences,
              "iat": now + args.iat_offset, "exp": now + args.exp_in}
    if args.typ == "at+jwt":
        # RFC 9068 §2.2: iss, exp, aud, sub, client_id, iat, jti are required.
        claims["client_id"] = args.client_id or args.sub
        claims["jti"] = args.jti or str(uuid.uuid4())
        if args.scope:
            claims["scope"] = args.scope
    else:
        # An ID token (OIDC Core §2): iss, sub, aud, exp, iat; nonce when the login sent one; azp when several
        # audiences (our verifier requires azp == our audience then, OIDC Core §3.1.3.7).
        if args.nonce is not None:
            claims["nonce"] = args.nonce
        claims["auth_time"] = now + args.iat_offset
        if args.client_id:
            claims["azp"] = args.client_id
        elif len(audiences) > 1:
            claims["azp"] = audiences[0]
        if args.jti:
            claims["jti"] = args.jti
        if args.scope:
            claims["scope"] = args.scope
    if args.nbf_offset is not None:
        claims["nbf"] = now + args.nbf_offset
    for item in args.claim or []:
        name, value = key_value(item, "--claim")
        if value is None:
            claims.pop(name, None)
        else:
            claims[name] = value
    header = {"alg": alg, "typ": args.typ}
    if kid:
        header["kid"] = kid
    token = jws.serialize_compact(header, compact_json(claims).encode(), key, algorithms=[alg])
    return {"token": token, "claims": claims, "header": header}


# --- Ethereum (eth-account, siwe)

def eth_account(key_hex):
    from eth_account import Account

    if key_hex:
        try:
            return Account.from_key(key_hex)
        except Exception as error:  # noqa: BLE001 - the library's own words
            raise Failure(f"--key-hex: {error}")
    return Account.create()


def sign_eip191(text, account):
    from eth_account import Account
    from eth_account.messages import encode_defunct

    return "0x" + bytes(Account.sign_message(encode_defunct(text=text), account.key).signature).hex()


def siwe(args):
    from siwe import SiweMessage

    account = eth_account(args.key_hex)
    signer = eth_account(None) if args.wrong_key else account
    now = int(time.time())
    domain, uri = args.domain, args.uri
    if args.wrong_domain:
        # A phishing site's own sign-in request, replayed to us: its domain and URI, not ours.
        domain, uri = "kbs.attacker.example", "https://kbs.attacker.example/login"
    issued, expires = now + args.issued_offset, now + args.expires_in
    if args.expired:
        issued, expires = now - 7200, now - 3600
    fields = {"domain": domain, "address": account.address, "uri": uri, "version": "1", "chain_id": args.chain_id,
              "nonce": args.nonce, "issued_at": rfc3339(issued)}
    if args.expires_in is not None or args.expired:
        fields["expiration_time"] = rfc3339(expires)
    if args.statement:
        fields["statement"] = args.statement
    if args.request_id:
        fields["request_id"] = args.request_id
    if args.resource:
        fields["resources"] = args.resource
    try:
        message = SiweMessage(**fields).prepare_message()
    except Exception as error:  # noqa: BLE001 - pydantic's validation words (nonce, URI, address)
        raise Failure("siwe refuses the message fields: " + " ".join(str(error).strip().splitlines()[:3]))
    return {"message": message, "signature": sign_eip191(message, signer), "address": account.address,
            "private_key": "0x" + bytes(account.key).hex()}


def eip712(args):
    from eth_account import Account
    from eth_account.messages import encode_typed_data

    account = eth_account(args.key_hex)
    signer = eth_account(None) if args.wrong_key else account
    domain_type = [{"name": "name", "type": "string"}, {"name": "version", "type": "string"},
                   {"name": "chainId", "type": "uint256"}]
    domain = {"name": args.domain_name, "version": args.version, "chainId": args.chain_id}
    if args.verifying_contract:
        domain_type.append({"name": "verifyingContract", "type": "address"})
        domain["verifyingContract"] = args.verifying_contract
    typed = {
        "types": {
            "EIP712Domain": domain_type,
            "Login": [{"name": "address", "type": "address"}, {"name": "nonce", "type": "string"},
                      {"name": "issuedAt", "type": "string"}],
        },
        "primaryType": "Login",
        "domain": domain,
        "message": {"address": account.address, "nonce": args.nonce,
                    "issuedAt": rfc3339(int(time.time()) + args.issued_offset)},
    }
    signable = encode_typed_data(full_message=typed)
    signature = "0x" + bytes(Account.sign_message(signable, signer.key).signature).hex()
    return {"typedData": typed, "signature": signature, "address": account.address,
            "private_key": "0x" + bytes(account.key).hex()}


# --- DID (cryptography Ed25519, base58)

ED25519_PUB_MULTICODEC = b"\xed\x01"  # varint of 0xed, the multicodec ed25519-pub


def did_proof(args):
    import base58
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    if args.key_file and os.path.exists(args.key_file):
        try:
            key = serialization.load_pem_private_key(open(args.key_file, "rb").read(), password=None)
        except (OSError, ValueError) as error:
            raise Failure(f"--key-file: {error}")
        if not isinstance(key, Ed25519PrivateKey):
            raise Failure("--key-file must hold an Ed25519 private key (PKCS#8 PEM)")
    else:
        key = Ed25519PrivateKey.generate()
        if args.key_file:
            pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
            write_file(args.key_file, pem.decode(), 0o600)
    public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    identifier = "z" + base58.b58encode(ED25519_PUB_MULTICODEC + public).decode()
    did = "did:key:" + identifier
    kid = f"{did}#{identifier}"  # did:key's one verification method is #<the method-specific identifier>
    now = int(time.time())
    claims = {"iss": did, "aud": args.aud, "nonce": args.nonce, "iat": now + args.iat_offset, "exp": now + args.exp_in}
    for item in args.claim or []:
        name, value = key_value(item, "--claim")
        if value is None:
            claims.pop(name, None)
        else:
            claims[name] = value
    header = {"alg": "EdDSA", "typ": "JWT", "kid": kid}
    signing_input = f"{b64u(compact_json(header).encode())}.{b64u(compact_json(claims).encode())}"
    signer = Ed25519PrivateKey.generate() if args.wrong_key else key
    proof = f"{signing_input}.{b64u(signer.sign(signing_input.encode()))}"
    return {"proof": proof, "did": did, "kid": kid, "claims": claims}


# --- SAML (cryptography for the IdP key, pysaml2 as the IdP)

def saml_idp(args):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    os.makedirs(args.out, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    common_name = args.entity_id.split("://", 1)[-1].split("/", 1)[0].split(":")[0][:64] or "idp"
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Hanzo KBS test IdP (test only)")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = os.path.join(args.out, "idp.crt"), os.path.join(args.out, "idp.key")
    write_file(cert_path, cert.public_bytes(serialization.Encoding.PEM).decode())
    write_file(key_path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                           serialization.NoEncryption()).decode(), 0o600)
    with open(os.path.join(args.out, "entity-id"), "w") as handle:
        handle.write(args.entity_id + "\n")
    return {"cert": os.path.abspath(cert_path), "key": os.path.abspath(key_path), "entity_id": args.entity_id}


def tls_cert(args):
    """DIR/ca.pem (+ ca.key, made on first use) and DIR/NAME.pem, DIR/NAME.key: a leaf for 127.0.0.1 and localhost."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    os.makedirs(args.out, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_cert_path, ca_key_path = os.path.join(args.out, "ca.pem"), os.path.join(args.out, "ca.key")
    if os.path.exists(ca_key_path):
        with open(ca_key_path, "rb") as handle:
            ca_key = serialization.load_pem_private_key(handle.read(), None)
        with open(ca_cert_path, "rb") as handle:
            ca_cert = x509.load_pem_x509_certificate(handle.read())
    else:
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Hanzo KBS test CA (test only)")])
        ca_cert = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
                   .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                   .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
                   .sign(ca_key, hashes.SHA256()))
        write_file(ca_cert_path, ca_cert.public_bytes(serialization.Encoding.PEM).decode())
        write_file(ca_key_path, ca_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                     serialization.NoEncryption()).decode(), 0o600)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, args.name)]))
            .issuer_name(ca_cert.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                        x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    cert_path, key_path = os.path.join(args.out, args.name + ".pem"), os.path.join(args.out, args.name + ".key")
    write_file(cert_path, cert.public_bytes(serialization.Encoding.PEM).decode())
    write_file(key_path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()).decode(), 0o600)
    return {"ca": os.path.abspath(ca_cert_path), "cert": os.path.abspath(cert_path), "key": os.path.abspath(key_path)}


def tls_peer(args):
    """A TLS handshake with 127.0.0.1:PORT that trusts only --ca: the leaf's common name and the protocols agreed."""
    import socket
    import ssl

    context = ssl.create_default_context(cafile=args.ca)
    context.set_alpn_protocols(["h2", "http/1.1"])
    with socket.create_connection(("127.0.0.1", args.port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            subject = dict(item[0] for item in tls.getpeercert()["subject"])
            return {"common_name": subject.get("commonName"), "version": tls.version(), "alpn": tls.selected_alpn_protocol()}


def _shift_saml_clock(seconds):
    """Moves pysaml2's clock (IssueInstant, NotBefore, NotOnOrAfter) by `seconds`."""
    import saml2.time_util

    real_time, real_datetime = time, datetime.datetime

    def gmtime(value=None):
        return real_time.gmtime((real_time.time() if value is None else value) + (seconds if value is None else 0))

    saml2.time_util.time = type("ShiftedTime", (), {
        "gmtime": staticmethod(gmtime), "mktime": staticmethod(real_time.mktime),
        "strptime": staticmethod(real_time.strptime), "strftime": staticmethod(real_time.strftime),
        "localtime": staticmethod(real_time.localtime), "time": staticmethod(lambda: real_time.time() + seconds)})

    class ShiftedDatetime(real_datetime):
        @classmethod
        def now(cls, tz=None):
            return real_datetime.now(tz) + datetime.timedelta(seconds=seconds)

    saml2.time_util.datetime = ShiftedDatetime


def _sp_metadata(entity_id, acs_url):
    return ('<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
            f'entityID="{_xml_attr(entity_id)}"><md:SPSSODescriptor '
            'protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol" AuthnRequestsSigned="false" '
            'WantAssertionsSigned="true"><md:AssertionConsumerService index="0" isDefault="true" '
            'Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" '
            f'Location="{_xml_attr(acs_url)}"/></md:SPSSODescriptor></md:EntityDescriptor>')


def _xml_attr(text):
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;"))


WRONG_SP = "https://sp.attacker.example/saml"


def saml_response(args):
    import shutil
    import tempfile

    xmlsec = shutil.which("xmlsec1")
    if xmlsec is None:
        raise Failure("pysaml2 needs the xmlsec1 command (Debian package xmlsec1)")
    cert_path, key_path = os.path.join(args.idp, "idp.crt"), os.path.join(args.idp, "idp.key")
    for path in (cert_path, key_path):
        if not os.path.exists(path):
            raise Failure(f"--idp: {path} is missing (run saml-idp first)")
    workdir = tempfile.mkdtemp(prefix="identity-client-saml-")
    try:
        if args.wrong_key:
            # Another key and certificate, same names: the IdP's own certificate is not what signs.
            saml_idp(argparse.Namespace(out=workdir, entity_id=args.idp_entity_id))
            cert_path, key_path = os.path.join(workdir, "idp.crt"), os.path.join(workdir, "idp.key")
        return _pysaml2_response(args, xmlsec, cert_path, key_path, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _authn_request(url):
    """The HTTP-Redirect binding's parts of a redirect URL (the Location our server answers a login with)."""
    from urllib.parse import parse_qs, urlsplit, urlunsplit

    parts = urlsplit(url)
    query = parse_qs(parts.query)
    if "SAMLRequest" not in query:
        raise Failure("--authn-request: the URL has no SAMLRequest parameter")
    sso_url = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    return sso_url, query["SAMLRequest"][0], query.get("RelayState", [None])[0]


def _pysaml2_response(args, xmlsec, cert_path, key_path, workdir):
    from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, saml
    from saml2.config import IdPConfig
    from saml2.saml import NameID
    from saml2.server import Server
    from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

    sso_url, encoded_request, relay_state = args.idp_entity_id + "/sso", None, None
    if args.authn_request:
        sso_url, encoded_request, relay_state = _authn_request(args.authn_request)
        if not (args.sp_entity_id and args.acs_url):
            # Read the request once, unverified, for the SP's names; pysaml2 parses it below against its metadata.
            import zlib
            from saml2.samlp import authn_request_from_string

            request = authn_request_from_string(zlib.decompress(base64.b64decode(encoded_request), -15).decode())
            args.sp_entity_id = args.sp_entity_id or request.issuer.text
            args.acs_url = args.acs_url or request.assertion_consumer_service_url
    if not (args.sp_entity_id and args.acs_url):
        raise Failure("--sp-entity-id and --acs-url are required without --authn-request")
    audience = WRONG_SP if args.wrong_audience else args.sp_entity_id
    sps = {args.sp_entity_id, audience}
    identity = {}
    for item in args.attr or []:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise Failure(f"--attr must be NAME=VALUE, not {item!r}")
        identity.setdefault(name, []).append(value)
    # pysaml2 renames attributes through its attribute maps (email → urn:mace:dir:attribute-def:email); an identity
    # map in basic name format keeps each --attr name as given.
    names = {name: name for name in identity}
    with open(os.path.join(workdir, "kbs_identity_attribute_map.py"), "w") as handle:
        handle.write("MAP = " + repr({"identifier": "urn:oasis:names:tc:SAML:2.0:attrname-format:basic",
                                       "fro": names, "to": names}) + "\n")
    config = IdPConfig()
    config.load({
        "entityid": args.idp_entity_id,
        "xmlsec_binary": xmlsec,
        "key_file": key_path,
        "cert_file": cert_path,
        "metadata": {"inline": [_sp_metadata(sp, args.acs_url) for sp in sorted(sps)]},
        "service": {"idp": {
            "endpoints": {"single_sign_on_service": [(sso_url, BINDING_HTTP_REDIRECT), (sso_url, BINDING_HTTP_POST)]},
            "policy": {"default": {"lifetime": {"minutes": args.lifetime_minutes}, "attribute_restrictions": None,
                                   "name_form": "urn:oasis:names:tc:SAML:2.0:attrname-format:basic"}},
            "name_id_format": [args.name_id_format],
        }},
        "attribute_map_dir": workdir,
        "allow_unknown_attributes": True,
    })
    server = Server(config=config)
    in_response_to = args.in_response_to
    if encoded_request is not None:
        # The IdP's own reading of the AuthnRequest (inflate, schema, Destination, Issuer in its metadata): the
        # response answers its ID at its ACS URL.
        request = server.parse_authn_request(encoded_request, BINDING_HTTP_REDIRECT).message
        if request.assertion_consumer_service_url not in (None, args.acs_url):
            raise Failure(f"--authn-request asks for ACS {request.assertion_consumer_service_url}, not {args.acs_url}")
        in_response_to = in_response_to or request.id
    if args.expired:
        _shift_saml_clock(-7200)  # an IdP two hours behind: the assertion's windows closed an hour ago
    name_id = NameID(text=args.name_id, format=args.name_id_format)
    sign_assertion = not args.no_sign_assertion
    sign_response = args.sign_response or args.no_sign_assertion
    response = server.create_authn_response(
        identity, in_response_to=in_response_to, destination=args.acs_url, sp_entity_id=audience,
        name_id=name_id, authn={"class_ref": saml.AUTHN_PASSWORD_PROTECTED, "authn_auth": args.idp_entity_id},
        sign_assertion=sign_assertion, sign_response=sign_response, sign_alg=SIG_RSA_SHA256,
        digest_alg=DIGEST_SHA256, session_not_on_or_after=None)
    xml = "\n".join(response) if isinstance(response, list) else str(response)
    if 'Value="urn:oasis:names:tc:SAML:2.0:status:Success"' not in xml:
        raise Failure("pysaml2 answered with an error response: " + xml[:300])
    data = xml.encode()
    result = {"SAMLResponse": base64.b64encode(data).decode(), "xml": xml, "in_response_to": in_response_to,
              "signed": {"assertion": sign_assertion, "response": sign_response}}
    if relay_state is not None:
        result["RelayState"] = relay_state
    return result


# --- RFC 9421 HMAC (http-message-signatures)

class _FieldLines:
    """Headers for the library: items() keeps every field line in order, names keep their case."""

    def __init__(self, lines=()):
        self.lines = [tuple(line) for line in lines]

    def items(self):
        return list(self.lines)

    def __iter__(self):
        return iter(dict.fromkeys(name for name, _ in self.lines))

    def __contains__(self, name):
        return any(field.lower() == name.lower() for field, _ in self.lines)

    def __getitem__(self, name):
        for field, value in self.lines:
            if field.lower() == name.lower():
                return value
        raise KeyError(name)

    def get(self, name, default=None):
        return self[name] if name in self else default

    def __delitem__(self, name):
        self.lines = [(field, value) for field, value in self.lines if field.lower() != name.lower()]

    def __setitem__(self, name, value):
        del self[name]
        self.lines.append((name, value))


class _Request:
    def __init__(self, method, url, headers, body):
        self.method, self.url, self.headers, self.body = method, url, headers, body


def httpsig(args):
    from http_message_signatures import HTTPMessageSigner, MappingKeyResolver
    from http_message_signatures.algorithms import HMAC_SHA256

    lines = []
    for item in args.header or []:
        name, sep, value = item.partition(":")
        if not sep or not name.strip():
            raise Failure(f"--header must be NAME:VALUE, not {item!r}")
        lines.append((name.strip(), value.strip()))
    request = _Request(args.method.upper(), args.url, _FieldLines(lines), args.body)
    covered = ["@method", "@authority", "@path"]
    path_and_query = args.url.split("://", 1)[-1].split("#", 1)[0]
    if "?" in path_and_query:
        covered.append("@query")
    covered += [name.lower() for name, _ in lines]
    # The key: the API key's secret string as UTF-8 bytes (what the server holds), unless --secret-base64.
    secret = base64.b64decode(args.secret, validate=True) if args.secret_base64 else args.secret.encode("utf-8")
    signer = HTTPMessageSigner(signature_algorithm=HMAC_SHA256,
                               key_resolver=MappingKeyResolver(public_keys={}, private_keys={args.key_id: secret}))
    now = int(time.time())
    created = datetime.datetime.fromtimestamp(now + args.created_offset, tz=datetime.timezone.utc)
    expires = (datetime.datetime.fromtimestamp(now + args.created_offset + args.expires_in, tz=datetime.timezone.utc)
               if args.expires_in is not None else None)
    nonce = args.nonce or secrets.token_urlsafe(16)
    body = args.body.encode("utf-8") if args.body else None
    # With a body the library adds content-digest (RFC 9530, sha-256) to the covered components itself.
    signer.sign(request, key_id=args.key_id, created=created, expires=expires, nonce=nonce, label=args.label,
                tag=args.tag, include_alg=not args.no_alg, covered_component_ids=covered, body=body)
    headers = {}
    for name, value in request.headers.lines:
        if name.lower() in ("signature-input", "signature", "content-digest"):
            headers[{"signature-input": "Signature-Input", "signature": "Signature",
                     "content-digest": "Content-Digest"}[name.lower()]] = value
    credential = {"method": request.method, "target_uri": args.url,
                  "headers": [list(line) for line in request.headers.lines]}
    if args.body is not None:
        credential["body"] = args.body
    return {"headers": headers, "credential": credential, "nonce": nonce,
            "key_base64": base64.b64encode(secret).decode()}


# --- Command line

class _Parser(argparse.ArgumentParser):
    """Usage errors exit 1 like every other error (argparse's default is 2)."""

    def error(self, message):
        self.print_usage(sys.stderr)
        print(f"error: {message}", file=sys.stderr)
        sys.exit(1)


def recipient(args):
    """A P-256 key pair for identity-only release: the private JWK to a file, the public JWK printed."""
    from joserfc.jwk import ECKey
    key = ECKey.generate_key("P-256")
    write_file(args.out, json.dumps(key.as_dict(private=True)), mode=0o600)
    return {"recipient": key.as_dict(private=False), "key": args.out}


def decrypt(args):
    """Decrypts the flattened JWE JSON the server returns, with joserfc; the plaintext as base64."""
    from joserfc import jwe
    from joserfc.jwk import ECKey
    with open(args.key) as handle:
        key = ECKey.import_key(json.load(handle))
    data = json.loads(args.jwe)
    result = jwe.decrypt_json(data, key, algorithms=["ECDH-ES+A256KW", "A256GCM"])
    return {"plaintext": base64.b64encode(result.plaintext).decode()}


def batch(args):
    """Runs each line of standard input, a JSON list of arguments, as one subcommand; the answers in order."""
    results = []
    for number, line in enumerate(sys.stdin, 1):
        if not line.strip():
            continue
        try:
            argv = json.loads(line)
        except ValueError as error:
            raise Failure(f"line {number}: not JSON: {error}")
        if not isinstance(argv, list) or not all(isinstance(item, str) for item in argv):
            raise Failure(f"line {number}: not a list of strings")
        if argv[:1] == ["batch"]:
            raise Failure(f"line {number}: batch does not nest")
        item = parser().parse_args(argv)
        try:
            results.append(item.run(item))
        except Failure as error:
            raise Failure(f"line {number} ({argv[0]}): {error}")
    return {"results": results}


def parser():
    top = _Parser(prog="identity-client", description=__doc__.split("\n\n")[0])
    commands = top.add_subparsers(dest="command", required=True)

    p = commands.add_parser("oidc-issuer", help="an OIDC issuer's signing key and JWK Set (joserfc)")
    p.add_argument("--out", required=True, help="folder for jwks.json and private.json")
    p.add_argument("--alg", choices=("RS256", "ES256"), default="RS256")
    p.add_argument("--kid", help="key id (default: the RFC 7638 thumbprint)")
    p.set_defaults(run=oidc_issuer)

    p = commands.add_parser("oidc-token", help="an ID token or RFC 9068 access token (joserfc)")
    p.add_argument("--key", required=True, help="DIR/private.json from oidc-issuer")
    p.add_argument("--iss", required=True)
    p.add_argument("--aud", required=True, action="append", help="repeat for several audiences")
    p.add_argument("--sub", required=True)
    p.add_argument("--typ", choices=("JWT", "at+jwt"), default="JWT", help="JWT: ID token; at+jwt: access token")
    p.add_argument("--exp-in", type=int, default=300, help="seconds until exp (negative: expired; past 60 s leeway)")
    p.add_argument("--iat-offset", type=int, default=0, help="iat relative to now, seconds")
    p.add_argument("--nbf-offset", type=int, help="adds nbf, relative to now")
    p.add_argument("--nonce", help="ID tokens: the nonce the login sent")
    p.add_argument("--client-id", help="at+jwt: client_id (default: sub); JWT: azp")
    p.add_argument("--scope")
    p.add_argument("--jti", help="at+jwt: jti (default: a random UUID)")
    p.add_argument("--claim", action="append", metavar="K=V", help="set a claim (V as JSON if it parses; null removes)")
    p.add_argument("--wrong-key", action="store_true", help="sign with a fresh key under the trusted kid")
    p.set_defaults(run=oidc_token)

    p = commands.add_parser("siwe", help="an EIP-4361 message signed by an Ethereum key (siwe, eth-account)")
    p.add_argument("--domain", required=True, help="host[:port]")
    p.add_argument("--uri", required=True)
    p.add_argument("--chain-id", type=int, required=True)
    p.add_argument("--nonce", required=True, help="the challenge (8+ letters and digits)")
    p.add_argument("--key-hex", help="reuse this private key (0x…); default a fresh one")
    p.add_argument("--statement")
    p.add_argument("--request-id")
    p.add_argument("--resource", action="append")
    p.add_argument("--issued-offset", type=int, default=0, help="Issued At relative to now, seconds")
    p.add_argument("--expires-in", type=int, default=300, help="Expiration Time relative to now, seconds")
    p.add_argument("--expired", action="store_true", help="Issued At two hours ago, Expiration Time one hour ago")
    p.add_argument("--wrong-domain", action="store_true", help="a phishing site's domain and URI")
    p.add_argument("--wrong-key", action="store_true", help="signed by another key than the message's address")
    p.set_defaults(run=siwe)

    p = commands.add_parser("eip712", help="EIP-712 typed data carrying the challenge (eth-account)")
    p.add_argument("--nonce", required=True)
    p.add_argument("--chain-id", type=int, required=True)
    p.add_argument("--domain-name", required=True)
    p.add_argument("--version", default="1", help="the domain's version (default 1)")
    p.add_argument("--verifying-contract", help="adds verifyingContract to the domain")
    p.add_argument("--issued-offset", type=int, default=0)
    p.add_argument("--key-hex")
    p.add_argument("--wrong-key", action="store_true", help="signed by another key than message.address")
    p.set_defaults(run=eip712)

    p = commands.add_parser("did-proof", help="a did:key (Ed25519) and a compact JWS proof (cryptography)")
    p.add_argument("--aud", required=True)
    p.add_argument("--nonce", required=True)
    p.add_argument("--exp-in", type=int, default=300, help="seconds until exp (negative: expired; past 60 s leeway)")
    p.add_argument("--iat-offset", type=int, default=0)
    p.add_argument("--key-file", help="Ed25519 PKCS#8 PEM: read if present, else created (same DID across calls)")
    p.add_argument("--claim", action="append", metavar="K=V")
    p.add_argument("--wrong-key", action="store_true", help="signed by another key than the DID's")
    p.set_defaults(run=did_proof)

    p = commands.add_parser("saml-idp", help="an IdP signing key and self-signed certificate (cryptography)")
    p.add_argument("--out", required=True)
    p.add_argument("--entity-id", required=True)
    p.set_defaults(run=saml_idp)

    p = commands.add_parser("saml-response", help="a signed SAML 2.0 Response from pysaml2 as the IdP")
    p.add_argument("--idp", required=True, help="the folder saml-idp wrote")
    p.add_argument("--idp-entity-id", required=True)
    p.add_argument("--sp-entity-id", help="required unless --authn-request names it")
    p.add_argument("--acs-url", help="required unless --authn-request names it")
    p.add_argument("--in-response-to", help="the AuthnRequest ID (leave out for an IdP-initiated response)")
    p.add_argument("--authn-request", metavar="URL",
                   help="the HTTP-Redirect URL the server sent the browser to: pysaml2 parses its SAMLRequest and "
                        "answers its ID (and RelayState is echoed)")
    p.add_argument("--name-id", required=True)
    p.add_argument("--name-id-format", default="urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified")
    p.add_argument("--attr", action="append", metavar="K=V", help="an attribute value (repeat a name for several)")
    p.add_argument("--lifetime-minutes", type=int, default=15)
    p.add_argument("--sign-response", action="store_true", help="sign the Response too (default: the Assertion only)")
    p.add_argument("--no-sign-assertion", action="store_true", help="sign the Response only")
    p.add_argument("--expired", action="store_true", help="minted by an IdP clock two hours behind")
    p.add_argument("--wrong-audience", action="store_true", help=f"Audience {WRONG_SP}")
    p.add_argument("--wrong-key", action="store_true", help="signed by another key (its own certificate in KeyInfo)")
    p.set_defaults(run=saml_response)

    p = commands.add_parser("httpsig", help="an RFC 9421 hmac-sha256 signature (http-message-signatures)")
    p.add_argument("--key-id", required=True)
    p.add_argument("--secret", required=True, help="the API key's secret; its UTF-8 bytes are the HMAC key")
    p.add_argument("--secret-base64", action="store_true", help="--secret is base64 of the key bytes instead")
    p.add_argument("--method", required=True)
    p.add_argument("--url", required=True, help="the absolute target URI")
    p.add_argument("--body", help="the body as UTF-8 text (covered through Content-Digest)")
    p.add_argument("--header", action="append", metavar="NAME:VALUE", help="an extra header, sent and covered")
    p.add_argument("--created-offset", type=int, default=0, help="created relative to now (e.g. -400: too old)")
    p.add_argument("--expires-in", type=int, help="adds expires = created + this")
    p.add_argument("--nonce", help="default: 16 random bytes, base64url")
    p.add_argument("--tag", default="kbs")
    p.add_argument("--label", default="kbs")
    p.add_argument("--no-alg", action="store_true", help="leave the alg parameter out")
    p.set_defaults(run=httpsig)

    p = commands.add_parser("recipient", help="a P-256 recipient key for identity-only release (joserfc)")
    p.add_argument("--out", required=True, help="where the private JWK goes")
    p.set_defaults(run=recipient)

    p = commands.add_parser("decrypt", help="decrypt the server's flattened JWE JSON (joserfc)")
    p.add_argument("--key", required=True, help="the private JWK file recipient wrote")
    p.add_argument("--jwe", required=True, help="the JWE JSON text")
    p.set_defaults(run=decrypt)

    p = commands.add_parser("tls-cert", help="a test CA and a server certificate for 127.0.0.1 (cryptography)")
    p.add_argument("--out", required=True)
    p.add_argument("--name", required=True, help="the leaf's common name and file name")
    p.set_defaults(run=tls_cert)

    p = commands.add_parser("tls-peer", help="the certificate 127.0.0.1:PORT presents, verified against --ca (ssl)")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--ca", required=True)
    p.set_defaults(run=tls_peer)

    p = commands.add_parser("batch", help="run many subcommands, one JSON list of arguments a line on stdin")
    p.set_defaults(run=batch)
    return top


def main(argv=None):
    args = parser().parse_args(argv)
    try:
        result = args.run(args)
    except Failure as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except Exception as error:  # noqa: BLE001 - a library refusal: one line on stderr, exit 1
        print(f"error: {args.command}: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
