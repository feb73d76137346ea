public import Foundation

/// Where an Infisical instance is and which machine identity, project, environment and folder the KBS uses there.
///
/// `description`, `debugDescription` and the mirror leave out the client secret, so a configuration can be logged.
public struct InfisicalConfiguration: Sendable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    /// The instance's base URL, such as `https://app.infisical.com` or a self-hosted one; the API lives under `/api`.
    public var apiURL: URL
    /// The universal-auth machine identity's client id.
    public var clientID: String
    /// The universal-auth client secret; a credential, kept out of every description and error message.
    public var clientSecret: String
    /// The project (workspace) id that holds the KMS keys and secrets.
    public var projectID: String
    /// The environment slug for secrets, such as `prod`.
    public var environment: String
    /// The folder for secrets; `/` is the environment's root.
    public var secretPath: String
    /// How long before the access token's expiry it is renewed (capped at half its lifetime).
    public var refreshMargin: TimeInterval

    /// Creates a configuration.
    public init(
        apiURL: URL,
        clientID: String,
        clientSecret: String,
        projectID: String,
        environment: String = "prod",
        secretPath: String = "/",
        refreshMargin: TimeInterval = 60
    ) {
        self.apiURL = apiURL
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.projectID = projectID
        self.environment = environment
        self.secretPath = secretPath
        self.refreshMargin = refreshMargin
    }

    /// The variables `init(environment:)` reads; the client id and secret use the names of Infisical's own CLI.
    public enum Variable {
        public static let apiURL = "INFISICAL_API_URL"
        public static let clientID = "INFISICAL_UNIVERSAL_AUTH_CLIENT_ID"
        public static let clientSecret = "INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET"
        public static let projectID = "INFISICAL_PROJECT_ID"
        public static let environment = "INFISICAL_ENVIRONMENT"
        public static let secretPath = "INFISICAL_SECRET_PATH"
    }

    /// Reads the configuration from environment variables (`Variable`); the URL, client id, client secret and project
    /// id are required, the environment defaults to `prod` and the secret path to `/`.
    public init(environment variables: [String: String]) throws(KeyError) {
        func required(_ name: String) throws(KeyError) -> String {
            guard let value = variables[name], !value.isEmpty else {
                throw KeyError(.invalidArgument, "\(name) is not set")
            }
            return value
        }
        let text = try required(Variable.apiURL)
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
            url.host != nil
        else {
            throw KeyError(.invalidArgument, "\(Variable.apiURL) is not an http(s) URL")
        }
        self.init(
            apiURL: url, clientID: try required(Variable.clientID), clientSecret: try required(Variable.clientSecret),
            projectID: try required(Variable.projectID), environment: variables[Variable.environment] ?? "prod",
            secretPath: variables[Variable.secretPath] ?? "/")
    }

    public var description: String {
        "Infisical \(apiURL.absoluteString) client \(clientID) project \(projectID) environment \(environment) "
            + "path \(secretPath)"
    }

    public var debugDescription: String { "InfisicalConfiguration(\(description), clientSecret: <redacted>)" }

    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "apiURL": apiURL, "clientID": clientID, "clientSecret": "<redacted>", "projectID": projectID,
                "environment": environment, "secretPath": secretPath, "refreshMargin": refreshMargin,
            ])
    }
}
