import HTTPTypes
import Hummingbird
import KBSBroker
import KBSClaims
import KBSIdentity
import NIOCore

/// AWS KMS's errors as the server's: a ``ServerError`` whose code is AWS's error type (`NotFoundException`, …), sent as
/// `{"__type": <type>, "message": …}` with 400 for the caller's faults and 500 for the server's, as AWS sends them.
enum KMSError {
    static func serialization(_ message: String) -> ServerError { ServerError(.badRequest, "SerializationException", message) }
    static func validation(_ message: String) -> ServerError { ServerError(.badRequest, "ValidationException", message) }

    /// The broker's `kms_*` codes and its other refusals, by AWS's types.
    static let types: [String: String] = [
        "kms_not_found": "NotFoundException", "kms_disabled": "DisabledException", "kms_invalid_state": "KMSInvalidStateException",
        "kms_invalid_ciphertext": "InvalidCiphertextException", "kms_incorrect_key": "IncorrectKeyException",
        "kms_invalid_key_usage": "InvalidKeyUsageException", "kms_access_denied": "AccessDeniedException",
        "kms_already_exists": "AlreadyExistsException", "kms_validation": "ValidationException",
        "kms_unsupported": "UnsupportedOperationException", "kms_invalid_alias_name": "InvalidAliasNameException",
        "kms_invalid_signature": "KMSInvalidSignatureException", "kms_invalid_marker": "InvalidMarkerException",
        "kms_tag": "TagException", "kms_unrecognized_client": "UnrecognizedClientException", "kms_expired_token": "ExpiredTokenException",
    ]

    /// A broker refusal as AWS's error: a known `kms_*` code by its type (400), anything else (the store, the audit
    /// log, the decision log, the master key) `KMSInternalException` (500) — the request may be retried.
    static func from(_ error: BrokerError) -> ServerError {
        if let type = types[error.code] { return ServerError(.badRequest, type, error.message) }
        return ServerError(.internalServerError, "KMSInternalException", "\(error.code): \(error.message)")
    }

    /// A SigV4 refusal as AWS's error.
    static func from(_ error: IdentityError) -> ServerError {
        switch error.reason {
        case .unsigned: ServerError(.badRequest, "MissingAuthenticationTokenException", "Missing Authentication Token: " + error.message)
        case .malformed, .missingComponent: ServerError(.badRequest, "IncompleteSignatureException", error.message)
        case .unknownKey, .revoked: ServerError(.badRequest, "UnrecognizedClientException", "The security token included in the request is invalid.")
        case .configuration: ServerError(.internalServerError, "KMSInternalException", error.message)
        default: ServerError(.badRequest, "InvalidSignatureException", error.message)
        }
    }

    /// The error as AWS's JSON 1.1 protocol sends it.
    static func response(_ error: ServerError, requestID: String) -> Response {
        var writer = JSONWriter()
        writer.object { object in
            object.member("__type", error.code)
            object.member("message", error.message)
        }
        return Response(
            status: error.status, headers: KMSRoutes.headers(requestID: requestID), body: .init(byteBuffer: ByteBuffer(bytes: writer.bytes)))
    }
}
