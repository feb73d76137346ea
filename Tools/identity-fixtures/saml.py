#!/usr/bin/env python3
"""Mints Fixtures/identity/saml/: SAML 2.0 Responses (the XML, not base64) signed with XML-DSig, see
Fixtures/identity/FORMAT.md. `signxml` (lxml) signs every signature: enveloped, exclusive c14n, rsa-sha256 and
sha256 unless a case says otherwise, the ds:Signature placed right after the Issuer of the element it signs. Three
references are recorded per case:

- signxml's XMLVerifier, pinned to the IdP certificate (x509_cert), one reference expected, clock at NOW, run on the
  signature at each SAML position (child of the Response, child of the first Assertion), and on the first signature
  anywhere (`.//`) when that is another one; with the NameID of what it says was signed (its `signed_xml`).
- the `xmlsec1` command (Debian package xmlsec1, libxmlsec1 as the Swift verifier links it): `--verify` of every
  ds:Signature in the document with the pinned certificate and ID attributes on Response and Assertion. It checks
  the cryptography only.
- pysaml2 as a service provider (Saml2Client.parse_authn_request_response, signatures through the same xmlsec1,
  IdP metadata holding the pinned certificate, 60 s slack, clock frozen at NOW): a whole-SAML verdict.

Keys are test keys derived from public labels (RSA primes from a SHAKE-256 stream, EC scalars from SHA-512), so every
run mints the same files without committing private keys: RSA PKCS#1 v1.5 is deterministic, ECDSA is signed with
RFC 6979 nonces.

Run through Tools/gen-identity-fixtures (it makes the venv from saml.txt). Writes only Fixtures/identity/saml/.
"""
import os
import sys

# Python puts this script's folder first on sys.path, where sibling generators (jwt.py) would shadow modules of the
# same name that the libraries import. Drop the folder first.
HERE = os.path.dirname(os.path.realpath(__file__))
sys.path[:] = [p for p in sys.path if os.path.realpath(p or os.curdir) != HERE]

import base64  # noqa: E402
import copy  # noqa: E402
import datetime  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import textwrap  # noqa: E402
import time  # noqa: E402
import types  # noqa: E402
from importlib.metadata import version  # noqa: E402

from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, rsa  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402
from lxml import etree  # noqa: E402
from signxml import (  # noqa: E402
    CanonicalizationMethod,
    DigestAlgorithm,
    SignatureConfiguration,
    SignatureMethod,
    SignatureReference,
    XMLSigner,
    XMLVerifier,
    methods,
)
from signxml.exceptions import InvalidInput, SignXMLException  # noqa: E402
from fixture_files import write_if_changed
from test_keys import ec_key, rsa_key  # noqa: E402

OUT = os.path.join(HERE, "..", "..", "Fixtures", "identity", "saml")
NOW_TEXT = "2026-11-25T12:00:00Z"
NOW_DT = datetime.datetime(2026, 11, 25, 12, 0, 0, tzinfo=datetime.timezone.utc)
NOW = int(NOW_DT.timestamp())
LEEWAY = 60
LIBRARIES = ("signxml", "lxml", "pysaml2", "cryptography")

ISSUER = "https://idp.example.org/saml2/idp"
SP_ENTITY_ID = "https://kbs.example.com/saml/sp"
ACS_URL = "https://kbs.example.com/saml/acs"
REQUEST_ID = "_req-4f2a7c19e3b84d0a"

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
DS = "http://www.w3.org/2000/09/xmldsig#"
XENC = "http://www.w3.org/2001/04/xmlenc#"
BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
HOLDER_OF_KEY = "urn:oasis:names:tc:SAML:2.0:cm:holder-of-key"
SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
RESPONDER = "urn:oasis:names:tc:SAML:2.0:status:Responder"
AUTHN_FAILED = "urn:oasis:names:tc:SAML:2.0:status:AuthnFailed"
EMAIL_FORMAT = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
EXC_C14N = CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0
NS = {"samlp": SAMLP, "saml": SAML, "ds": DS}

ALICE = "alice@example.com"
ADMIN = "admin@example.com"


def write(name, text):
    write_if_changed(os.path.join(OUT, name), text)


# --- Keys: test keys from public labels (lib/test_keys.py), the same on every run.


class DeterministicECKey:
    """An EC private key whose ECDSA signatures use RFC 6979 nonces, so re-signing yields the same bytes."""

    def __init__(self, key):
        self._key = key
        self.key_size = key.key_size
        self.curve = key.curve

    def sign(self, data, signature_algorithm):
        return self._key.sign(data, ec.ECDSA(signature_algorithm.algorithm, deterministic_signing=True))

    def public_key(self):
        return self._key.public_key()


def certificate(key, common_name, serial, *, organization="Hanzo KBS test IdP (test only)"):
    """A self-signed certificate, valid 2026-01-01 to 2036-01-01; deterministic for RSA and (RFC 6979) for EC."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization)])
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
               .serial_number(serial)
               .not_valid_before(datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc))
               .not_valid_after(datetime.datetime(2036, 1, 1, tzinfo=datetime.timezone.utc))
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                            data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                            crl_sign=False, encipher_only=False, decipher_only=False),
                              critical=True))
    if isinstance(key, ec.EllipticCurvePrivateKey):
        hash_algorithm = hashes.SHA384() if key.key_size > 256 else hashes.SHA256()
        return builder.sign(key, hash_algorithm, ecdsa_deterministic=True)
    return builder.sign(key, hashes.SHA256())


def pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM).decode()


IDP_KEY = rsa_key("hanzo-kbs saml idp")
IDP_CERT = certificate(IDP_KEY, "idp.example.org", 0x5A4D4C01)
IDP_P256_KEY = ec_key("hanzo-kbs saml idp p-256", "P-256")
IDP_P256_CERT = certificate(IDP_P256_KEY, "idp.example.org", 0x5A4D4C02)
IDP_P384_KEY = ec_key("hanzo-kbs saml idp p-384", "P-384")
IDP_P384_CERT = certificate(IDP_P384_KEY, "idp.example.org", 0x5A4D4C03)
# The attacker's own key and certificates: never pinned. The mimic certificate copies the IdP certificate's names,
# serial number and validity; only the key differs.
ATTACKER_KEY = rsa_key("hanzo-kbs saml attacker")
ATTACKER_CERT = certificate(ATTACKER_KEY, "attacker.example", 0x0BAD, organization="Evil Corp")
ATTACKER_MIMIC_CERT = certificate(ATTACKER_KEY, "idp.example.org", 0x5A4D4C01)

CERT_FILES = {"idp-cert.pem": IDP_CERT, "idp-p256-cert.pem": IDP_P256_CERT, "idp-p384-cert.pem": IDP_P384_CERT}


# --- Documents. Text templates (4-space indentation), parsed with lxml, signed by signxml, serialized once.

def ts(offset, frac=""):
    moment = datetime.datetime.fromtimestamp(NOW + offset, tz=datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + frac + "Z"


def attr(name, value):
    return "" if value is None else f' {name}="{value}"'


def attributes_xml(p, attributes):
    lines = [f"<{p}AttributeStatement>"]
    for name, values in attributes:
        lines.append(f'    <{p}Attribute Name="{name}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:basic">')
        for value in values:
            lines.append(f'        <{p}AttributeValue xsi:type="xs:string">{value}</{p}AttributeValue>')
        lines.append(f"    </{p}Attribute>")
    lines.append(f"</{p}AttributeStatement>")
    return "\n".join(lines)


def assertion(aid, *, issuer=ISSUER, name_id=ALICE, subject=True, confirmation=True, method=BEARER,
              recipient=ACS_URL, sc_not_on_or_after=300, sc_in_response_to=None, issue_instant=-10, not_before=-30,
              not_on_or_after=300, audiences=(SP_ENTITY_ID,), attributes=None, advice=False, frac="", prefix="saml",
              default_namespace=False):
    """The Assertion as text. `name_id` is XML text (already escaped); None leaves NameID out."""
    p = "" if default_namespace else prefix + ":"
    declarations = f' xmlns="{SAML}"' if default_namespace else f' xmlns:{prefix}="{SAML}"'
    if attributes:
        declarations += (' xmlns:xs="http://www.w3.org/2001/XMLSchema"'
                         ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"')
    body = [f"<{p}Issuer>{issuer}</{p}Issuer>"]
    if subject:
        body.append(f"<{p}Subject>")
        if name_id is not None:
            body.append(f'    <{p}NameID Format="{EMAIL_FORMAT}">{name_id}</{p}NameID>')
        if confirmation:
            data = (attr("InResponseTo", sc_in_response_to) + attr("NotOnOrAfter", ts(sc_not_on_or_after, frac))
                    + attr("Recipient", recipient))
            body += [f'    <{p}SubjectConfirmation Method="{method}">',
                     f"        <{p}SubjectConfirmationData{data}/>",
                     f"    </{p}SubjectConfirmation>"]
        body.append(f"</{p}Subject>")
    body.append(f'<{p}Conditions NotBefore="{ts(not_before, frac)}" NotOnOrAfter="{ts(not_on_or_after, frac)}">')
    if audiences is not None:
        body.append(f"    <{p}AudienceRestriction>")
        body += [f"        <{p}Audience>{audience}</{p}Audience>" for audience in audiences]
        body.append(f"    </{p}AudienceRestriction>")
    body.append(f"</{p}Conditions>")
    if advice:
        body.append(f"<{p}Advice/>")  # the caller appends the (signed) content with lxml: text would re-indent it
    body += [f'<{p}AuthnStatement AuthnInstant="{ts(-20, frac)}" SessionIndex="_session-{aid[1:]}"'
             f' SessionNotOnOrAfter="{ts(8 * 3600, frac)}">',
             f"    <{p}AuthnContext>",
             f"        <{p}AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
             f"</{p}AuthnContextClassRef>",
             f"    </{p}AuthnContext>",
             f"</{p}AuthnStatement>"]
    if attributes:
        body.append(attributes_xml(p, attributes))
    return (f'<{p}Assertion{declarations} ID="{aid}" Version="2.0" IssueInstant="{ts(issue_instant, frac)}">\n'
            + textwrap.indent("\n".join(body), "    ") + f"\n</{p}Assertion>")


def response(rid, content, *, issuer=ISSUER, destination=ACS_URL, in_response_to=None, status=SUCCESS,
             sub_status=None, issue_instant=-10, extensions=False, frac="", prefixes=("samlp", "saml"),
             default_namespace=False):
    """The Response as text; `content` is the Assertion text (or other children after Status)."""
    pp = "" if default_namespace else prefixes[0] + ":"
    ap = prefixes[1] + ":"
    if default_namespace:
        declarations = f' xmlns="{SAMLP}"'
        issuer_element = f'<Issuer xmlns="{SAML}">{issuer}</Issuer>'
    else:
        declarations = f' xmlns:{prefixes[0]}="{SAMLP}" xmlns:{prefixes[1]}="{SAML}"'
        issuer_element = f"<{ap}Issuer>{issuer}</{ap}Issuer>"
    body = [] if issuer is None else [issuer_element]
    if extensions:
        body.append(f"<{pp}Extensions/>")  # the caller appends the (signed) content with lxml
    if sub_status:
        body += [f"<{pp}Status>", f'    <{pp}StatusCode Value="{status}">',
                 f'        <{pp}StatusCode Value="{sub_status}"/>', f"    </{pp}StatusCode>",
                 f"    <{pp}StatusMessage>Authentication failed</{pp}StatusMessage>", f"</{pp}Status>"]
    else:
        body += [f"<{pp}Status>", f'    <{pp}StatusCode Value="{status}"/>', f"</{pp}Status>"]
    if content:
        body.append(content)
    head = (f'<{pp}Response{declarations} ID="{rid}" Version="2.0" IssueInstant="{ts(issue_instant, frac)}"'
            + attr("Destination", destination) + attr("InResponseTo", in_response_to) + ">")
    return head + "\n" + textwrap.indent("\n".join(body), "    ") + f"\n</{pp}Response>"


PARSER = etree.XMLParser(resolve_entities=False, remove_blank_text=False)


def parse(text):
    return etree.fromstring(text.encode() if isinstance(text, str) else text, parser=PARSER)


def serialize(root):
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8").decode() + "\n"


def by_id(root, identifier):
    found = root.xpath("//*[@ID=$id]", id=identifier)
    assert len(found) == 1, (identifier, len(found))
    return found[0]


def detach(element):
    """Removes `element` but leaves its tail text where it was (lxml's remove() takes the tail along), as the
    enveloped-signature transform does: the digest of what remains must not change."""
    parent, tail = element.getparent(), element.tail
    previous = element.getprevious()
    if tail:
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(element)
    element.tail = None
    return element


def signatures(root):
    return list(root.iter(f"{{{DS}}}Signature"))


class Signer(XMLSigner):
    """signxml's signer; SHA-1 allowed here so that the fixtures can carry it (it refuses by default)."""

    def check_deprecated_methods(self):
        pass


def sign(root, target_id, *, key=IDP_KEY, cert=IDP_CERT, method=SignatureMethod.RSA_SHA256,
         digest=DigestAlgorithm.SHA256, c14n=EXC_C14N, references=None, inclusive_prefixes=None, key_info=True,
         ds_prefix="ds"):
    """Signs the element with ID `target_id` (enveloped, ds:Signature after its Issuer). Returns the new root."""
    target = by_id(root, target_id)
    placeholder = etree.Element(f"{{{DS}}}Signature", Id="placeholder", nsmap={ds_prefix: DS})
    issuer = next((child for child in target if child.tag == f"{{{SAML}}}Issuer"), None)
    if issuer is not None:
        placeholder.tail = issuer.tail
        issuer.addnext(placeholder)
    else:
        placeholder.tail = target.text
        target.insert(0, placeholder)
    signer = Signer(method=methods.enveloped, signature_algorithm=method, digest_algorithm=digest,
                    c14n_algorithm=c14n)
    signer.namespaces = {ds_prefix: DS}
    if references is None:
        references = [SignatureReference(URI="#" + target_id, inclusive_ns_prefixes=inclusive_prefixes)]
    if isinstance(key, ec.EllipticCurvePrivateKey):
        key = DeterministicECKey(key)
    signed = signer.sign(root, key=key, cert=pem(cert) if cert is not None and key_info else None,
                         reference_uri=references, id_attribute="ID", inclusive_ns_prefixes=inclusive_prefixes)
    if not key_info:
        for info in signed.iter(f"{{{DS}}}KeyInfo"):
            info.getparent().remove(info)
    return parse(etree.tostring(signed))


def reseal(root, signature, *, key=IDP_KEY):
    """Recomputes every DigestValue and the SignatureValue of `signature` (already in `root`) after its SignedInfo
    was edited, with signxml's own reference resolution, transforms and c14n; RSA PKCS#1 v1.5 with SHA-256."""
    from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
    verifier = XMLVerifier()
    verifier.config = SignatureConfiguration()
    verifier.id_attributes = ("ID",)
    path = root.getroottree().getelementpath(signature)
    for index, reference in enumerate(signature.findall("ds:SignedInfo/ds:Reference", NS)):
        copied_root = verifier._fromstring(verifier._tostring(root))
        copied_signature = copied_root if path == "." else copied_root.find(path)
        payload = verifier._resolve_reference(copied_root, reference)
        payload = verifier._apply_transforms(payload, transforms_node=reference.find("ds:Transforms", NS),
                                             signature=copied_signature)
        algorithm = DigestAlgorithm(reference.find("ds:DigestMethod", NS).get("Algorithm"))
        reference.find("ds:DigestValue", NS).text = base64.b64encode(verifier._get_digest(payload, algorithm)).decode()
    method = signature.find("ds:SignedInfo/ds:CanonicalizationMethod", NS)
    standalone = verifier._fromstring(verifier._tostring(signature)).find("ds:SignedInfo", NS)
    signed_info_c14n = verifier._c14n(standalone, algorithm=CanonicalizationMethod(method.get("Algorithm")),
                                      inclusive_ns_prefixes=verifier._get_inclusive_ns_prefixes(method))
    value = key.sign(signed_info_c14n, PKCS1v15(), hashes.SHA256())
    signature.find("ds:SignatureValue", NS).text = base64.b64encode(value).decode()
    return root


EC14N = "http://www.w3.org/2001/10/xml-exc-c14n#"


def with_prefix_list(root, prefixes):
    """Puts <ec:InclusiveNamespaces PrefixList=...> in the CanonicalizationMethod and in the exc-c14n Transform of
    the root's first Signature and reseals it. (signxml 5.2.0, enveloped, digests with the prefix list but leaves
    it out of the Transform, so its own output does not verify.)"""
    signature = root.find(".//ds:Signature", NS)
    for parent in (signature.find("ds:SignedInfo/ds:CanonicalizationMethod", NS),
                   signature.find(f"ds:SignedInfo/ds:Reference/ds:Transforms/ds:Transform[@Algorithm='{EC14N}']", NS)):
        for old in list(parent):
            parent.remove(old)
        etree.SubElement(parent, f"{{{EC14N}}}InclusiveNamespaces", PrefixList=" ".join(prefixes), nsmap={"ec": EC14N})
    return reseal(root, signature)


def doc(name, *, sign_response=False, sign_assertion=False, rid=None, aid=None, response_options=None,
        assertion_options=None, assertion_sign_options=None, response_sign_options=None):
    """The usual shapes: a Response with one Assertion, signed as asked (assertion first, then response)."""
    rid = rid or f"_resp-{name}"
    aid = aid or f"_assert-{name}"
    text = response(rid, assertion(aid, **(assertion_options or {})), **(response_options or {}))
    root = parse(text)
    if sign_assertion:
        root = sign(root, aid, **(assertion_sign_options or {}))
    if sign_response:
        root = sign(root, rid, **(response_sign_options or {}))
    return root


# --- References.

def _one_line(words):
    return re.sub(r"\s+", " ", str(words)).strip()


def _nameids(element):
    return ["".join(node.itertext()) for node in element.iter(f"{{{SAML}}}NameID")]


def signxml_reference(data, cert):
    """What signxml's XMLVerifier says, pinned to `cert`, at the SAML positions (and at `.//` when that differs)."""
    label = f"signxml {version('signxml')}"
    try:
        root = XMLVerifier().get_root(data)
    except (etree.XMLSyntaxError, InvalidInput) as error:
        return False, [], f"{label} refuses the document: {_one_line(error)}"
    positions = []
    if root.find("ds:Signature", NS) is not None:
        positions.append(("Response signature", "./", root.find("ds:Signature", NS)))
    first_assertion = root.find("saml:Assertion", NS)
    if first_assertion is not None and first_assertion.find("ds:Signature", NS) is not None:
        positions.append(("Assertion signature", f"./{{{SAML}}}Assertion/", first_assertion.find("ds:Signature", NS)))
    anywhere = root.find(".//ds:Signature", NS)
    if anywhere is not None and all(anywhere is not element for _, _, element in positions):
        positions.append(("first signature anywhere (.//)", ".//", anywhere))
    if not positions:
        return False, [], f"{label}: no ds:Signature at all"
    words, verified, signed_names = [], False, []
    for what, location, _ in positions:
        config = SignatureConfiguration(location=location, expect_references=1, verification_time=NOW_DT)
        schema = ""
        try:
            try:
                result = XMLVerifier().verify(data, x509_cert=pem(cert), id_attribute="ID", expect_config=config)
            except etree.DocumentInvalid as error:
                # signxml's bundled XML-DSig schema lacks the exc-c14n InclusiveNamespaces element it emits itself.
                schema = f" (its schema check refuses: {_one_line(error)}; with validate_schema=False)"
                result = XMLVerifier().verify(data, x509_cert=pem(cert), id_attribute="ID", expect_config=config,
                                              validate_schema=False)
        except (SignXMLException, etree.XMLSyntaxError, etree.DocumentInvalid, ValueError) as error:
            words.append(f"{what} refused{schema} ({type(error).__name__}: {_one_line(error)})")
            continue
        signed = result.signed_xml
        names = _nameids(signed) if signed is not None else []
        uri = result.signature_xml.find("ds:SignedInfo/ds:Reference", NS).get("URI")
        words.append(f"{what} verifies{schema} (Reference {uri!r}, signed NameID {names if names else 'none'})")
        if location != ".//":
            verified = True
            signed_names += names
    return verified, signed_names, f"{label}: " + "; ".join(words)


XMLSEC1 = shutil.which("xmlsec1")


def xmlsec1_version():
    if XMLSEC1 is None:
        return None
    out = subprocess.run([XMLSEC1, "--version"], capture_output=True, text=True).stdout.split()
    return out[1] if len(out) > 1 else "?"


def xmlsec1_reference(data, cert):
    """`xmlsec1 --verify` on every ds:Signature of the document, the pinned certificate as the only key (KeyInfo
    read for nothing: `--enabled-key-data raw-x509-cert`, as pysaml2 runs it), same-document references only."""
    if XMLSEC1 is None:
        return "xmlsec1 not installed"
    label = f"xmlsec1 {xmlsec1_version()}"
    if b"<!DOCTYPE" in data:
        return f"{label}: not run (DTD)"
    try:
        root = parse(data)
    except etree.XMLSyntaxError:
        return f"{label}: not run (not XML)"
    count = len(signatures(root))
    if count == 0:
        return f"{label}: no ds:Signature"
    words = []
    with tempfile.TemporaryDirectory() as folder:
        document, key = os.path.join(folder, "doc.xml"), os.path.join(folder, "cert.pem")
        with open(document, "wb") as handle:
            handle.write(data)
        with open(key, "w") as handle:
            handle.write(pem(cert))
        for index, signature in enumerate(signatures(root), 1):
            parent = signature.getparent()
            where = f"in {etree.QName(parent).localname} {parent.get('ID')}" if parent is not None else "root"
            run = subprocess.run(
                [XMLSEC1, "--verify", "--pubkey-cert-pem", key, "--enabled-key-data", "raw-x509-cert",
                 "--enabled-reference-uris", "empty,same-doc",
                 "--id-attr:ID", f"{SAMLP}:Response", "--id-attr:ID", f"{SAML}:Assertion",
                 "--node-xpath", f"(//*[local-name()='Signature' and namespace-uri()='{DS}'])[{index}]", document],
                capture_output=True, text=True)
            if run.returncode == 0:
                words.append(f"signature {index} ({where}) OK")
            else:
                # The last libxmlsec error that is not about the KeyInfo certificate's own chain (a self-signed
                # certificate fails X509_verify_cert; xmlsec then takes the pinned key from its keys manager).
                lines = run.stderr.splitlines()
                errors = [line.split(":", 5)[-1] for line in lines
                          if line.startswith("func=") and "obj=x509-store" not in line]
                errors = errors[-1:] or [line for line in lines if line.startswith("Error:")][:1] or ["?"]
                reason = re.sub(r"\s*\S*" + re.escape(folder) + r"\S*", "", errors[0])
                words.append(f"signature {index} ({where}) FAILS ({_one_line(reason)})")
    return f"{label}: " + "; ".join(words)


# pysaml2 as a service provider, its clock frozen at NOW.

def _frozen_clock():
    import saml2.sigver
    import saml2.time_util

    real = time

    def gmtime(seconds=None):
        return real.gmtime(NOW if seconds is None else seconds)

    saml2.time_util.time = types.SimpleNamespace(
        gmtime=gmtime, mktime=real.mktime, strptime=real.strptime, strftime=real.strftime,
        localtime=real.localtime, time=lambda: float(NOW))

    class FrozenDatetime(datetime.datetime):
        @classmethod
        def now(cls, tz=None):
            return NOW_DT if tz is None else NOW_DT.astimezone(tz)

    saml2.time_util.datetime = FrozenDatetime
    saml2.sigver.datetime = FrozenDatetime


def idp_metadata(cert):
    body = "".join(pem(cert).strip().splitlines()[1:-1])
    return (f'<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="{DS}" '
            f'entityID="{ISSUER}"><md:IDPSSODescriptor protocolSupportEnumeration="{SAMLP}">'
            f'<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{body}'
            f"</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"
            f'<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" '
            f'Location="https://idp.example.org/saml2/sso"/></md:IDPSSODescriptor></md:EntityDescriptor>')


def pysaml2_client(cert, request_id):
    from saml2 import BINDING_HTTP_POST
    from saml2.client import Saml2Client
    from saml2.config import SPConfig

    config = SPConfig()
    config.load({
        "entityid": SP_ENTITY_ID,
        "xmlsec_binary": XMLSEC1,
        "metadata": {"inline": [idp_metadata(cert)]},
        "accepted_time_diff": LEEWAY,
        "allow_unknown_attributes": True,
        "service": {"sp": {
            "endpoints": {"assertion_consumer_service": [(ACS_URL, BINDING_HTTP_POST)]},
            "allow_unsolicited": request_id is None,
            "want_response_signed": False,
            "want_assertions_signed": False,
            "want_assertions_or_response_signed": True,
        }},
    })
    return Saml2Client(config)


def pysaml2_verify(client, data, request_id):
    from saml2 import BINDING_HTTP_POST
    outstanding = {request_id: "/"} if request_id else {}
    encoded = base64.b64encode(data).decode()
    # conv_info with our entity id makes it compare SubjectConfirmationData Recipient (it skips that without).
    result = client.parse_authn_request_response(encoded, BINDING_HTTP_POST, outstanding=outstanding,
                                                 conv_info={"entity_id": SP_ENTITY_ID})
    if result is None:
        raise ValueError("parse_authn_request_response returned None")
    return result


def pysaml2_reference(data, cert, request_id, before=None):
    label = f"pysaml2 {version('pysaml2')}"
    if XMLSEC1 is None:
        return None, f"{label}: not run (no xmlsec1)"
    client = pysaml2_client(cert, request_id)
    if before is not None:
        try:
            pysaml2_verify(client, before, request_id)
        except Exception:  # noqa: BLE001 - the first of a replay pair; its own case records its verdict
            pass
    try:
        result = pysaml2_verify(client, data, request_id)
    except Exception as error:  # noqa: BLE001 - any refusal is the reference's verdict
        details = error.args[0] if error.args else None
        if isinstance(details, dict) and "validators" in details:
            failed = [name for name, passed in details["validators"].items() if not passed]
            words = f"{details.get('message')}: {'; '.join(failed)}"
        elif isinstance(details, dict) and "message" in details:
            words = details["message"]  # its 'reason' holds the whole document
        else:
            words = _one_line(error) or type(error).__name__
        words = re.sub(r"/tmp/[^\s'\"]+", "<tmp>", words)
        return False, f"{label} rejects: {type(error).__name__}: {words[:300]}"
    if getattr(result, "assertion", None) is None:
        # parse_authn_request_response ignores what AuthnResponse.verify returns: a Response that fails its
        # checks (Destination, say) comes back without a verified assertion.
        return False, f"{label} rejects: returns the Response without a verified Assertion"
    if result.name_id is None or not result.name_id.text:
        return False, f"{label} rejects: returns an Assertion without a NameID (no subject)"
    name_id = result.name_id.text
    issuer = result.assertion.issuer.text if result.assertion.issuer is not None else None
    attributes = f", attributes {json.dumps(result.ava, sort_keys=True)}" if result.ava else ""
    return True, f"{label} accepts (NameID {name_id!r}, issuer {issuer!r}{attributes})"


# --- Cases.

CASES = []
WRITTEN = {"manifest.json", *CERT_FILES}


def case(name, document, expect, *, reason=None, attack=None, subject=ALICE, attributes=None, after=None,
         credential_of=None, options=None, note=None, reference_disagrees=False):
    """Records a case. `document` is an lxml root or the credential text; `credential_of` reuses another case's
    file (replay); `note` is added to the reference words where they differ from our verdict."""
    if credential_of is None:
        file = name + ".xml"
        write(file, serialize(document) if isinstance(document, etree._Element) else document)
        WRITTEN.add(file)
    else:
        file = credential_of + ".xml"
    with open(os.path.join(OUT, file), "rb") as handle:
        data = handle.read()  # the references read the artifact exactly as written
    entry = {"name": name, "credential": file, "expect": expect}
    if options:
        entry["options"] = options
    if after is not None:
        entry["after"] = after
    if expect == "accept":
        entry["subject"] = subject
        entry["issuer"] = ISSUER
        if attributes is not None:
            entry["attributes"] = attributes
        if attack:
            entry["attack"] = attack
    else:
        entry.update(reason=reason, attack=attack)
    cert = {"idp-cert.pem": IDP_CERT, "idp-p256-cert.pem": IDP_P256_CERT,
            "idp-p384-cert.pem": IDP_P384_CERT}[(options or {}).get("idp_cert", "idp-cert.pem")]
    request_id = (options or {}).get("request_id")
    signed_ok, signed_names, signxml_words = signxml_reference(data, cert)
    xmlsec_words = xmlsec1_reference(data, cert)
    before = None
    if after is not None:
        before_entry = next(c for c in CASES if c["name"] == after)
        with open(os.path.join(OUT, before_entry["credential"]), "rb") as handle:
            before = handle.read()
    pysaml2_ok, pysaml2_words = pysaml2_reference(data, cert, request_id, before)
    if expect == "accept":
        if not signed_ok or subject not in signed_names:
            raise SystemExit(f"{name}: signxml does not vouch for the subject {subject!r}: {signxml_words}")
        if not pysaml2_ok and not reference_disagrees:
            raise SystemExit(f"{name}: pysaml2 refuses an accept case: {pysaml2_words}")
    if note and pysaml2_ok != (expect == "accept"):
        pysaml2_words += f" ({note})"
    entry["reference"] = f"{signxml_words} | {xmlsec_words} | {pysaml2_words}"
    CASES.append(entry)
    return data


ATTRIBUTES = [("email", ["alice@example.com"]), ("groups", ["kbs-admins", "kbs-readers"])]
ATTRIBUTES_EXPECTED = {"email": "alice@example.com", "groups": ["kbs-admins", "kbs-readers"]}


def evil_assertion(aid, name_id=ADMIN, **options):
    return assertion(aid, name_id=name_id, **options)


def main():
    if XMLSEC1 is None:
        raise SystemExit("saml.py needs the xmlsec1 command (Debian package xmlsec1; pysaml2 runs it too)")
    logging.disable(logging.CRITICAL)
    _frozen_clock()
    os.makedirs(OUT, exist_ok=True)
    for file, cert in CERT_FILES.items():
        write(file, pem(cert))

    # ---- Accepted.
    case("valid_response_signed", doc("valid_response_signed", sign_response=True), "accept",
         attack="Response signed (enveloped, exc-c14n, rsa-sha256, sha256, KeyInfo = the pinned certificate); "
                "Assertion unsigned, covered by the Response signature")
    assertion_signed = doc("valid_assertion_signed", sign_assertion=True)
    case("valid_assertion_signed", assertion_signed, "accept",
         attack="Response unsigned; Assertion signed (ds:Signature after the Assertion's Issuer)")
    case("valid_both_signed", doc("valid_both_signed", sign_assertion=True, sign_response=True), "accept",
         attack="Assertion signed, then the Response signed over it (the Response signature comes first in "
                "document order)")
    case("valid_rsa_sha512", doc("valid_rsa_sha512", sign_assertion=True, assertion_sign_options={
        "method": SignatureMethod.RSA_SHA512, "digest": DigestAlgorithm.SHA512}), "accept",
         attack="rsa-sha512 signature, sha512 digest")
    case("valid_rsa_sha256_digest_sha512", doc("valid_rsa_sha256_digest_sha512", sign_response=True,
                                               response_sign_options={"digest": DigestAlgorithm.SHA512}), "accept",
         attack="rsa-sha256 signature over a sha512 digest")
    case("valid_ecdsa_p256", doc("valid_ecdsa_p256", sign_assertion=True, assertion_sign_options={
        "key": IDP_P256_KEY, "cert": IDP_P256_CERT, "method": SignatureMethod.ECDSA_SHA256}), "accept",
         options={"idp_cert": "idp-p256-cert.pem"},
         attack="ecdsa-sha256 with a P-256 key (SignatureValue is r||s, 32 bytes each); pinned idp-p256-cert.pem")
    case("valid_ecdsa_p384_sha384", doc("valid_ecdsa_p384_sha384", sign_response=True, response_sign_options={
        "key": IDP_P384_KEY, "cert": IDP_P384_CERT, "method": SignatureMethod.ECDSA_SHA384}), "accept",
         options={"idp_cert": "idp-p384-cert.pem"},
         attack="ecdsa-sha384 with a P-384 key (r||s, 48 bytes each), sha256 digest; pinned idp-p384-cert.pem")
    case("valid_with_request_id", doc("valid_with_request_id", sign_response=True, sign_assertion=True,
                                      response_options={"in_response_to": REQUEST_ID},
                                      assertion_options={"sc_in_response_to": REQUEST_ID}), "accept",
         options={"request_id": REQUEST_ID},
         attack="SP-initiated: Response and SubjectConfirmationData InResponseTo equal request_id")
    case("in_response_to_missing_subject_confirmation", doc("in_response_to_missing_subject_confirmation", sign_response=True,
                                                     response_options={"in_response_to": REQUEST_ID}), "reject",
         reason="in_response_to", options={"request_id": REQUEST_ID},
         attack="SP-initiated: Response InResponseTo equals request_id, but the bearer SubjectConfirmationData has "
                "none, which SAML profiles 4.1.4.2 requires of an answer to an AuthnRequest")
    case("valid_attributes", doc("valid_attributes", sign_assertion=True,
                                 assertion_options={"attributes": ATTRIBUTES}), "accept",
         attributes=ATTRIBUTES_EXPECTED,
         attack="AttributeStatement: email (one value) and groups (two values), xsi:type=\"xs:string\"; "
                "an attribute with one value is a string, with several a list, keyed by Attribute Name")
    case("valid_inclusive_namespaces_prefixlist", with_prefix_list(doc(
        "valid_inclusive_namespaces_prefixlist", sign_assertion=True, assertion_options={"attributes": ATTRIBUTES}),
        ["xs"]), "accept", attributes=ATTRIBUTES_EXPECTED,
         attack="exc-c14n with <ec:InclusiveNamespaces PrefixList=\"xs\"/> in the CanonicalizationMethod and the "
                "exc-c14n Transform (as Okta and Shibboleth sign): a parameter of exc-c14n, not another transform",
         reference_disagrees=True, note="pysaml2 re-serializes the Assertion from its own object model before "
                                        "xmlsec1 sees it, so the digest over the prefix list no longer matches")
    case("valid_no_destination", doc("valid_no_destination", sign_response=True,
                                     response_options={"destination": None}), "accept",
         attack="Response without Destination (allowed)")
    case("valid_no_response_issuer", doc("valid_no_response_issuer", sign_assertion=True,
                                         response_options={"issuer": None}), "accept",
         attack="Response without Issuer (optional); the Assertion's Issuer is the IdP")
    case("valid_no_keyinfo", doc("valid_no_keyinfo", sign_assertion=True,
                                 assertion_sign_options={"key_info": False}), "accept",
         attack="Signature without KeyInfo: the pinned certificate verifies it")
    case("valid_multiple_audiences", doc("valid_multiple_audiences", sign_response=True, assertion_options={
        "audiences": ("https://other-sp.example.net/saml", SP_ENTITY_ID)}), "accept",
         attack="one AudienceRestriction with two Audience elements, ours second")
    case("valid_fractional_seconds", doc("valid_fractional_seconds", sign_response=True,
                                         response_options={"frac": ".517"}, assertion_options={"frac": ".517"}),
         "accept", attack="every xs:dateTime with fractional seconds (2026-11-25T11:59:50.517Z)")
    case("valid_other_prefixes", doc("valid_other_prefixes", sign_response=True, sign_assertion=True,
                                     response_options={"prefixes": ("saml2p", "saml2")},
                                     assertion_options={"prefix": "saml2"},
                                     assertion_sign_options={"ds_prefix": "dsig"},
                                     response_sign_options={"ds_prefix": "dsig"}), "accept",
         attack="prefixes saml2p:, saml2:, dsig: (namespaces decide, never prefixes)")
    case("valid_default_namespaces", doc("valid_default_namespaces", sign_response=True, sign_assertion=True,
                                         response_options={"default_namespace": True},
                                         assertion_options={"default_namespace": True},
                                         assertion_sign_options={"ds_prefix": None},
                                         response_sign_options={"ds_prefix": None}), "accept",
         attack="no prefixes at all: default namespace declarations on Response, Issuer, Assertion and Signature")
    case("expiry_within_leeway", doc("expiry_within_leeway", sign_response=True, assertion_options={
        "not_on_or_after": -30, "sc_not_on_or_after": -30}), "accept",
         attack="Conditions and SubjectConfirmationData NotOnOrAfter 30 s ago (inside the 60 s leeway)")
    case("not_before_within_leeway", doc("not_before_within_leeway", sign_response=True, assertion_options={
        "not_before": 30, "issue_instant": 30}), "accept", reference_disagrees=False,
         attack="Conditions NotBefore and Assertion IssueInstant 30 s ahead (inside the 60 s leeway)")
    # Comment truncation (CVE-2017-11427 family): the IdP signed the whole address; a comment inserted afterwards
    # drops out of exclusive c14n (without comments), so the signature still verifies. The identity is the full
    # text: a reader that takes only the first text node would see admin@example.com.
    truncated = serialize(doc("comment_truncation_nameid", sign_assertion=True,
                              assertion_options={"name_id": ADMIN + ".evil.com"}))
    truncated = truncated.replace(f">{ADMIN}.evil.com<", f">{ADMIN}<!---->.evil.com<", 1)
    case("comment_truncation_nameid", truncated, "accept", subject=ADMIN + ".evil.com",
         attack="CVE-2017-11427: IdP signed NameID admin@example.com.evil.com; <!----> inserted after "
                "admin@example.com; the signature still verifies and the subject is the full text")
    attributes = [("email", ["alice@example.com.evil.com"]), ("groups", ["kbs-readers"])]
    truncated = serialize(doc("comment_truncation_attribute", sign_response=True,
                              assertion_options={"attributes": attributes}))
    truncated = truncated.replace(">alice@example.com.evil.com<", ">alice@example.com<!-- x -->.evil.com<", 1)
    case("comment_truncation_attribute", truncated, "accept",
         attributes={"email": "alice@example.com.evil.com", "groups": "kbs-readers"},
         attack="comment inserted into the email AttributeValue after signing; the value is the full text "
                "(groups has one value, so it is a string)")
    case("nameid_whitespace", doc("nameid_whitespace", sign_assertion=True,
                                  assertion_options={"name_id": "  alice@example.com\t"}), "accept",
         subject="  alice@example.com\t", attack="NameID text with leading spaces and a trailing tab: the subject is "
                                                "the exact text, not trimmed")
    case("nameid_escaped", doc("nameid_escaped", sign_assertion=True,
                               assertion_options={"name_id": "r&amp;d&#x2B;alice@example.com"}), "accept",
         subject="r&d+alice@example.com", attack="NameID written r&amp;d&#x2B;alice@example.com: the subject is the "
                                                 "unescaped text r&d+alice@example.com")
    case("nameid_cdata", doc("nameid_cdata", sign_response=True,
                             assertion_options={"name_id": "<![CDATA[carol&dave@example.com]]>"}), "accept",
         subject="carol&dave@example.com", attack="NameID as a CDATA section (exclusive c14n turns it into text)")
    second = doc("second_assertion_same_verifier", sign_assertion=True)
    case("second_assertion_same_verifier", second, "accept", after="valid_assertion_signed",
         attack="another Assertion ID after valid_assertion_signed on the same replay state")

    # ---- Parsing.
    valid_text = serialize(doc("doctype", sign_assertion=True))
    body = valid_text.split("\n", 1)[1]
    declaration = "<?xml version='1.0' encoding='UTF-8'?>\n"
    case("not_xml", "this is not XML, it is a SAMLResponse=PHNhbWxwOlJlc3BvbnNlPg==\n", "reject",
         reason="malformed", attack="not XML")
    case("empty", "", "reject", reason="malformed", attack="empty credential")
    case("truncated_xml", valid_text[: len(valid_text) // 2], "reject", reason="malformed",
         attack="a signed Response cut in half")
    case("trailing_second_root", valid_text + "<samlp:Response/>\n", "reject", reason="malformed",
         attack="a second root element after the signed Response")
    case("doctype_no_subset", declaration + "<!DOCTYPE samlp:Response>\n" + body, "reject", reason="malformed",
         attack="<!DOCTYPE> without an internal subset before a validly signed Response (signature intact)",
         note="defusedxml refuses entity declarations, not a bare DOCTYPE")
    case("doctype_unused_entity", declaration + '<!DOCTYPE samlp:Response [\n  <!ENTITY x "y">\n]>\n' + body,
         "reject", reason="malformed",
         attack="internal subset declaring an entity that is never used (signature intact): any DTD is refused")
    xxe = body.replace(f">{ALICE}</saml:NameID>", f">{ALICE}&xxe;</saml:NameID>", 1)
    case("doctype_xxe", declaration + '<!DOCTYPE samlp:Response [\n  <!ENTITY xxe SYSTEM "file:///etc/passwd">\n]>\n'
         + xxe, "reject", reason="malformed", attack="XXE: external entity file:///etc/passwd referenced in NameID")
    laughs = "".join(f'  <!ENTITY lol{i} "{("&lol%d;" % (i - 1)) * 10}">\n' for i in range(1, 10))
    bomb = body.replace(f">{ALICE}</saml:NameID>", f">{ALICE}&lol9;</saml:NameID>", 1)
    case("doctype_billion_laughs", declaration + '<!DOCTYPE samlp:Response [\n  <!ENTITY lol0 "lol">\n' + laughs
         + "]>\n" + bomb, "reject", reason="malformed",
         attack="billion laughs: nested internal entities (10^9 expansions) referenced in NameID")

    # ---- Signatures and keys.
    stripped = doc("signature_stripped", sign_assertion=True)
    for signature in signatures(stripped):
        detach(signature)
    case("signature_stripped", stripped, "reject", reason="unsigned",
         attack="valid_assertion_signed with its ds:Signature removed: nothing signed")
    tampered = serialize(doc("tampered_nameid_assertion_signed", sign_assertion=True))
    case("tampered_nameid_assertion_signed", tampered.replace(f">{ALICE}<", f">{ADMIN}<", 1), "reject",
         reason="signature", attack="NameID changed to admin@example.com after the Assertion was signed")
    tampered = serialize(doc("tampered_nameid_response_signed", sign_response=True))
    case("tampered_nameid_response_signed", tampered.replace(f">{ALICE}<", f">{ADMIN}<", 1), "reject",
         reason="signature", attack="NameID changed after the Response was signed")
    tampered = doc("tampered_signature_value", sign_assertion=True)
    value = tampered.find(".//ds:SignatureValue", NS)
    raw = bytearray(base64.b64decode(value.text))
    raw[len(raw) // 2] ^= 0x01
    value.text = base64.b64encode(bytes(raw)).decode()
    case("tampered_signature_value", tampered, "reject", reason="signature",
         attack="one bit of SignatureValue flipped")
    tampered = serialize(doc("both_signed_response_tampered", sign_assertion=True, sign_response=True))
    tampered = tampered.replace(f'IssueInstant="{ts(-10)}" Destination', f'IssueInstant="{ts(-9)}" Destination', 1)
    case("both_signed_response_tampered", tampered, "reject", reason="signature",
         attack="both signed; the Response IssueInstant moved by 1 s afterwards: the Assertion signature still "
                "verifies, the Response signature does not")
    case("attacker_key_keyinfo_cert", doc("attacker_key_keyinfo_cert", sign_assertion=True, assertion_sign_options={
        "key": ATTACKER_KEY, "cert": ATTACKER_CERT}), "reject", reason="untrusted_key", subject=None,
         attack="Assertion (alice) signed by the attacker's key, the attacker's self-signed certificate in KeyInfo")
    case("attacker_key_mimic_cert", doc("attacker_key_mimic_cert", sign_response=True, response_sign_options={
        "key": ATTACKER_KEY, "cert": ATTACKER_MIMIC_CERT}, assertion_options={"name_id": ADMIN}), "reject",
         reason="untrusted_key",
         attack="signed by the attacker's key; KeyInfo certificate copies the IdP certificate's subject, issuer, "
                "serial and validity (compare certificates or keys, never names)")
    case("attacker_key_no_keyinfo", doc("attacker_key_no_keyinfo", sign_assertion=True, assertion_sign_options={
        "key": ATTACKER_KEY, "key_info": False}, assertion_options={"name_id": ADMIN}), "reject", reason="signature",
         attack="signed by the attacker's key, no KeyInfo: the pinned key does not verify it")
    case("attacker_key_pinned_cert_in_keyinfo", doc(
        "attacker_key_pinned_cert_in_keyinfo", sign_assertion=True, assertion_options={"name_id": ADMIN},
        assertion_sign_options={"key": ATTACKER_KEY, "cert": IDP_CERT}), "reject", reason="signature",
         attack="signed by the attacker's key while KeyInfo carries the pinned IdP certificate")
    case("idp_signed_foreign_keyinfo_cert", doc("idp_signed_foreign_keyinfo_cert", sign_assertion=True,
                                                assertion_sign_options={"cert": ATTACKER_CERT}), "reject",
         reason="untrusted_key",
         attack="signed by the IdP key, but KeyInfo carries another certificate (the attacker's): a KeyInfo "
                "certificate that is not the pinned one is refused before any signature check",
         note="pysaml2 uses only metadata keys and ignores the KeyInfo certificate")

    # ---- Algorithms.
    case("rsa_sha1", doc("rsa_sha1", sign_assertion=True, assertion_sign_options={
        "method": SignatureMethod.RSA_SHA1}), "reject", reason="algorithm",
         attack="rsa-sha1 signature (sha256 digest)", note="pysaml2 and xmlsec1 accept SHA-1")
    case("digest_sha1", doc("digest_sha1", sign_assertion=True, assertion_sign_options={
        "digest": DigestAlgorithm.SHA1}), "reject", reason="algorithm", attack="rsa-sha256 signature, sha1 digest",
         note="pysaml2 and xmlsec1 accept SHA-1")
    case("rsa_sha1_digest_sha1", doc("rsa_sha1_digest_sha1", sign_response=True, response_sign_options={
        "method": SignatureMethod.RSA_SHA1, "digest": DigestAlgorithm.SHA1}), "reject", reason="algorithm",
         attack="rsa-sha1 and sha1 digest (pysaml2's defaults: a legacy IdP)",
         note="pysaml2 and xmlsec1 accept SHA-1")
    hmac_key = IDP_CERT.public_bytes(serialization.Encoding.DER)
    case("hmac_sha256_cert_as_key", doc("hmac_sha256_cert_as_key", sign_assertion=True, assertion_options={
        "name_id": ADMIN}, assertion_sign_options={"key": hmac_key, "cert": None,
                                                   "method": SignatureMethod.HMAC_SHA256}), "reject",
         reason="algorithm",
         attack="hmac-sha256 keyed with the DER bytes of the public IdP certificate (key confusion)")
    case("signedinfo_c14n_inclusive", doc("signedinfo_c14n_inclusive", sign_assertion=True, assertion_sign_options={
        "c14n": CanonicalizationMethod.CANONICAL_XML_1_0,
        "references": [SignatureReference(URI="#_assert-signedinfo_c14n_inclusive", c14n_method=EXC_C14N)]}),
         "reject", reason="algorithm",
         attack="SignedInfo CanonicalizationMethod is inclusive C14N 1.0 (the Reference transform stays exc-c14n)")

    # ---- Signature wrapping (Somorovsky et al., "On Breaking SAML", 2012; XSW1-8 as SAML Raider numbers them).
    # Every case here holds two Assertion elements, or a Signature whose Reference is not its parent: `wrapping`
    # comes from the structure alone, before asking what is signed.
    original = doc("xsw_response_original", sign_response=True)  # the IdP's signed Response (alice)

    def evil_response(rid, extra_children, evil_aid="_assert-evil"):
        root = parse(response(rid, evil_assertion(evil_aid)))
        status = root.find("samlp:Status", NS)
        for child in extra_children:
            child.tail = status.getprevious().tail
            status.addprevious(child)
        return root

    # XSW1: evil Response at the root; the Signature moves to it with the original Response inside the Signature.
    xsw1_signed = copy.deepcopy(original)
    signature = detach(xsw1_signed.find("ds:Signature", NS))
    signature.append(xsw1_signed)
    xsw1 = evil_response("_resp-xsw1_evil", [signature])
    case("xsw1_response_wrapped_in_signature", xsw1, "reject", reason="wrapping", subject=None,
         attack="XSW1: new unsigned Response (admin) at the root; the original Signature is its child and holds the "
                "original signed Response (alice); the Reference points to the inner Response, not its parent")
    # XSW2: same, the original Response as a sibling before the Signature (detached-style).
    xsw2_signed = copy.deepcopy(original)
    signature = detach(xsw2_signed.find("ds:Signature", NS))
    xsw2 = evil_response("_resp-xsw2_evil", [xsw2_signed, signature])
    case("xsw2_response_sibling_before_signature", xsw2, "reject", reason="wrapping",
         attack="XSW2: new unsigned Response (admin) at the root; original Response (alice) and its Signature both "
                "children of it; the Reference points to the sibling, not the Signature's parent")
    # Evil Response wrapping the signed original (signature in place) in Extensions.
    wrapped = parse(response("_resp-evil_response_extensions", evil_assertion("_assert-evil"), extensions=True))
    wrapped.find("samlp:Extensions", NS).append(copy.deepcopy(original))
    case("evil_response_wraps_signed_in_extensions", wrapped, "reject", reason="wrapping",
         attack="new unsigned Response (admin Assertion) at the root, the IdP-signed Response (alice) untouched in "
                "samlp:Extensions: two Assertions; the valid signature covers only the inner Response")

    signed = doc("xsw_assertion_original", sign_assertion=True)  # the IdP's signed Assertion (alice)
    signed_assertion = signed.find("saml:Assertion", NS)

    def with_assertions(rid, *elements):
        root = parse(response(rid, None))
        for element in elements:
            root.append(element)
        return root

    # XSW3: evil Assertion (new ID) before the signed one.
    case("xsw3_evil_assertion_first", with_assertions(
        "_resp-xsw3", parse(evil_assertion("_assert-xsw3_evil")), copy.deepcopy(signed_assertion)), "reject",
         reason="wrapping",
         attack="XSW3: unsigned evil Assertion (admin) inserted before the IdP-signed Assertion (alice)")
    case("evil_assertion_after", with_assertions(
        "_resp-evil_assertion_after", copy.deepcopy(signed_assertion), parse(evil_assertion("_assert-after_evil"))),
         "reject", reason="wrapping",
         attack="the IdP-signed Assertion (alice) first, an unsigned evil Assertion (admin) after it")
    # XSW4: the signed Assertion as a child of the evil one.
    evil = parse(evil_assertion("_assert-xsw4_evil"))
    evil.append(copy.deepcopy(signed_assertion))
    case("xsw4_signed_inside_evil_assertion", with_assertions("_resp-xsw4", evil), "reject", reason="wrapping",
         attack="XSW4: evil Assertion (admin) whose last child is the IdP-signed Assertion (alice)")
    # The schema-valid form of XSW4: inside Advice.
    evil = parse(evil_assertion("_assert-advice_evil", advice=True))
    evil.find("saml:Advice", NS).append(copy.deepcopy(signed_assertion))
    case("signed_assertion_in_advice", with_assertions("_resp-signed_assertion_in_advice", evil), "reject",
         reason="wrapping",
         attack="evil Assertion (admin) with the IdP-signed Assertion (alice) moved into its saml:Advice")
    # XSW5: the evil Assertion carries the original Signature; the original, without it, at the end.
    moved = copy.deepcopy(signed_assertion)
    signature = detach(moved.find("ds:Signature", NS))
    evil = parse(evil_assertion("_assert-xsw5_evil"))
    evil.find("saml:Issuer", NS).addnext(signature)
    case("xsw5_signature_in_evil_original_last", with_assertions("_resp-xsw5", evil, moved), "reject",
         reason="wrapping",
         attack="XSW5: evil Assertion (admin) holds the original Signature; the original Assertion (alice, "
                "signature removed) appended last; the Reference points away from the Signature's parent")
    # XSW6: the original Assertion inside the Signature of the evil one.
    moved = copy.deepcopy(signed_assertion)
    signature = detach(moved.find("ds:Signature", NS))
    signature.append(moved)
    evil = parse(evil_assertion("_assert-xsw6_evil"))
    evil.find("saml:Issuer", NS).addnext(signature)
    case("xsw6_original_inside_signature", with_assertions("_resp-xsw6", evil), "reject", reason="wrapping",
         attack="XSW6: evil Assertion (admin) holds the original Signature, which holds the original Assertion")
    # XSW7: the signed Assertion in Extensions, the evil one in its usual place.
    root = parse(response("_resp-xsw7", evil_assertion("_assert-xsw7_evil"), extensions=True))
    root.find("samlp:Extensions", NS).append(copy.deepcopy(signed_assertion))
    case("xsw7_signed_in_extensions", root, "reject", reason="wrapping",
         attack="XSW7: IdP-signed Assertion (alice) inside samlp:Extensions, unsigned evil Assertion (admin) after "
                "Status")
    # XSW8: the original Assertion (signature removed) inside ds:Object of the Signature carried by the evil one.
    moved = copy.deepcopy(signed_assertion)
    signature = detach(moved.find("ds:Signature", NS))
    holder = etree.SubElement(signature, f"{{{DS}}}Object")
    holder.append(moved)
    evil = parse(evil_assertion("_assert-xsw8_evil"))
    evil.find("saml:Issuer", NS).addnext(signature)
    case("xsw8_original_in_signature_object", with_assertions("_resp-xsw8", evil), "reject", reason="wrapping",
         attack="XSW8: evil Assertion (admin) holds the original Signature; the original Assertion sits in a "
                "ds:Object of that Signature")
    # Duplicate IDs.
    duplicate = parse(evil_assertion(signed_assertion.get("ID")))
    case("duplicate_id_evil_assertion_first", with_assertions("_resp-duplicate_id", duplicate,
                                                              copy.deepcopy(signed_assertion)), "reject",
         reason="wrapping",
         attack="evil Assertion (admin) with the same ID as the IdP-signed Assertion (alice), placed first: "
                "'#ID' would resolve to either")
    same = doc("duplicate_id_response_and_assertion", sign_assertion=True)
    same.set("ID", same.find("saml:Assertion", NS).get("ID"))
    case("duplicate_id_response_and_assertion", same, "reject", reason="wrapping",
         attack="unsigned Response given the same ID as its IdP-signed Assertion",
         note="pysaml2 registers ID only on the Assertion when it verifies the Assertion signature")
    two = with_assertions("_resp-two_signed_assertions", copy.deepcopy(signed_assertion),
                          doc("two_signed_assertions", sign_assertion=True,
                              assertion_options={"name_id": "bob@example.com"}).find("saml:Assertion", NS))
    case("two_signed_assertions", two, "reject", reason="wrapping",
         attack="two Assertions, each signed by the IdP (alice, bob): exactly one is allowed")

    # Signature structure (all IdP-signed; libxmlsec verifies each).
    case("reference_to_assertion_from_response", doc(
        "reference_to_assertion_from_response", sign_response=True, response_sign_options={
            "references": [SignatureReference(URI="#_assert-reference_to_assertion_from_response")]}),
         "reject", reason="wrapping",
         attack="ds:Signature is a child of the Response but its Reference points to the Assertion (#_assert-...)")
    case("two_references", doc("two_references", sign_assertion=True, assertion_sign_options={
        "references": [SignatureReference(URI="#_assert-two_references"),
                       SignatureReference(URI="#_resp-two_references")]}), "reject", reason="wrapping",
         attack="the Assertion's Signature has two References: #its Assertion and #the Response")
    empty_uri = doc("reference_uri_empty", sign_assertion=True)
    signature = empty_uri.find(".//ds:Signature", NS)
    signature.find("ds:SignedInfo/ds:Reference", NS).set("URI", "")
    case("reference_uri_empty", reseal(empty_uri, signature), "reject", reason="wrapping",
         attack="Assertion Signature with Reference URI=\"\" (the whole document, enveloped transform)")
    with_comments = CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0_WITH_COMMENTS
    case("transform_c14n_with_comments", doc("transform_c14n_with_comments", sign_assertion=True,
                                             assertion_sign_options={"references": [SignatureReference(
                                                 URI="#_assert-transform_c14n_with_comments",
                                                 c14n_method=with_comments)]}),
         "reject", reason="wrapping", attack="Reference Transform exc-c14n#WithComments (not on the transform list)",
         note="pysaml2's transform list includes exc-c14n#WithComments")
    case("transform_inclusive_c14n", doc("transform_inclusive_c14n", sign_assertion=True, assertion_sign_options={
        "references": [SignatureReference(URI="#_assert-transform_inclusive_c14n",
                                          c14n_method=CanonicalizationMethod.CANONICAL_XML_1_0)]}),
         "reject", reason="wrapping", attack="Reference Transform inclusive C14N 1.0 (not on the transform list)")

    # ---- Unsupported.
    blob = base64.b64encode(hashlib.shake_256(b"hanzo-kbs saml encrypted assertion").digest(384)).decode()
    key_blob = base64.b64encode(hashlib.shake_256(b"hanzo-kbs saml encrypted key").digest(256)).decode()
    encrypted = (f'<saml:EncryptedAssertion>\n    <xenc:EncryptedData xmlns:xenc="{XENC}" Type="{XENC}Element">\n'
                 f'        <xenc:EncryptionMethod Algorithm="http://www.w3.org/2009/xmlenc11#aes256-gcm"/>\n'
                 f'        <ds:KeyInfo xmlns:ds="{DS}">\n            <xenc:EncryptedKey>\n'
                 f'                <xenc:EncryptionMethod Algorithm="http://www.w3.org/2009/xmlenc11#rsa-oaep"/>\n'
                 f"                <xenc:CipherData><xenc:CipherValue>{key_blob}</xenc:CipherValue></xenc:CipherData>\n"
                 f"            </xenc:EncryptedKey>\n        </ds:KeyInfo>\n"
                 f"        <xenc:CipherData><xenc:CipherValue>{blob}</xenc:CipherValue></xenc:CipherData>\n"
                 f"    </xenc:EncryptedData>\n</saml:EncryptedAssertion>")
    case("encrypted_assertion", sign(parse(response("_resp-encrypted_assertion", encrypted)),
                                     "_resp-encrypted_assertion"), "reject", reason="unsupported",
         attack="signed Response carrying a saml:EncryptedAssertion (aes256-gcm, rsa-oaep; random bytes)")

    # ---- Protocol and assertion checks (every one signed correctly; exactly one defect each).
    case("status_responder", doc("status_responder", sign_response=True, response_options={
        "status": RESPONDER, "sub_status": AUTHN_FAILED}), "reject", reason="status",
         attack="StatusCode Responder / AuthnFailed (with an otherwise valid Assertion)")
    case("destination_wrong", doc("destination_wrong", sign_response=True, response_options={
        "destination": "https://evil.example/saml/acs"}), "reject", reason="destination",
         attack="Response Destination is another ACS URL")
    case("recipient_wrong", doc("recipient_wrong", sign_assertion=True, assertion_options={
        "recipient": "https://evil.example/saml/acs"}), "reject", reason="recipient",
         attack="SubjectConfirmationData Recipient is another ACS URL")
    case("recipient_missing", doc("recipient_missing", sign_assertion=True, assertion_options={
        "recipient": None}), "reject", reason="recipient", attack="SubjectConfirmationData without Recipient")
    case("subject_confirmation_holder_of_key", doc("subject_confirmation_holder_of_key", sign_assertion=True,
                                                   assertion_options={"method": HOLDER_OF_KEY}), "reject",
         reason="recipient", attack="SubjectConfirmation Method holder-of-key, not bearer")
    case("subject_confirmation_missing", doc("subject_confirmation_missing", sign_assertion=True,
                                             assertion_options={"confirmation": False}), "reject",
         reason="recipient", attack="Subject with NameID but no SubjectConfirmation")
    case("expired_subject_confirmation", doc("expired_subject_confirmation", sign_response=True, assertion_options={
        "sc_not_on_or_after": -120}), "reject", reason="expired",
         attack="SubjectConfirmationData NotOnOrAfter 120 s ago (leeway 60 s); Conditions still valid")
    case("expired_conditions", doc("expired_conditions", sign_response=True, assertion_options={
        "not_on_or_after": -120, "not_before": -600, "issue_instant": -600}), "reject", reason="expired",
         attack="Conditions NotOnOrAfter 120 s ago (leeway 60 s); SubjectConfirmationData still valid")
    case("not_yet_valid", doc("not_yet_valid", sign_response=True, assertion_options={"not_before": 600}),
         "reject", reason="not_yet_valid", attack="Conditions NotBefore 600 s ahead (leeway 60 s)")
    case("issued_in_future", doc("issued_in_future", sign_assertion=True, assertion_options={"issue_instant": 600}),
         "reject", reason="issued_in_future",
         attack="Assertion IssueInstant 600 s ahead (leeway 60 s); Conditions valid now",
         note="pysaml2 checks only the Response IssueInstant, within a day either way")
    case("audience_wrong", doc("audience_wrong", sign_response=True, assertion_options={
        "audiences": ("https://other-sp.example.net/saml",)}), "reject", reason="audience",
         attack="the only Audience is another SP")
    case("audience_missing", doc("audience_missing", sign_response=True, assertion_options={"audiences": None}),
         "reject", reason="audience", attack="Conditions without AudienceRestriction",
         note="pysaml2 accepts an Assertion without AudienceRestriction")
    case("issuer_wrong_assertion", doc("issuer_wrong_assertion", sign_assertion=True, response_options={
        "issuer": "https://evil.example/idp"}, assertion_options={"issuer": "https://evil.example/idp"}), "reject",
         reason="issuer", attack="Assertion (and Response) Issuer is another entity, signed by the pinned key")
    case("issuer_wrong_response", doc("issuer_wrong_response", sign_response=True, response_options={
        "issuer": "https://evil.example/idp"}), "reject", reason="issuer",
         attack="Response Issuer differs from the IdP; the Assertion Issuer is right")
    case("missing_subject", doc("missing_subject", sign_assertion=True, assertion_options={"subject": False}),
         "reject", reason="missing_claim", attack="Assertion without Subject")
    case("missing_nameid", doc("missing_nameid", sign_assertion=True, assertion_options={"name_id": None}),
         "reject", reason="missing_claim", attack="Subject with a bearer SubjectConfirmation but no NameID")
    case("empty_nameid", doc("empty_nameid", sign_assertion=True, assertion_options={"name_id": ""}),
         "reject", reason="missing_claim", attack="<saml:NameID ...></saml:NameID>: empty subject")
    case("in_response_to_wrong_response", doc("in_response_to_wrong_response", sign_response=True,
                                              response_options={"in_response_to": "_req-other"},
                                              assertion_options={"sc_in_response_to": REQUEST_ID}), "reject",
         reason="in_response_to", options={"request_id": REQUEST_ID},
         attack="Response InResponseTo is another request id")
    case("in_response_to_wrong_subject_confirmation", doc(
        "in_response_to_wrong_subject_confirmation", sign_response=True,
        response_options={"in_response_to": REQUEST_ID}, assertion_options={"sc_in_response_to": "_req-other"}),
         "reject", reason="in_response_to", options={"request_id": REQUEST_ID},
         attack="SubjectConfirmationData InResponseTo is another request id (the Response's is right)")
    case("in_response_to_missing", doc("in_response_to_missing", sign_response=True), "reject",
         reason="in_response_to", options={"request_id": REQUEST_ID},
         attack="request_id set, but the Response has no InResponseTo (an unsolicited Response)")
    case("in_response_to_unsolicited", doc("in_response_to_unsolicited", sign_response=True, response_options={
        "in_response_to": REQUEST_ID}), "reject", reason="in_response_to",
         attack="no request_id configured, but the Response claims InResponseTo",
         note="allow_unsolicited makes pysaml2 ignore InResponseTo")
    case("in_response_to_unsolicited_subject_confirmation", doc(
        "in_response_to_unsolicited_subject_confirmation", sign_assertion=True,
        assertion_options={"sc_in_response_to": REQUEST_ID}), "reject", reason="in_response_to",
         attack="no request_id configured, but the SubjectConfirmationData claims InResponseTo",
         note="allow_unsolicited makes pysaml2 ignore InResponseTo")

    # ---- Replay.
    case("replay_same_response", None, "reject", reason="replay", after="valid_assertion_signed",
         credential_of="valid_assertion_signed", attack="valid_assertion_signed sent a second time",
         note="pysaml2 keeps no cache of assertion IDs")
    rewrapped = with_assertions("_resp-replay_rewrapped", copy.deepcopy(assertion_signed.find("saml:Assertion", NS)))
    case("replay_rewrapped_assertion", rewrapped, "reject", reason="replay", after="valid_assertion_signed",
         attack="the signed Assertion of valid_assertion_signed in a new unsigned Response (another Response ID)",
         note="pysaml2 keeps no cache of assertion IDs")

    for stale in sorted(set(os.listdir(OUT)) - WRITTEN):
        if stale.endswith(".xml"):
            os.remove(os.path.join(OUT, stale))
    libraries = {name: version(name) for name in LIBRARIES}
    if XMLSEC1:
        libraries["xmlsec1 (Debian)"] = xmlsec1_version()
    write("manifest.json", json.dumps({
        "kind": "saml", "generator": "Tools/gen-identity-fixtures (saml.py)", "libraries": libraries,
        "now": NOW_TEXT,
        "options": {"idp_cert": "idp-cert.pem", "issuer": ISSUER, "sp_entity_id": SP_ENTITY_ID, "acs_url": ACS_URL},
        "cases": CASES}, indent=2, ensure_ascii=False) + "\n")
    accepts = sum(c["expect"] == "accept" for c in CASES)
    print(f"saml: {len(CASES)} cases ({accepts} accept, {len(CASES) - accepts} reject)")
    for entry in CASES:
        pysaml2_words = entry["reference"].rsplit(" | ", 1)[-1]
        if (entry["expect"] == "accept") != (" accepts " in pysaml2_words):
            print(f"  pysaml2 differs: {entry['name']}: {pysaml2_words}")


if __name__ == "__main__":
    main()
