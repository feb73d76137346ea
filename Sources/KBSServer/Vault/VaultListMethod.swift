package import NIOCore
import NIOHTTP1

/// Vault clients list with the `LIST` verb, which SwiftNIO's HTTP/1.1 parser (llhttp) refuses before any route sees
/// it. Vault itself treats `GET …?list=true` as `LIST`, so this rewrites a request line `LIST /v1/… HTTP/1.1` into
/// `GET /v1/…?list=true HTTP/1.1` before the parser: same meaning, a verb the parser takes.
///
/// Only the first bytes of a request are looked at, and only between requests: a handler after the decoder marks the
/// end of each request, so bytes inside a body are never touched. A client that pipelines a `LIST` behind another
/// request gets the parser's refusal (hvac, the Vault CLI and Vault Agent wait for each response). HTTP/2 carries the
/// verb in `:method` and needs none of this.
package enum VaultListMethod {
    /// The handler Hummingbird adds after its HTTP codec: it puts the rewriter before the HTTP/1.1 decoder and the
    /// request-end watcher after it, then takes itself out.
    package final class Installer: ChannelInboundHandler, RemovableChannelHandler {
        /// Passes everything on untouched (NIO takes only inbound or outbound handlers).
        package typealias InboundIn = NIOAny

        /// An installer, for a pipeline that will hold an HTTP/1.1 decoder (or none, and then nothing is installed).
        package init() {}

        package func handlerAdded(context: ChannelHandlerContext) {
            let pipeline = context.pipeline.syncOperations
            if let decoder = try? pipeline.context(handlerType: ByteToMessageHandler<HTTPRequestDecoder>.self) {
                let between = Between()
                try? pipeline.addHandler(Rewriter(between), position: .before(decoder.handler))
                try? pipeline.addHandler(RequestEnds(between), position: .after(decoder.handler))
            }
            pipeline.removeHandler(context: context, promise: nil)
        }
    }

    /// Whether the connection is between requests: true at the start and after each request's end.
    final class Between {
        var idle = true
    }

    /// Rewrites `LIST` request lines on `/v1/` paths.
    final class Rewriter: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = ByteBuffer
        typealias InboundOut = ByteBuffer

        private let between: Between
        private var held: ByteBuffer?
        /// A request line longer than this is passed on for the parser to judge.
        static let maximumLine = 16 * 1024

        init(_ between: Between) { self.between = between }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var bytes = unwrapInboundIn(data)
            guard between.idle || held != nil else {
                context.fireChannelRead(data)
                return
            }
            if var earlier = held {
                earlier.writeBuffer(&bytes)
                bytes = earlier
                held = nil
            }
            let view = bytes.readableBytesView
            let verb = Array("LIST /v1/".utf8)
            let seen = min(view.count, verb.count)
            guard view.prefix(seen).elementsEqual(verb.prefix(seen)) else { return pass(bytes, context) }
            guard view.count >= verb.count, let end = view.firstIndex(of: UInt8(ascii: "\n")) else {
                if view.count > Self.maximumLine { return pass(bytes, context) }
                held = bytes
                return
            }
            // "LIST " target " HTTP/1.x\r\n" → "GET " target ("?" or "&") "list=true" " HTTP/1.x\r\n"
            let targetStart = view.startIndex + 5
            guard let targetEnd = view[targetStart..<end].firstIndex(of: UInt8(ascii: " ")) else { return pass(bytes, context) }
            let target = view[targetStart..<targetEnd]
            var rewritten = context.channel.allocator.buffer(capacity: view.count + 16)
            rewritten.writeString("GET ")
            rewritten.writeBytes(target)
            rewritten.writeString(target.contains(UInt8(ascii: "?")) ? "&list=true" : "?list=true")
            rewritten.writeBytes(view[targetEnd...])
            pass(rewritten, context)
        }

        private func pass(_ bytes: ByteBuffer, _ context: ChannelHandlerContext) {
            between.idle = false
            context.fireChannelRead(wrapInboundOut(bytes))
        }
    }

    /// Marks the end of each request the decoder produced.
    final class RequestEnds: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias InboundOut = HTTPServerRequestPart

        private let between: Between

        init(_ between: Between) { self.between = between }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            if case .end = unwrapInboundIn(data) { between.idle = true }
            context.fireChannelRead(data)
        }
    }
}
