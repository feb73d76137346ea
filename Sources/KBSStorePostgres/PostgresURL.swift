import Foundation
import KBSClaims
import KBSStore
import NIOSSL
import PostgresNIO

/// `KBS_STORE_URL` / `[store] url` for PostgreSQL, read into PostgresNIO's client configuration:
///
/// ```
/// postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=MODE&sslrootcert=FILE&schema=NAME]
/// ```
///
/// `postgres://` is accepted too; user and password are percent-decoded. `sslmode` is `disable`, `prefer` (the
/// default, as libpq's), `require`, `verify-ca` or `verify-full`; every mode that uses TLS verifies the server's
/// certificate and name (against `sslrootcert`, else the system's roots), which is stricter than libpq's `require`.
/// `schema` keeps every table in that schema (created when absent), so several deployments can share a database. Any
/// other parameter is refused rather than ignored.
enum PostgresURL {
    static func configuration(
        _ text: String
    ) throws(StoreError) -> (client: PostgresClient.Configuration, probe: PostgresConnection.Configuration, schema: String?) {
        guard let url = URLComponents(string: text), let scheme = url.scheme, ["postgresql", "postgres"].contains(scheme) else {
            throw StoreError(.invalid, "a PostgreSQL store URL starts postgresql://")
        }
        guard let host = url.host, !host.isEmpty else { throw StoreError(.invalid, "a PostgreSQL store URL names a host") }
        guard let user = url.user, !user.isEmpty else { throw StoreError(.invalid, "a PostgreSQL store URL names a user") }
        let database = url.path.hasPrefix("/") ? String(url.path.dropFirst()) : url.path
        guard !database.isEmpty, !database.contains("/") else {
            throw StoreError(.invalid, "a PostgreSQL store URL names one database: postgresql://user@host/DATABASE")
        }
        let port = url.port ?? 5432
        guard (1...65535).contains(port) else { throw StoreError(.invalid, "a PostgreSQL port is 1 to 65535") }
        var mode = "prefer"
        var rootCertificate: String?
        var schema: String?
        for item in url.queryItems ?? [] {
            switch item.name {
            case "sslmode": mode = item.value ?? ""
            case "sslrootcert": rootCertificate = item.value
            case "schema": schema = item.value ?? ""
            default: throw StoreError(.invalid, "a PostgreSQL store URL takes sslmode, sslrootcert and schema, not `\(item.name)`")
            }
        }
        var tlsConfiguration = TLSConfiguration.makeClientConfiguration()
        if let rootCertificate { tlsConfiguration.trustRoots = .file(rootCertificate) }
        let tls: PostgresClient.Configuration.TLS
        let probeTLS: PostgresConnection.Configuration.TLS
        do {
            switch mode {
            case "disable": (tls, probeTLS) = (.disable, .disable)
            case "prefer": (tls, probeTLS) = (.prefer(tlsConfiguration), .prefer(try NIOSSLContext(configuration: tlsConfiguration)))
            case "require", "verify-ca", "verify-full":
                (tls, probeTLS) = (.require(tlsConfiguration), .require(try NIOSSLContext(configuration: tlsConfiguration)))
            default: throw StoreError(.invalid, "sslmode is disable, prefer, require, verify-ca or verify-full, not `\(mode)`")
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.invalid, "the store URL's TLS settings do not load (sslrootcert?): \(error)")
        }
        let configuration = PostgresClient.Configuration(
            host: host, port: port, username: user, password: url.password, database: database, tls: tls)
        let probe = PostgresConnection.Configuration(
            host: host, port: port, username: user, password: url.password, database: database, tls: probeTLS)
        return (configuration, probe, schema)
    }
}
