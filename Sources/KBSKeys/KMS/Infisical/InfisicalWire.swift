import Foundation

// The JSON bodies of Infisical's API, member for member (see Tools/infisical-local for the routes). Only the members
// the KBS reads are decoded; Infisical sends more.

struct InfisicalLoginRequest: Encodable {
    var clientId: String
    var clientSecret: String
}

struct InfisicalLoginResponse: Decodable {
    var accessToken: String
    var expiresIn: Double
    var tokenType: String
}

struct InfisicalCreateKeyRequest: Encodable {
    var name: String
    var projectId: String
    var encryptionAlgorithm: String
    var description: String
}

struct InfisicalKeyResponse: Decodable {
    var key: InfisicalKMSKey
}

struct InfisicalCiphertext: Codable {
    var ciphertext: String
}

struct InfisicalPlaintext: Decodable {
    var plaintext: String
}

struct InfisicalSecretResponse: Decodable {
    struct Secret: Decodable {
        var secretKey: String
        var secretValue: String
        var version: Int
    }

    var secret: Secret
}

/// Infisical's error body, `{reqId, statusCode, message, error}`; `message` is a list of issues for a
/// `ValidationFailure`.
struct InfisicalErrorBody: Decodable {
    var message: String
    var error: String?

    enum CodingKeys: String, CodingKey { case message, error }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        error = try container.decodeIfPresent(String.self, forKey: .error)
        if let text = try? container.decode(String.self, forKey: .message) {
            message = text
        } else if let issues = try? container.decode([Issue].self, forKey: .message) {
            message = issues.map(\.description).joined(separator: "; ")
        } else {
            message = "no message"
        }
    }

    struct Issue: Decodable, CustomStringConvertible {
        var path: [PathElement]?
        var message: String?

        var description: String {
            let location = (path ?? []).map(\.text).joined(separator: ".")
            return location.isEmpty ? (message ?? "invalid") : "\(location): \(message ?? "invalid")"
        }
    }

    enum PathElement: Decodable {
        case name(String)
        case index(Int)

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let index = try? container.decode(Int.self) {
                self = .index(index)
            } else {
                self = .name(try container.decode(String.self))
            }
        }

        var text: String {
            switch self {
            case .name(let name): name
            case .index(let index): String(index)
            }
        }
    }
}

/// A key in Infisical KMS, as its API describes it.
package struct InfisicalKMSKey: Sendable, Decodable, Equatable {
    /// The key's id (a UUID), which encrypt and decrypt take.
    package var id: String
    /// The key's name, unique in its project.
    package var name: String
    /// The project that holds the key.
    package var projectID: String
    /// A disabled key neither encrypts nor decrypts.
    package var isDisabled: Bool
    /// `aes-256-gcm` or `aes-128-gcm`.
    package var encryptionAlgorithm: String

    enum CodingKeys: String, CodingKey {
        case id, name, isDisabled, encryptionAlgorithm
        case projectID = "projectId"
    }
}
