import Foundation
import KBSClaims

/// The universal-auth access token, reused until shortly before it expires and renewed by one login at a time.
///
/// An actor so concurrent requests that all find the token stale share one login instead of each making their own
/// (Infisical rate-limits logins).
actor InfisicalTokenCache {
    typealias Login = @Sendable () async throws(KeyError) -> (token: String, lifetime: TimeInterval)

    private struct Token {
        var value: String
        var renewAt: Date
    }

    private let login: Login
    private let now: @Sendable () -> Date
    private let margin: TimeInterval
    private var current: Token?
    private var pending: Task<Token, any Error>?
    /// How many logins were made; tests check that a token is reused, and renewed when it must be.
    private(set) var logins = 0

    init(margin: TimeInterval, now: @escaping @Sendable () -> Date, login: @escaping Login) {
        self.margin = margin
        self.now = now
        self.login = login
    }

    /// A token that is not due for renewal, logging in if there is none.
    func token() async throws(KeyError) -> String {
        if let current, now() < current.renewAt { return current.value }
        return try await fresh()
    }

    /// A token other than `rejected`, which Infisical refused (expired or revoked before we expected).
    func renew(rejecting rejected: String) async throws(KeyError) -> String {
        if let current, current.value != rejected, now() < current.renewAt { return current.value }
        current = nil
        return try await fresh()
    }

    /// Forgets the token, so the next request logs in.
    func reset() {
        current = nil
    }

    private func fresh() async throws(KeyError) -> String {
        let task: Task<Token, any Error>
        if let pending {
            task = pending
        } else {
            logins += 1
            let login = self.login
            let now = self.now
            let margin = self.margin
            task = Task {
                let issued = now()
                let (value, lifetime) = try await login()
                // Renew `margin` early, but never later than half-way: a short-lived token is renewed in time too.
                let early = min(margin, lifetime / 2)
                return Token(value: value, renewAt: issued.addingTimeInterval(lifetime - early))
            }
            pending = task
        }
        do {
            let token = try await task.value
            if pending == task { pending = nil }
            current = token
            return token.value
        } catch {
            if pending == task { pending = nil }
            throw (error as? KeyError) ?? KeyError(.storage, "Infisical login failed: \(type(of: error))")
        }
    }
}
