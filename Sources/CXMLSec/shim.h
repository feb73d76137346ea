// Debian's libxmlsec1-dev 1.2.37 with OpenSSL, and libxml2: XML-DSig verification for SAML and the NVIDIA RIM.
// Only KBSXMLSecurity imports this module: it initialises the libraries once and holds the one lock around them.
//
// The defines repeat what `pkg-config --cflags xmlsec1-openssl` says; they change struct layouts (xmlSecSize), so
// they must hold even where the flags are not passed. The helpers are static inline because xmlsec's transform ids
// are function-like macros Swift cannot import, and because the verification context is easiest to drive in C.
#ifndef KBS_CXMLSEC_SHIM_H
#define KBS_CXMLSEC_SHIM_H

#ifndef XMLSEC_NO_SIZE_T
#define XMLSEC_NO_SIZE_T 1
#endif
#ifndef XMLSEC_CRYPTO_OPENSSL
#define XMLSEC_CRYPTO_OPENSSL 1
#endif
#ifndef XMLSEC_NO_CRYPTO_DYNAMIC_LOADING
#define XMLSEC_NO_CRYPTO_DYNAMIC_LOADING 1
#endif
#ifndef XMLSEC_NO_GOST
#define XMLSEC_NO_GOST 1
#endif
#ifndef XMLSEC_NO_GOST2012
#define XMLSEC_NO_GOST2012 1
#endif
#ifndef XMLSEC_OPENSSL3_ENGINES
#define XMLSEC_OPENSSL3_ENGINES 1
#endif
#ifndef __XMLSEC_FUNCTION__
#define __XMLSEC_FUNCTION__ __func__
#endif

#include <stdlib.h>
#include <string.h>
// Debian builds libxml2 with ICU, and encoding.h then includes the system's <unicode/ucnv.h>, whose UErrorCode
// clashes with the ICU Foundation carries (_FoundationICU) in any module that sees both. Nothing here uses
// libxml2's ICU converters; without the macro only the tail of xmlCharEncodingHandler, which is never allocated
// or read here, loses two pointers.
#include <libxml/xmlversion.h>
#undef LIBXML_ICU_ENABLED
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/valid.h>
#include <xmlsec/xmlsec.h>
#include <xmlsec/errors.h>
#include <xmlsec/keys.h>
#include <xmlsec/transforms.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/openssl/app.h>
#include <xmlsec/openssl/crypto.h>

// Outcomes of kbs_xmlsec_verify.
#define KBS_XMLSEC_VALID 0
#define KBS_XMLSEC_INVALID 1    // processed, and the signature or a digest does not match
#define KBS_XMLSEC_REFUSED 2    // not processed: a transform or algorithm not enabled, bad structure
#define KBS_XMLSEC_NO_KEY 3     // the pinned certificate did not load
#define KBS_XMLSEC_NO_MEMORY 4

static void kbs_xmlsec_quiet(const char *file, int line, const char *func, const char *errorObject,
    const char *errorSubject, int reason, const char *msg) {
    (void)file; (void)line; (void)func; (void)errorObject; (void)errorSubject; (void)reason; (void)msg;
}

static void kbs_xml_quiet(void *context, const char *message, ...) { (void)context; (void)message; }

/// Initialises libxml2, xmlsec and its OpenSSL back end; 0 on success. Call it once per process (xmlSecInit
/// re-creates the global transform and key-data registries, which must not happen under a verification in flight). Errors are silenced: the verifier
/// reports its own.
static inline int kbs_xmlsec_init(void) {
    xmlInitParser();
    xmlSetGenericErrorFunc(NULL, kbs_xml_quiet);
    if (xmlSecInit() < 0) return -1;
    if (xmlSecCheckVersion() != 1) return -2;
    xmlSecErrorsSetCallback(kbs_xmlsec_quiet);
    if (xmlSecOpenSSLAppInit(NULL) < 0) return -3;
    if (xmlSecOpenSSLInit() < 0) return -4;
    return 0;
}

/// Silences libxml2's generic error output on the calling thread (it is per thread).
static inline void kbs_xml_silence_thread(void) { xmlSetGenericErrorFunc(NULL, kbs_xml_quiet); }

static inline void kbs_xml_free(void *pointer) { xmlFree(pointer); }

/// Parses XML with no network, no entity substitution and no DTD loading; NULL when it is not well-formed.
static inline xmlDocPtr kbs_xml_parse(const char *bytes, int length) {
    return xmlReadMemory(bytes, length, "credential.xml", NULL,
        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
}

/// Verifies the ds:Signature element `signature` with the key of the PEM certificate `pem`, allowing only
/// same-document references, exclusive C14N, the enveloped transform, SHA-256/512 digests and RSA/ECDSA with
/// SHA-256 or stronger. On KBS_XMLSEC_VALID with exactly one reference, `*predigest` (malloc'd, caller frees)
/// holds the bytes that reference's digest was computed over: the canonical form of the signed element.
static inline int kbs_xmlsec_verify(xmlNodePtr signature, const unsigned char *pem, size_t pemLength,
    unsigned char **predigest, size_t *predigestLength) {
    *predigest = NULL;
    *predigestLength = 0;
    xmlSecKeyPtr key = xmlSecOpenSSLAppKeyLoadMemory(pem, (xmlSecSize)pemLength, xmlSecKeyDataFormatCertPem, NULL, NULL, NULL);
    if (key == NULL) return KBS_XMLSEC_NO_KEY;
    xmlSecDSigCtxPtr context = xmlSecDSigCtxCreate(NULL);
    if (context == NULL) { xmlSecKeyDestroy(key); return KBS_XMLSEC_NO_MEMORY; }
    context->signKey = key;  // the context owns it now
    context->flags = XMLSEC_DSIG_FLAGS_STORE_SIGNEDINFO_REFERENCES;
    context->enabledReferenceUris = xmlSecTransformUriTypeSameDocument;
    int result = KBS_XMLSEC_REFUSED;
    if (xmlSecDSigCtxEnableReferenceTransform(context, xmlSecTransformExclC14NGetKlass()) < 0 ||
        xmlSecDSigCtxEnableReferenceTransform(context, xmlSecTransformEnvelopedGetKlass()) < 0 ||
        xmlSecDSigCtxEnableReferenceTransform(context, xmlSecOpenSSLTransformSha256GetKlass()) < 0 ||
        xmlSecDSigCtxEnableReferenceTransform(context, xmlSecOpenSSLTransformSha512GetKlass()) < 0 ||
        xmlSecDSigCtxEnableSignatureTransform(context, xmlSecTransformExclC14NGetKlass()) < 0 ||
        xmlSecDSigCtxEnableSignatureTransform(context, xmlSecOpenSSLTransformRsaSha256GetKlass()) < 0 ||
        xmlSecDSigCtxEnableSignatureTransform(context, xmlSecOpenSSLTransformRsaSha512GetKlass()) < 0 ||
        xmlSecDSigCtxEnableSignatureTransform(context, xmlSecOpenSSLTransformEcdsaSha256GetKlass()) < 0 ||
        xmlSecDSigCtxEnableSignatureTransform(context, xmlSecOpenSSLTransformEcdsaSha384GetKlass()) < 0) {
        xmlSecDSigCtxDestroy(context);
        return KBS_XMLSEC_NO_MEMORY;
    }
    if (xmlSecDSigCtxVerify(context, signature) < 0) {
        result = KBS_XMLSEC_REFUSED;
    } else if (context->status != xmlSecDSigStatusSucceeded) {
        result = KBS_XMLSEC_INVALID;
    } else if (xmlSecPtrListGetSize(&context->signedInfoReferences) != 1) {
        result = KBS_XMLSEC_REFUSED;
    } else {
        xmlSecDSigReferenceCtxPtr reference = (xmlSecDSigReferenceCtxPtr)xmlSecPtrListGetItem(&context->signedInfoReferences, 0);
        xmlSecBufferPtr buffer = reference == NULL ? NULL : xmlSecDSigReferenceCtxGetPreDigestBuffer(reference);
        if (reference == NULL || reference->status != xmlSecDSigStatusSucceeded || buffer == NULL) {
            result = KBS_XMLSEC_REFUSED;
        } else {
            size_t size = (size_t)xmlSecBufferGetSize(buffer);
            unsigned char *copy = malloc(size == 0 ? 1 : size);
            if (copy == NULL) {
                result = KBS_XMLSEC_NO_MEMORY;
            } else {
                if (size > 0) memcpy(copy, xmlSecBufferGetData(buffer), size);
                *predigest = copy;
                *predigestLength = size;
                result = KBS_XMLSEC_VALID;
            }
        }
    }
    xmlSecDSigCtxDestroy(context);
    return result;
}

/// Verifies the enveloped ds:Signature element `signature` of an NVIDIA RIM (SWID tag) with the key of the PEM
/// certificate `pem`. Allows only whole-document references (URI=""), the enveloped transform, inclusive C14N 1.0
/// and 1.1, SHA-384/SHA-256 digests and ECDSA-SHA384. Returns a KBS_XMLSEC_* outcome; INVALID covers both a
/// reference digest and a signature value that do not match.
static inline int kbs_xmlsec_verify_rim(xmlNodePtr signature, const unsigned char *pem, size_t pemLength) {
    xmlSecKeyPtr key = xmlSecOpenSSLAppKeyLoadMemory(pem, (xmlSecSize)pemLength, xmlSecKeyDataFormatCertPem, NULL, NULL, NULL);
    if (key == NULL) return KBS_XMLSEC_NO_KEY;
    xmlSecDSigCtxPtr context = xmlSecDSigCtxCreate(NULL);
    if (context == NULL) { xmlSecKeyDestroy(key); return KBS_XMLSEC_NO_MEMORY; }
    context->signKey = key;  // the context owns it now
    context->flags = XMLSEC_DSIG_FLAGS_STORE_SIGNEDINFO_REFERENCES;
    context->enabledReferenceUris = xmlSecTransformUriTypeEmpty;
    if (xmlSecDSigCtxEnableReferenceTransform(context, xmlSecTransformEnvelopedGetKlass()) < 0 ||
        xmlSecDSigCtxEnableReferenceTransform(context, xmlSecTransformInclC14N11GetKlass()) < 0 ||
        xmlSecDSigCtxEnableReferenceTransform(context, xmlSecTransformInclC14NGetKlass()) < 0 ||
        xmlSecDSigCtxEnableReferenceTransform(context, xmlSecOpenSSLTransformSha384GetKlass()) < 0 ||
        xmlSecDSigCtxEnableReferenceTransform(context, xmlSecOpenSSLTransformSha256GetKlass()) < 0 ||
        xmlSecDSigCtxEnableSignatureTransform(context, xmlSecTransformInclC14N11GetKlass()) < 0 ||
        xmlSecDSigCtxEnableSignatureTransform(context, xmlSecTransformInclC14NGetKlass()) < 0 ||
        xmlSecDSigCtxEnableSignatureTransform(context, xmlSecOpenSSLTransformEcdsaSha384GetKlass()) < 0) {
        xmlSecDSigCtxDestroy(context);
        return KBS_XMLSEC_NO_MEMORY;
    }
    int result;
    if (xmlSecDSigCtxVerify(context, signature) < 0) {
        result = KBS_XMLSEC_REFUSED;
    } else if (xmlSecPtrListGetSize(&context->signedInfoReferences) != 1) {
        result = KBS_XMLSEC_REFUSED;
    } else if (context->status != xmlSecDSigStatusSucceeded) {
        result = KBS_XMLSEC_INVALID;
    } else {
        result = KBS_XMLSEC_VALID;
    }
    xmlSecDSigCtxDestroy(context);
    return result;
}

#endif
