import Dispatch
import HTTPTypes
import Hummingbird
import Metrics
import Synchronization

/// Token buckets per client address for the routes anyone may call (RCAR `auth` and `attest`): each address gets
/// `burst` requests at once and `perSecond` more each second; past that, 429 with `Retry-After`.
final class RateLimiter: Sendable {
    let perSecond: Double
    let burst: Double
    /// Most addresses tracked; past it the table starts again (a full bucket for everyone), which errs towards serving.
    let maximumClients: Int
    private let buckets = Mutex<[String: Bucket]>([:])

    /// Allows `burst` requests at once and `perSecond` a second after that, per address.
    init(perSecond: Double, burst: Int, maximumClients: Int = 100_000) {
        self.perSecond = perSecond
        self.burst = Double(burst)
        self.maximumClients = maximumClients
    }

    /// Whether `client` may make a request now; otherwise the whole seconds until it may.
    func admit(_ client: String, now: UInt64 = DispatchTime.now().uptimeNanoseconds) -> (allowed: Bool, retryAfter: Int) {
        buckets.withLock { table in
            if table.count >= maximumClients && table[client] == nil { table.removeAll(keepingCapacity: true) }
            var bucket = table[client] ?? Bucket(tokens: burst, updated: now)
            let elapsed = Double(now &- bucket.updated) / 1e9
            bucket.tokens = min(burst, bucket.tokens + elapsed * perSecond)
            bucket.updated = now
            let allowed = bucket.tokens >= 1
            if allowed { bucket.tokens -= 1 }
            table[client] = bucket
            return (allowed, allowed ? 0 : max(1, Int(((1 - bucket.tokens) / perSecond).rounded(.up))))
        }
    }

    /// One address's tokens and when they were last topped up (monotonic nanoseconds).
    private struct Bucket {
        var tokens: Double
        var updated: UInt64
    }
}

/// Refuses requests past the client's rate with 429 and `Retry-After`, counted in `kbs_rate_limited_total`.
struct RateLimiting: RouterMiddleware {
    typealias Context = KBSRequestContext
    let limiter: RateLimiter
    let refused: Metrics.Counter

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let (allowed, retryAfter) = limiter.admit(context.clientAddress)
        guard allowed else {
            refused.increment()
            var response = ServerError(.tooManyRequests, "rate_limited", "too many requests from this address; retry after \(retryAfter) s")
                .jsonResponse()
            response.headers[.retryAfter] = String(retryAfter)
            return response
        }
        return try await next(request, context)
    }
}
