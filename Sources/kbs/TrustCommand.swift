import ArgumentParser
import Foundation
import KBSClaims
import KBSEvidence

/// `kbs trust …`: what evidence may chain to.
struct TrustCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trust",
        abstract: "Show the trust anchors evidence may chain to: the vendor roots shipped with kbs and a data directory's.",
        subcommands: [List.self]
    )

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Print every trust anchor by vendor: the kinds it anchors, each certificate's subject, SHA-256 and expiry, and where it came from.",
            discussion: """
                Each vendor's anchors anchor only its own kinds. With --data-dir, DATA_DIR/trust-anchors/ is read as \
                `kbs serve` reads it: files under trust-anchors/<vendor>/ count for that vendor, files directly in \
                trust-anchors/ by the organisation their certificates name (JSON as a CCA store, a bare public key for \
                cca and tpm); a file that cannot be assigned is an error. One line an anchor:
                  <origin>  <sha256 of the DER>  <not after>  <subject>
                origin is `shipped` or the file's path; a CCA store or public key shows `-` for expiry and its SHA-256 \
                is of the file (or the key's DER).
                """)

        @Option(name: .customLong("data-dir"), help: ArgumentHelp("The data directory `kbs serve` uses.", valueName: "dir"))
        var dataDirectory: String?

        func run() throws {
            var store = TrustStore.shipped
            if let dataDirectory {
                do { store = try store.adding(directory: dataDirectory + "/trust-anchors") } catch {
                    throw Refusal(code: error.reason.rawValue, message: error.message)
                }
            }
            var lines: [String] = []
            for vendor in TrustVendor.allCases {
                let anchors = store.entries.filter { $0.vendor == vendor }
                let kinds = vendor.kinds.map(\.rawValue).joined(separator: ", ")
                lines.append("\(vendor.rawValue) (\(kinds)): \(anchors.isEmpty ? "nothing trusted" : "")")
                for anchor in anchors { lines += Self.lines(anchor) }
            }
            Console.out(lines.map { $0.hasSuffix(": ") ? String($0.dropLast()) : $0 }.joined(separator: "\n"))
        }

        /// One line a certificate in the anchor's file, or one for the file when it holds none.
        static func lines(_ anchor: TrustStore.Anchor) -> [String] {
            let origin: String
            switch anchor.origin {
            case .shipped: origin = "shipped"
            case .file(let path): origin = path
            }
            return anchor.summaries.map { summary in
                let notAfter = summary.notAfter.map { ISO8601DateFormatter().string(from: $0) } ?? "-"
                return "  \(origin)  \(summary.sha256)  \(notAfter)  \(summary.subject ?? "(CCA store or public key)")"
            }
        }
    }
}
