/// How many times each stored input of a release has changed: resources, reference values, key records.
///
/// A copy of those inputs held in memory is current exactly while these numbers are unchanged. The store advances them
/// in the transaction of every write (by database triggers, so a write from another process or replica counts too),
/// which lets a release read three counters instead of four rows and still see every change on its next request.
package struct ReleaseRevisions: Sendable, Equatable {
    package var resources: Int64
    package var referenceValues: Int64
    package var keyRecords: Int64

    /// Creates the counters.
    package init(resources: Int64, referenceValues: Int64, keyRecords: Int64) {
        self.resources = resources
        self.referenceValues = referenceValues
        self.keyRecords = keyRecords
    }
}

/// Where ``ReleaseRevisions`` are read: one small read per release. A store without it leaves
/// ``BrokerPorts/revisions`` nil and every release reads its inputs afresh.
package protocol ReleaseRevisionSource: Sendable {
    /// The counters as of now.
    func releaseRevisions() async throws -> ReleaseRevisions
}
