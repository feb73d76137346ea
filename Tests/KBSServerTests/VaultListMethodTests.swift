import KBSServer
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

/// The `LIST` rewriter in front of NIO's HTTP/1.1 decoder: request lines rewritten however the bytes are cut, only at
/// the start of a request and only on `/v1/`, bodies never touched.
struct VaultListMethodTests {
    /// A channel with the server's HTTP/1.1 decoder and the installer, as Hummingbird's pipeline has them.
    static func channel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withPipeliningAssistance: false, withErrorHandling: false)
        try channel.pipeline.syncOperations.addHandler(VaultListMethod.Installer())
        return channel
    }

    /// Sends each request of `requests` in pieces of `size`, reading what was decoded before the next (as clients
    /// that wait for each response send them), and returns the decoded heads and bodies.
    static func decode(_ requests: [String], pieces size: Int) throws -> (heads: [HTTPRequestHead], bodies: [String]) {
        let channel = try channel()
        defer { _ = try? channel.finish() }
        var heads: [HTTPRequestHead] = []
        var bodies: [String] = []
        for request in requests {
            let all = Array(request.utf8)
            var start = 0
            while start < all.count {
                try channel.writeInbound(ByteBuffer(bytes: all[start..<min(all.count, start + size)]))
                start += size
            }
            while let part = try channel.readInbound(as: HTTPServerRequestPart.self) {
                switch part {
                case .head(let head): heads.append(head)
                case .body(let buffer): bodies.append(String(buffer: buffer))
                case .end: break
                }
            }
        }
        return (heads, bodies)
    }

    static func decode(_ request: String, pieces size: Int) throws -> (heads: [HTTPRequestHead], bodies: [String]) {
        try decode([request], pieces: size)
    }

    @Test(arguments: [1, 2, 3, 7, 64, 4096])
    func listBecomesGetWithListTrueHoweverTheBytesAreCut(_ size: Int) throws {
        let (heads, _) = try Self.decode("LIST /v1/secret/metadata/app HTTP/1.1\r\nHost: kbs\r\n\r\n", pieces: size)
        #expect(heads.count == 1 && heads[0].method == .GET && heads[0].uri == "/v1/secret/metadata/app?list=true", "\(heads)")
        let (query, _) = try Self.decode("LIST /v1/transit/keys?x=1 HTTP/1.1\r\nHost: kbs\r\n\r\n", pieces: size)
        #expect(query.first?.uri == "/v1/transit/keys?x=1&list=true")
    }

    @Test(arguments: [1, 5, 4096])
    func onlyTheStartOfEachRequestIsRead(_ size: Int) throws {
        // A POST whose body begins like a LIST request line, then a LIST and a GET on the same connection.
        let body = "LIST /v1/secret/metadata/ HTTP/1.1\r\n"
        let requests = [
            "POST /v1/secret/data/x HTTP/1.1\r\nHost: kbs\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)",
            "LIST /v1/secret/metadata/ HTTP/1.1\r\nHost: kbs\r\n\r\n", "GET /healthz HTTP/1.1\r\nHost: kbs\r\n\r\n",
        ]
        let (heads, bodies) = try Self.decode(requests, pieces: size)
        #expect(heads.map(\.method) == [.POST, .GET, .GET], "\(heads)")
        #expect(bodies.joined() == body, "the body is passed on as sent")
        #expect(heads.map(\.uri) == ["/v1/secret/data/x", "/v1/secret/metadata/?list=true", "/healthz"])
    }

    @Test func aListPipelinedBehindAnotherRequestIsLeftToTheParser() throws {
        // The documented limit: bytes of the next request that arrive with the end of the previous one are not read.
        let channel = try Self.channel()
        let pipelined = "GET /healthz HTTP/1.1\r\nHost: kbs\r\n\r\nLIST /v1/secret/metadata/ HTTP/1.1\r\nHost: kbs\r\n\r\n"
        #expect(throws: (any Error).self) { try channel.writeInbound(ByteBuffer(string: pipelined)) }
        _ = try? channel.finish()
    }

    @Test func listOffTheVaultAPIIsLeftToTheParser() throws {
        let channel = try Self.channel()
        #expect(throws: (any Error).self) { try channel.writeInbound(ByteBuffer(string: "LIST /kbs/v1/x HTTP/1.1\r\nHost: kbs\r\n\r\n")) }
        _ = try? channel.finish()
    }
}
