import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// Wraps the router: answers unknown routes with a JSON 404, turns any stray error into a JSON 500, and
/// counts every request by route pattern and status.
struct ServerResponder: HTTPResponder {
    typealias Context = KBSRequestContext
    let router: RouterResponder<KBSRequestContext>
    let metrics: ServerMetrics

    func respond(to request: Request, context: Context) async throws -> Response {
        let started = DispatchTime.now().uptimeNanoseconds
        var response: Response
        do {
            response = try await router.respond(to: request, context: context)
        } catch let error as ServerError {
            response = error.jsonResponse()
        } catch let error as any HTTPResponseError {
            response = ServerError(error.status, "http_error", error.status.reasonPhrase).jsonResponse()
        } catch {
            context.logger.error("unexpected error", metadata: ["error": "\(error)"])
            response = ServerError(.internalServerError, "internal", "the server failed to handle the request").jsonResponse()
        }
        let route = context.endpointPath ?? "NotFound"
        if route == "NotFound" && response.status == .notFound {
            response = ServerError(.notFound, "not_found", "no route for \(request.method) \(request.uri.path)").jsonResponse()
        }
        metrics.recordRequest(
            route: route, method: request.method.rawValue, status: response.status.code,
            nanoseconds: Int64(DispatchTime.now().uptimeNanoseconds - started))
        return response
    }
}
