import HTTPTypes
import Hummingbird
import KBSClaims
import KBSPolicy
import Synchronization

/// The port the server bound, known once it listens (`--port 0` picks one).
final class BoundPort: Sendable {
    private let port = Mutex<Int?>(nil)

    var value: Int? { port.withLock { $0 } }

    func set(_ value: Int) { port.withLock { $0 = value } }
}

/// `/access/v1/evaluation`, `/access/v1/evaluations` and `/.well-known/authzen-configuration` (AuthZEN 1.0).
struct AuthZENRoutes: Sendable {
    let decider: Decider
    let configuration: ServerConfiguration
    let boundPort: BoundPort

    private static let requestIDHeader = HTTPField.Name("X-Request-ID")!

    /// How an `evaluations` request runs its entries.
    enum Semantic: String {
        case executeAll = "execute_all"
        case denyOnFirstDeny = "deny_on_first_deny"
        case permitOnFirstPermit = "permit_on_first_permit"
    }

    func add(to router: Router<KBSRequestContext>) {
        router.post("/access/v1/evaluation") { request, _ in try await evaluation(request) }
        router.post("/access/v1/evaluations") { request, _ in try await evaluations(request) }
        router.get("/.well-known/authzen-configuration") { _, _ in configurationDocument() }
    }

    private func evaluation(_ request: Request) async throws(ServerError) -> Response {
        var request = request
        let body = try await request.bodyBytes(limit: configuration.maxBodyBytes)
        let requestID = try AuthZENRoutes.requestID(request)
        let tokens = try SingleAccessRequest.check(body)
        let policy = decider.policies.current
        // The body is the policy input as it is: members the policy does not read are skipped by its decoder.
        let outcome = try decider.decide(
            tokens, input: body, source: body, requestID: requestID, endpoint: "evaluation", index: nil,
            policy: policy, snapshot: decider.entities.snapshot())
        return JSONResponse.make(Decider.responseJSON(outcome), headers: echo(requestID))
    }

    private func evaluations(_ request: Request) async throws(ServerError) -> Response {
        var request = request
        let body = try await request.bodyBytes(limit: configuration.maxBodyBytes)
        let requestID = try AuthZENRoutes.requestID(request)
        let root = try AccessRequest.parseObject(body)
        var semantic = Semantic.executeAll
        if let options = root["options"] {
            guard case .object = options.value else {
                throw .badRequest("invalid_request", "`options` must be an object, not \(options.kindName)")
            }
            if let value = options["evaluations_semantic"] {
                guard let text = value.stringValue, let chosen = Semantic(rawValue: text) else {
                    throw .badRequest(
                        "invalid_request",
                        "`options.evaluations_semantic` must be one of execute_all, deny_on_first_deny, permit_on_first_permit")
                }
                semantic = chosen
            }
        }
        let policy = decider.policies.current
        let snapshot = decider.entities.snapshot()
        guard let list = root["evaluations"] else {
            // Without `evaluations` the request is a single evaluation (AuthZEN 1.0 §7.1).
            let access = try AccessRequest(root)
            let outcome = try decider.decide(
                access.tokens, input: body, source: body, requestID: requestID, endpoint: "evaluations", index: nil,
                policy: policy, snapshot: snapshot)
            return JSONResponse.make(Decider.responseJSON(outcome), headers: echo(requestID))
        }
        guard case .array(let items) = list.value else {
            throw .badRequest("invalid_request", "`evaluations` must be an array, not \(list.kindName)")
        }
        guard items.count <= configuration.maxEvaluations else {
            throw .badRequest("too_many_evaluations", "`evaluations` holds \(items.count) entries; the limit is \(configuration.maxEvaluations)")
        }
        if items.isEmpty {
            let access = try AccessRequest(root)
            let outcome = try decider.decide(
                access.tokens, input: body, source: body, requestID: requestID, endpoint: "evaluations", index: nil,
                policy: policy, snapshot: snapshot)
            return JSONResponse.make(Decider.responseJSON(outcome), headers: echo(requestID))
        }
        let defaults = AccessRequest.Defaults(
            subject: root["subject"], action: root["action"], resource: root["resource"],
            context: root["context"])
        var results: [String] = []
        for (index, item) in items.enumerated() {
            guard case .object = item.value else {
                throw .badRequest("invalid_request", "`evaluations[\(index)]` must be an object, not \(item.kindName)")
            }
            let access: AccessRequest
            do {
                access = try AccessRequest(item, defaults: defaults, at: "evaluations[\(index)].")
            } catch {
                // An entry that cannot be evaluated is denied on its own (AuthZEN 1.0 §7.2.1), with the reason.
                results.append(
                    "{\"decision\":false,\"context\":{\"error\":{\"status\":400,\"message\":\(JSONText.quote(error.message))}}}")
                if semantic == .denyOnFirstDeny { break }
                continue
            }
            let outcome = try decider.decide(
                access.tokens, input: access.policyInput(source: body), source: body, requestID: requestID,
                endpoint: "evaluations", index: index, policy: policy, snapshot: snapshot)
            switch semantic {
            case .executeAll:
                results.append(Decider.responseJSON(outcome))
            case .denyOnFirstDeny:
                results.append(Decider.responseJSON(outcome, reason: outcome.permitted ? nil : semantic.rawValue))
            case .permitOnFirstPermit:
                results.append(Decider.responseJSON(outcome, reason: outcome.permitted ? semantic.rawValue : nil))
            }
            if semantic == .denyOnFirstDeny && !outcome.permitted { break }
            if semantic == .permitOnFirstPermit && outcome.permitted { break }
        }
        return JSONResponse.make("{\"evaluations\":[" + results.joined(separator: ",") + "]}", headers: echo(requestID))
    }

    /// The PDP metadata (AuthZEN 1.0 §9). The identifier is `--public-url`, else this server's own address; never the
    /// request's `Host` header, which any client sets and a cache would keep.
    private func configurationDocument() -> Response {
        let pdp = configuration.publicURL ?? "http://\(configuration.host):\(boundPort.value ?? configuration.port)"
        let base = pdp.hasSuffix("/") ? String(pdp.dropLast()) : pdp
        let text =
            "{\"policy_decision_point\":\(JSONText.quote(base)),"
            + "\"access_evaluation_endpoint\":\(JSONText.quote(base + "/access/v1/evaluation")),"
            + "\"access_evaluations_endpoint\":\(JSONText.quote(base + "/access/v1/evaluations"))}"
        return JSONResponse.make(text)
    }

    /// Longest `X-Request-ID` accepted: it is echoed and logged with every decision.
    static let maximumRequestIDBytes = 128

    private static func requestID(_ request: Request) throws(ServerError) -> String? {
        guard let value = request.headers[requestIDHeader] else { return nil }
        guard value.utf8.count <= maximumRequestIDBytes else {
            throw .badRequest("invalid_request", "`X-Request-ID` is longer than \(maximumRequestIDBytes) bytes")
        }
        return value
    }

    private func echo(_ requestID: String?) -> HTTPFields {
        guard let requestID else { return [:] }
        return [AuthZENRoutes.requestIDHeader: requestID]
    }
}
