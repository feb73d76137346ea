import ArgumentParser
import Foundation
import KBSEvidence

/// `kbs tee …`: the TEE simulator, so the key-release flow runs on machines without a TEE.
struct TEECommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tee",
        abstract: "Simulate TEE evidence for development and tests.",
        subcommands: []
    )
}
