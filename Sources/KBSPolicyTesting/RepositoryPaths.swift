import Foundation

/// Locates the repository's own folders (`Policies/`, `Fixtures/`) from this file's path, so tests run from any working directory.
package enum RepositoryPaths {
    /// The repository root.
    package static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// A path inside the repository.
    package static func path(_ relative: String) -> String { root + "/" + relative }
}
