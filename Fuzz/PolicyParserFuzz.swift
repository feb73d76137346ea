// libFuzzer entry for the policy lexer, parser, diagnostic renderer and formatter.
//
// Not a SwiftPM target: Tools/fuzz compiles this file together with the KBSPolicy sources into one module,
// so it can reach the internal `Parser`. Invariants checked on every input:
//  - nothing traps while lexing, parsing, rendering diagnostics or formatting;
//  - formatted text parses without errors, and formatting it again changes nothing.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPolicy(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let source = SourceFile(path: "fuzz.policy", text: text)
    let (_, diagnostics) = Parser.parse(source)
    _ = DiagnosticRenderer.render(diagnostics)

    guard case .success(let formatted) = PolicyFormatter.format(source) else {
        precondition(diagnostics.hasErrors, "format failed although parse reported no errors")
        return 0
    }
    precondition(!diagnostics.hasErrors, "format succeeded although parse reported errors")

    let reparsedSource = SourceFile(path: "formatted.policy", text: formatted)
    let (_, reparsedDiagnostics) = Parser.parse(reparsedSource)
    if reparsedDiagnostics.hasErrors {
        preconditionFailure("formatted output does not parse:\n\(DiagnosticRenderer.render(reparsedDiagnostics))\n--- formatted ---\n\(formatted)")
    }
    switch PolicyFormatter.format(reparsedSource) {
    case .success(let again):
        precondition(again == formatted, "formatter is not idempotent:\n--- first ---\n\(formatted)\n--- second ---\n\(again)")
    case .failure(let error):
        preconditionFailure("formatting formatted output failed:\n\(error)")
    }
    return 0
}
