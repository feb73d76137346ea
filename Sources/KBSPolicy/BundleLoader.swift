import Foundation
public import KBSClaims

extension PolicySet {
    /// The extension of rule files.
    public static let fileExtension = "policy"

    /// Loads, checks and compiles the bundle in `directory`: its `*.policy` files, the data files they
    /// declare (`name.json`), and `entities.json` if present. Returns every diagnostic when it fails.
    public static func load(
        directory: String, registry: ClaimSchemaRegistry = .standard
    ) -> Result<PolicySet, BundleError> {
        let files: [String]
        do {
            files = try policyFiles(in: directory)
        } catch {
            return .failure(
                BundleError([Diagnostic(.dataFileMissing, "cannot read bundle: \(error.localizedDescription)", at: nil, path: directory)]))
        }
        guard !files.isEmpty else {
            return .failure(BundleError([Diagnostic(.inputMissing, "no `.\(fileExtension)` files in the bundle", at: nil, path: directory)]))
        }
        var sources: [SourceFile] = []
        var diagnostics: [Diagnostic] = []
        var hashInput: [UInt8] = []
        for path in files {
            guard let text = readText(path) else {
                diagnostics.append(Diagnostic(.invalidCharacter, "cannot read the file as UTF-8 text", at: nil, path: path))
                continue
            }
            sources.append(SourceFile(path: path, text: text))
            hashInput += Array(relative(path, to: directory).utf8) + [0] + Array(text.utf8) + [0]
        }
        return compile(sources: sources, directory: directory, registry: registry, extraDiagnostics: diagnostics, hashInput: hashInput)
    }

    /// Compiles already-read policy sources; data files are read from `directory`.
    static func compile(
        sources: [SourceFile], directory: String, registry: ClaimSchemaRegistry, extraDiagnostics: [Diagnostic], hashInput: [UInt8]
    ) -> Result<PolicySet, BundleError> {
        var diagnostics = extraDiagnostics
        var hashInput = hashInput
        var parsed: [Syntax.File] = []
        for source in sources {
            let (file, fileDiagnostics) = Parser.parse(source)
            parsed.append(file)
            diagnostics += fileDiagnostics
        }
        guard !diagnostics.hasErrors else { return .failure(BundleError(diagnostics)) }

        // Data files are those the declarations name, so stray JSON (tests, fixtures) is never loaded.
        var dataFiles: [DataFile] = []
        for file in parsed {
            for declaration in file.declarations {
                guard case .data(let name, _) = declaration.kind else { continue }
                let path = directory + "/" + name.text + ".json"
                guard let text = readText(path) else { continue }
                dataFiles.append(DataFile(name: name.text, source: SourceFile(path: path, text: text)))
                hashInput += Array((name.text + ".json").utf8) + [0] + Array(text.utf8) + [0]
            }
        }
        var checker = Checker(registry: registry)
        let checked = checker.check(files: parsed, dataFiles: dataFiles)
        diagnostics += checker.diagnostics
        guard let checked, !diagnostics.hasErrors else { return .failure(BundleError(diagnostics)) }

        var entities = InMemoryEntityProvider()
        let entitiesPath = directory + "/entities.json"
        if let text = readText(entitiesPath) {
            hashInput += Array("entities.json".utf8) + [0] + Array(text.utf8) + [0]
            switch EntityFile.parse(SourceFile(path: entitiesPath, text: text), types: checked.entityTypes, checker: checker) {
            case .success(let provider): entities = provider
            case .failure(let problems): return .failure(BundleError(diagnostics + problems.diagnostics))
            }
        }
        let rules = checked.rules.enumerated().map { index, rule in
            CompiledRule(
                name: rule.name, effect: rule.effect, position: rule.span.position,
                body: Compiler.compile(block: rule.body), slotCount: rule.slotCount,
                obligations: rule.obligations.map { ($0.name, Compiler.eval($0.value)) }, index: index,
                guardKey: RuleIndex.Guard(rule.body))
        }
        return .success(
            PolicySet(
                directory: directory, hash: "sha256:" + SHA256Digest.hex(hashInput), rules: rules, inputPlan: checked.inputPlan,
                entities: entities, entityTypes: checked.entityTypes,
                entityPlans: checked.entityTypes.mapValues { checker.plan(for: $0, everything: true) }, warnings: diagnostics))
    }

    /// The `*.policy` files of a bundle, sorted, skipping the `tests` folder.
    static func policyFiles(in directory: String) throws -> [String] {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: directory])
        }
        return try manager.contentsOfDirectory(atPath: directory)
            .filter { $0.hasSuffix("." + fileExtension) }
            .sorted()
            .map { directory + "/" + $0 }
    }

    static func readText(_ path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return String(data: data, encoding: .utf8)
    }

    static func relative(_ path: String, to directory: String) -> String {
        path.hasPrefix(directory + "/") ? String(path.dropFirst(directory.count + 1)) : path
    }
}

/// Why a bundle did not compile: every diagnostic, sorted.
public struct BundleError: Error, Sendable, CustomStringConvertible {
    /// Every problem found, in file and position order, duplicates removed.
    public var diagnostics: [Diagnostic]

    /// The diagnostics rendered with source lines and carets.
    public var description: String { DiagnosticRenderer.render(diagnostics) }

    init(_ diagnostics: [Diagnostic]) { self.diagnostics = diagnostics.sortedForDisplay() }
}

/// The `entities.json` of a bundle: `[{"type", "id", "attributes", "roles": [{"role", "scope"}]}]`.
enum EntityFile {
    static func parse(_ source: SourceFile, types: [String: RecordType], checker: Checker) -> Result<InMemoryEntityProvider, BundleError> {
        func problem(_ message: String, _ offset: Int) -> Result<InMemoryEntityProvider, BundleError> {
            .failure(BundleError([Diagnostic(.dataFileInvalid, message, at: SourceSpan(file: source, start: offset, end: offset + 1))]))
        }
        let root: JSONNode
        do {
            root = try JSONNode.parse(source.bytes)
        } catch {
            return problem(error.message, error.offset)
        }
        guard case .array(let items) = root.value else { return problem("expected an array of entities", root.range.lowerBound) }
        var entities: [InMemoryEntityProvider.Entity] = []
        for item in items {
            guard case .object(let members) = item.value else { return problem("expected an entity object", item.range.lowerBound) }
            for member in members where !["type", "id", "attributes", "roles"].contains(member.key) {
                return problem("unknown member `\(member.key)`; an entity has type, id, attributes and roles", member.value.range.lowerBound)
            }
            guard let type = item["type"]?.stringValue, let id = item["id"]?.stringValue else {
                return problem("an entity needs string `type` and `id`", item.range.lowerBound)
            }
            guard let record = types[type] else {
                return problem(
                    "unknown entity type `\(type)`\(Suggestion.closest(to: type, in: types.keys).map { "; did you mean `\($0)`?" } ?? "")",
                    item.range.lowerBound)
            }
            var attributes: [UInt8] = Array("{}".utf8)
            if let node = item["attributes"] {
                attributes = Array(source.bytes[node.range])
                do {
                    _ = try TypedDecoder.decode(attributes, as: .record(checker.plan(for: record, everything: true)))
                } catch {
                    return problem("\(type) `\(id)`: at `\(error.pathText)`: \(error.message)", node.range.lowerBound + error.offset)
                }
            } else if record.fields.contains(where: { !$0.isOptional }) {
                return problem("\(type) `\(id)` needs `attributes`", item.range.lowerBound)
            }
            var roles: [RoleBinding] = []
            if let node = item["roles"] {
                guard case .array(let bindings) = node.value else { return problem("`roles` must be an array", node.range.lowerBound) }
                for binding in bindings {
                    if let role = binding.stringValue {
                        roles.append(RoleBinding(role: role))
                    } else if let role = binding["role"]?.stringValue {
                        roles.append(RoleBinding(role: role, scope: binding["scope"]?.stringValue))
                    } else {
                        return problem("a role is a string or {\"role\", \"scope\"}", binding.range.lowerBound)
                    }
                }
            }
            entities.append(.init(type: type, id: id, attributesJSON: attributes, roles: roles))
        }
        return .success(InMemoryEntityProvider(entities))
    }
}
