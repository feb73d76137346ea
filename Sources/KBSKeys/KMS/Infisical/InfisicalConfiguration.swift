package import Foundation
import KBSClaims

/// Where an Infisical instance is and which machine identity, project, environment and folder the KBS uses there.
///
/// `description`, `debugDescription` and the mirror leave out the client secret, so a configuration can be logged.
package struct InfisicalConfiguration: Sendable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    /// The instance's base URL, such as `https://app.infisical.com` or a self-hosted one; the API lives under `/api`.
    package var apiURL: URL
    /// The universal-auth machine identity's client id.
    package var clientID: String
    /// The universal-auth client secret; a credential, kept out of every description and error message.
    package var clientSecret: String
    /// The project (workspace) id that holds the KMS keys and secrets.
    package var projectID: String
    /// The environment slug for secrets, such as `prod`.
    package var environment: String
    /// The folder for secrets; `/` is the environment's root.
    package var secretPath: String
    /// How long before the access token's expiry it is renewed (capped at half its lifetime).
    package var refreshMargin: TimeInterval

    /// Creates a configuration.
    package init(
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
    package enum Variable {
        package static let apiURL = "INFISICAL_API_URL"
        package static let clientID = "INFISICAL_UNIVERSAL_AUTH_CLIENT_ID"
        package static let clientSecret = "INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET"
        package static let projectID = "INFISICAL_PROJECT_ID"
        package static let environment = "INFISICAL_ENVIRONMENT"
        package static let secretPath = "INFISICAL_SECRET_PATH"
        /// All of the above.
        package static let all = [apiURL, clientID, clientSecret, projectID, environment, secretPath]
    }

    /// Reads the configuration from environment variables (`Variable`); the URL, client id, client secret and project
    /// id are required, the environment defaults to `prod` and the secret path to `/`.
    package init(environment variables: [String: String]) throws(KeyError) {
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

    package var description: String {
        "Infisical \(apiURL.absoluteString) client \(clientID) project \(projectID) environment \(environment) "
            + "path \(secretPath)"
    }

    package var debugDescription: String { "InfisicalConfiguration(\(description), clientSecret: <redacted>)" }

    package var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "apiURL": apiURL, "clientID": clientID, "clientSecret": "<redacted>", "projectID": projectID,
                "environment": environment, "secretPath": secretPath, "refreshMargin": refreshMargin,
            ])
    }
}
