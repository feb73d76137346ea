import Foundation

/// Locates the repository's own folders (`Policies/`, `Fixtures/`) from this file's path, so tests run from any working directory.
public enum RepositoryPaths {
    /// The repository root.
    public static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// A path inside the repository.
    public static func path(_ relative: String) -> String { root + "/" + relative }
}
