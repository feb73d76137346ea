package import KBSPolicy

/// One AuthZEN decision as the decision log keeps it: when, where from, on what, and what the policy said. Only the
/// broker makes one (its memberwise initializer), recorders read it.
package struct AccessDecision: Sendable {
    /// Nanoseconds since 1970.
    package var time: Int64
    /// `evaluation` or `evaluations`.
    package var endpoint: String
    /// The request's `X-Request-ID`, when it had one.
    package var requestID: String?
    /// The entry's position in a batch (`evaluations`), nil for a single evaluation.
    package var index: Int?
    package var subjectType: String
    package var subjectID: String
    package var action: String
    package var resourceType: String
    package var resourceID: String
    package var decision: Decision
    /// How long the policy took, in nanoseconds.
    package var elapsed: UInt64
}

/// Where AuthZEN decisions are recorded before they are given (the server's decision log).
package protocol DecisionRecorder: Sendable {
    /// Records `decision`; false when it cannot be kept, and the decision must then not be given.
    func record(_ decision: AccessDecision) -> Bool
}
