// Debian's OpenSSL 3 libcrypto: X.509 parsing, certificate and CRL signatures (RSA-PSS included, which AMD's chain
// needs and swift-certificates lacks). Only what KBSEvidence/X509 calls; nothing here holds state.
#ifndef KBS_COPENSSL_SHIM_H
#define KBS_COPENSSL_SHIM_H

#include <string.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/// d2i_X509 over a buffer without the pointer-advancing dance Swift finds awkward; NULL when it is not DER X.509.
static inline X509 *kbs_x509_from_der(const unsigned char *bytes, long length) {
    const unsigned char *cursor = bytes;
    X509 *certificate = d2i_X509(NULL, &cursor, length);
    if (certificate != NULL && cursor != bytes + length) { X509_free(certificate); return NULL; }
    return certificate;
}

static inline X509_CRL *kbs_x509_crl_from_der(const unsigned char *bytes, long length) {
    const unsigned char *cursor = bytes;
    X509_CRL *crl = d2i_X509_CRL(NULL, &cursor, length);
    if (crl != NULL && cursor != bytes + length) { X509_CRL_free(crl); return NULL; }
    return crl;
}

/// The DER of a certificate's SubjectPublicKeyInfo; *out is OPENSSL_malloc'd (free with kbs_openssl_free).
static inline int kbs_x509_spki_der(X509 *certificate, unsigned char **out) {
    EVP_PKEY *key = X509_get0_pubkey(certificate);
    if (key == NULL) return -1;
    *out = NULL;
    return i2d_PUBKEY(key, out);
}

/// The DER of the whole certificate; *out is OPENSSL_malloc'd.
static inline int kbs_x509_der(X509 *certificate, unsigned char **out) {
    *out = NULL;
    return i2d_X509(certificate, out);
}

static inline void kbs_openssl_free(void *pointer) { OPENSSL_free(pointer); }

/// 1 when `certificate`'s signature verifies with `issuer`'s public key (RSA PKCS#1, RSA-PSS, ECDSA).
static inline int kbs_x509_signed_by(X509 *certificate, X509 *issuer) {
    EVP_PKEY *key = X509_get0_pubkey(issuer);
    if (key == NULL) return -1;
    int result = X509_verify(certificate, key);
    ERR_clear_error();
    return result;
}

static inline int kbs_x509_crl_signed_by(X509_CRL *crl, X509 *issuer) {
    EVP_PKEY *key = X509_get0_pubkey(issuer);
    if (key == NULL) return -1;
    int result = X509_CRL_verify(crl, key);
    ERR_clear_error();
    return result;
}

/// Seconds since 1970 of an ASN1_TIME, or 0 with *ok = 0 when it does not parse.
static inline long long kbs_asn1_time_unix(const ASN1_TIME *time, int *ok) {
    struct tm parsed;
    if (time == NULL || ASN1_TIME_to_tm(time, &parsed) != 1) { *ok = 0; return 0; }
    *ok = 1;
    // timegm is not in every libc's strict mode; OPENSSL_gmtime_diff from the epoch is.
    int days = 0, seconds = 0;
    struct tm epoch = {0};
    epoch.tm_year = 70; epoch.tm_mday = 1;
    if (OPENSSL_gmtime_diff(&days, &seconds, &epoch, &parsed) != 1) { *ok = 0; return 0; }
    return (long long)days * 86400LL + (long long)seconds;
}

static inline long long kbs_x509_not_before(X509 *certificate, int *ok) { return kbs_asn1_time_unix(X509_get0_notBefore(certificate), ok); }
static inline long long kbs_x509_not_after(X509 *certificate, int *ok) { return kbs_asn1_time_unix(X509_get0_notAfter(certificate), ok); }
static inline long long kbs_crl_this_update(X509_CRL *crl, int *ok) { return kbs_asn1_time_unix(X509_CRL_get0_lastUpdate(crl), ok); }
static inline long long kbs_crl_next_update(X509_CRL *crl, int *ok) { return kbs_asn1_time_unix(X509_CRL_get0_nextUpdate(crl), ok); }

/// The DER content octets of the extension with dotted OID `oid`; length, or -1 when absent, -2 when present twice.
static inline int kbs_x509_extension(X509 *certificate, const char *oid, const unsigned char **data, int *critical) {
    ASN1_OBJECT *object = OBJ_txt2obj(oid, 1);
    if (object == NULL) return -3;
    int index = X509_get_ext_by_OBJ(certificate, object, -1);
    if (index < 0) { ASN1_OBJECT_free(object); return -1; }
    if (X509_get_ext_by_OBJ(certificate, object, index) >= 0) { ASN1_OBJECT_free(object); return -2; }
    ASN1_OBJECT_free(object);
    X509_EXTENSION *extension = X509_get_ext(certificate, index);
    ASN1_OCTET_STRING *value = X509_EXTENSION_get_data(extension);
    *critical = X509_EXTENSION_get_critical(extension);
    *data = ASN1_STRING_get0_data(value);
    return ASN1_STRING_length(value);
}

/// The one-line RFC 2253 form of a name into `buffer`; length written (without NUL), or -1.
static inline int kbs_x509_name_line(X509_NAME *name, char *buffer, int capacity) {
    BIO *bio = BIO_new(BIO_s_mem());
    if (bio == NULL) return -1;
    if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) < 0) { BIO_free(bio); return -1; }
    int length = BIO_read(bio, buffer, capacity - 1);
    BIO_free(bio);
    if (length < 0) length = 0;
    buffer[length] = 0;
    return length;
}

/// 1 when the certificate says it is a CA (basicConstraints cA TRUE), 0 when not, -1 with no basicConstraints.
static inline int kbs_x509_is_ca(X509 *certificate) {
    int critical = 0;
    BASIC_CONSTRAINTS *constraints = X509_get_ext_d2i(certificate, NID_basic_constraints, &critical, NULL);
    if (constraints == NULL) return -1;
    int ca = constraints->ca ? 1 : 0;
    BASIC_CONSTRAINTS_free(constraints);
    return ca;
}

/// The serial number as big-endian magnitude bytes into `buffer`; length, or -1.
static inline int kbs_x509_serial(X509 *certificate, unsigned char *buffer, int capacity) {
    const ASN1_INTEGER *serial = X509_get0_serialNumber(certificate);
    int length = ASN1_STRING_length(serial);
    if (length > capacity) return -1;
    memcpy(buffer, ASN1_STRING_get0_data(serial), (size_t)length);
    return length;
}

/// 1 when `serial` (big-endian magnitude) is listed in the CRL.
static inline int kbs_crl_lists(X509_CRL *crl, const unsigned char *serial, int length) {
    STACK_OF(X509_REVOKED) *revoked = X509_CRL_get_REVOKED(crl);
    int count = revoked == NULL ? 0 : sk_X509_REVOKED_num(revoked);
    for (int i = 0; i < count; i++) {
        const ASN1_INTEGER *listed = X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(revoked, i));
        if (ASN1_STRING_length(listed) == length && memcmp(ASN1_STRING_get0_data(listed), serial, (size_t)length) == 0) return 1;
    }
    return 0;
}

static inline int kbs_crl_revoked_count(X509_CRL *crl) {
    STACK_OF(X509_REVOKED) *revoked = X509_CRL_get_REVOKED(crl);
    return revoked == NULL ? 0 : sk_X509_REVOKED_num(revoked);
}

// ---- Certificate issuing, for the TEE simulator's test chains only. ----

/// A private key from DER (PKCS#8 or SEC1); NULL when it does not parse. Free with EVP_PKEY_free.
static inline EVP_PKEY *kbs_private_key_from_der(const unsigned char *der, long length) {
    const unsigned char *cursor = der;
    return d2i_AutoPrivateKey(NULL, &cursor, length);
}

/// A v3 certificate for `subjectKey`'s public key with the given serial (big-endian) and validity (Unix seconds),
/// no names or extensions yet; NULL on failure.
static inline X509 *kbs_certificate_new(EVP_PKEY *subjectKey, const unsigned char *serial, int serialLength,
    long long notBefore, long long notAfter) {
    X509 *certificate = X509_new();
    if (certificate == NULL) return NULL;
    BIGNUM *number = BN_bin2bn(serial, serialLength, NULL);
    ASN1_INTEGER *integer = number == NULL ? NULL : BN_to_ASN1_INTEGER(number, NULL);
    int ok = integer != NULL && X509_set_version(certificate, 2) == 1 && X509_set_serialNumber(certificate, integer) == 1 &&
        ASN1_TIME_set(X509_getm_notBefore(certificate), (time_t)notBefore) != NULL &&
        ASN1_TIME_set(X509_getm_notAfter(certificate), (time_t)notAfter) != NULL &&
        X509_set_pubkey(certificate, subjectKey) == 1;
    BN_free(number);
    ASN1_INTEGER_free(integer);
    if (!ok) { X509_free(certificate); return NULL; }
    return certificate;
}

/// Appends `field=value` (e.g. "CN") to the subject name; 1 on success.
static inline int kbs_certificate_add_subject(X509 *certificate, const char *field, const char *value) {
    return X509_NAME_add_entry_by_txt(X509_get_subject_name(certificate), field, MBSTRING_UTF8,
        (const unsigned char *)value, -1, -1, 0);
}

/// Sets the issuer name to `issuer`'s subject (pass the certificate itself for a self-signed one).
static inline int kbs_certificate_set_issuer(X509 *certificate, X509 *issuer) {
    return X509_set_issuer_name(certificate, X509_get_subject_name(issuer));
}

/// Adds an extension whose extnValue is exactly the DER bytes given.
static inline int kbs_certificate_add_extension(X509 *certificate, const char *oid, const unsigned char *der, int length,
    int critical) {
    ASN1_OBJECT *object = OBJ_txt2obj(oid, 1);
    ASN1_OCTET_STRING *value = ASN1_OCTET_STRING_new();
    int ok = 0;
    if (object != NULL && value != NULL && ASN1_OCTET_STRING_set(value, der, length) == 1) {
        X509_EXTENSION *extension = X509_EXTENSION_create_by_OBJ(NULL, object, critical, value);
        if (extension != NULL) {
            ok = X509_add_ext(certificate, extension, -1);
            X509_EXTENSION_free(extension);
        }
    }
    ASN1_OBJECT_free(object);
    ASN1_OCTET_STRING_free(value);
    return ok;
}

/// Signs with `key` (ECDSA) over SHA-384 when `sha384`, else SHA-256; 1 on success.
static inline int kbs_certificate_sign(X509 *certificate, EVP_PKEY *key, int sha384) {
    return X509_sign(certificate, key, sha384 ? EVP_sha384() : EVP_sha256()) > 0 ? 1 : 0;
}

#endif
