import Hummingbird
import NIOCore

/// Who a request comes from, as the server's authentication middleware established it.
enum Caller: Sendable, Equatable {
    /// The holder of the admin bearer token.
    case admin
}

/// The request context of every route: Hummingbird's core storage and the authenticated caller.
struct KBSRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    /// Set by ``AdminAuthentication`` on the routes behind it; nil on the open routes.
    var caller: Caller?
    /// The peer's IP address, `unknown` when the channel has none (a test client): per-client limits key on it.
    let clientAddress: String

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.caller = nil
        self.clientAddress = source.channel.remoteAddress?.ipAddress ?? "unknown"
    }
}

/// Refuses requests without the admin bearer token and marks the rest as the admin's: the one gate in front of every
/// admin route (`/kbs/v1/…` and Trustee's resource writes under `/kbs/v0/resource`).
struct AdminAuthentication: RouterMiddleware {
    typealias Context = KBSRequestContext
    let token: AdminToken

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard token.accepts(authorization: request.headers[.authorization]) else {
            throw ServerError(.unauthorized, "unauthorized", "this route needs `Authorization: Bearer <admin token>`")
        }
        var context = context
        context.caller = .admin
        return try await next(request, context)
    }
}
