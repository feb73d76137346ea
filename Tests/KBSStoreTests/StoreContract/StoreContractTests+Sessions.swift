import Foundation
import KBSBroker
import KBSClaims
import KBSEvidence
import KBSKeys
import KBSPolicy
import Testing

/// RCAR sessions in the store: a client may `auth` on one replica, `attest` on another and fetch a `resource` on
/// either, with the in-memory store's limits and its one attestation attempt holding across replicas.
extension StoreContractTests {
    /// A P-256 public key (the curve's generator), as a TEE would send it.
    static let teeJWK =
        #"{"alg":"ECDH-ES+A256KW","crv":"P-256","kty":"EC","# + #""x":"axfR8uEsQkf4vOblY6RA8ncDfYEt6zOg9KE5RdiYwpY","#
        + #""y":"T-NC4v4af5uO5-tKfA-eFivOM1drMV7Oy7ZAaDe_UfU"}"#

    /// An appraisal in the stored document's documented form, with a value of every type.
    static func storedAppraisal(tier: Int = 2) throws -> Appraisal {
        let document = """
            {"attested_at":800000000.125,"claims":[{"name":"measurement","value":{"hex":"00ff"}},\
            {"name":"debug","value":{"bool":false}},{"name":"svn","value":{"int":-8}},\
            {"name":"at","value":{"time":800000000.5}},{"name":"tags","value":{"list":[{"string":"a"}]}},\
            {"name":"platform","value":{"record":[{"name":"smt","value":{"bool":true}}]}}],"devices":[],"id":"appraisal-1",\
            "identity":{"capability":{"capabilities":["release:a/b/c"],"token_id":"tok-1"},"claims":[],"expires":1900000000,\
            "issuer":"kbs-capability","method":"capability","subject":"agent:builder"},\
            "kind":"snp","tee_pubkey":\(JSONString.quote(teeJWK)),"tier":\(tier),"version":1}
            """
        return try Appraisal(storedJSON: Array(document.utf8))
    }

    static func session(_ client: String, at time: Date, lifetime: TimeInterval = 300) -> RCARSession {
        RCARSession(
            id: UUID().uuidString.lowercased(), nonce: Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString(),
            tee: "snp", client: client, expires: time + lifetime)
    }

    @Test("a session opened on one replica is read whole on the other, until it expires", arguments: StoreBackend.sharedSessions)
    func sessionsAcrossReplicas(backend: StoreBackend) async throws {
        try await StoreUnderTest.with(backend) { store in
            let opened = Self.session("192.0.2.1", at: Self.now)
            try await store.first.ports.sessions.insert(opened, now: Self.now)
            let read = try #require(try await store.replica(1).ports.sessions.session(opened.id, now: Self.now + 1))
            #expect(read.id == opened.id && read.nonce == opened.nonce && read.tee == "snp" && read.client == "192.0.2.1")
            #expect(read.expires == opened.expires && read.appraisal == nil && !read.attempted)
            #expect(try await store.replica(1).ports.sessions.session("unknown", now: Self.now) == nil)
            #expect(try await store.replica(1).ports.sessions.session(opened.id, now: opened.expires) == nil, "expired")
            // One inserted with its appraisal keeps it.
            var attested = Self.session("192.0.2.1", at: Self.now)
            attested.appraisal = try Self.storedAppraisal()
            attested.attempted = true
            try await store.replica(1).ports.sessions.insert(attested, now: Self.now)
            let back = try #require(try await store.first.ports.sessions.session(attested.id, now: Self.now))
            #expect(back.attempted)
            #expect(try back.appraisal?.storedJSON() == attested.appraisal?.storedJSON())
        }
    }

    @Test("of sixteen concurrent attestation attempts on two replicas exactly one begins", arguments: StoreBackend.sharedSessions)
    func oneAttemptAcrossReplicas(backend: StoreBackend) async throws {
        try await StoreUnderTest.with(backend) { store in
            let opened = Self.session("192.0.2.1", at: Self.now)
            try await store.first.ports.sessions.insert(opened, now: Self.now)
            let winners = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<16 {
                    let sessions = store.replica(index).ports.sessions
                    group.addTask { try await sessions.beginAttempt(opened.id) }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(winners == 1)
            #expect(try await store.first.ports.sessions.session(opened.id, now: Self.now)?.attempted == true)
            #expect(try await store.first.ports.sessions.beginAttempt(opened.id) == false)
            #expect(try await store.first.ports.sessions.beginAttempt("unknown") == false)
        }
    }

    @Test("an appraisal attached on one replica is read on the other as it was", arguments: StoreBackend.sharedSessions)
    func attachAcrossReplicas(backend: StoreBackend) async throws {
        try await StoreUnderTest.with(backend) { store in
            let opened = Self.session("192.0.2.1", at: Self.now)
            try await store.first.ports.sessions.insert(opened, now: Self.now)
            let appraisal = try Self.storedAppraisal()
            try await store.replica(1).ports.sessions.attach(appraisal, to: opened.id)
            let read = try #require(try await store.first.ports.sessions.session(opened.id, now: Self.now)?.appraisal)
            #expect(try read.storedJSON() == appraisal.storedJSON())
            #expect(read.claims == appraisal.claims && read.tier == 2 && read.attestedAt == appraisal.attestedAt)
            #expect(read.identity?.capability?.tokenID == "tok-1" && read.identity?.capability?.capabilities == ["release:a/b/c"])
            #expect(read.teePublicKeyJSON == Array(Self.teeJWK.utf8))
            // Attaching to a session that is gone keeps nothing and refuses nothing.
            try await store.replica(1).ports.sessions.attach(appraisal, to: "unknown")
            #expect(try await store.first.ports.sessions.session("unknown", now: Self.now) == nil)
        }
    }

    @Test("sessions are bounded per client and overall across replicas, and expired ones make room", arguments: StoreBackend.sharedSessions)
    func sessionLimitsAcrossReplicas(backend: StoreBackend) async throws {
        try await StoreUnderTest.with(backend) { store in
            let replicas = (0..<2).map { store.replica($0).rcarSessions(4, 2) }
            func open(_ client: String, on replica: Int, at time: Date) async throws -> RCARSession {
                let session = Self.session(client, at: time)
                try await replicas[replica % 2].insert(session, now: time)
                return session
            }
            func live(_ session: RCARSession, at time: Date) async throws -> Bool {
                try await replicas[1].session(session.id, now: time) != nil
            }
            // A flood from one client, on both replicas, replaces only its own oldest sessions.
            let victim = try await open("192.0.2.2", on: 0, at: Self.now)
            let flooderFirst = try await open("192.0.2.1", on: 1, at: Self.now)
            var flood: [RCARSession] = []
            for index in 0..<20 { flood.append(try await open("192.0.2.1", on: index, at: Self.now + 1)) }
            #expect(try await live(victim, at: Self.now + 2), "another client's session survives a flood")
            #expect(try await !live(flooderFirst, at: Self.now + 2), "the flooding client lost its own oldest")
            for session in flood.suffix(2) { #expect(try await live(session, at: Self.now + 2)) }
            for session in flood.dropLast(2) { #expect(try await !live(session, at: Self.now + 2)) }
            // When every slot holds a live session, a new client is refused rather than given someone else's slot.
            let third = try await open("192.0.2.3", on: 0, at: Self.now + 1)
            await #expect(throws: BrokerError.sessionsFull) { _ = try await open("192.0.2.4", on: 1, at: Self.now + 1) }
            #expect(try await live(victim, at: Self.now + 2))
            #expect(try await live(third, at: Self.now + 2))
            // Expired sessions make room, and are gone.
            let late = try await open("192.0.2.4", on: 1, at: Self.now + 400)
            #expect(try await live(late, at: Self.now + 401))
            #expect(try await !live(victim, at: Self.now + 400))
        }
    }

    @Test("one client's concurrent sessions on two replicas stay within its limit", arguments: StoreBackend.sharedSessions)
    func perClientLimitUnderConcurrency(backend: StoreBackend) async throws {
        try await StoreUnderTest.with(backend) { store in
            let replicas = (0..<2).map { store.replica($0).rcarSessions(100, 3) }
            let opened = try await withThrowingTaskGroup(of: RCARSession.self) { group in
                for index in 0..<16 {
                    let sessions = replicas[index % 2]
                    group.addTask {
                        let session = Self.session("192.0.2.9", at: Self.now)
                        try await sessions.insert(session, now: Self.now)
                        return session
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            var live = 0
            for session in opened where try await replicas[0].session(session.id, now: Self.now) != nil { live += 1 }
            #expect(live == 3)
        }
    }

    @Test("auth on one broker, attest on another, resource on the first: one RCAR flow across replicas", arguments: StoreBackend.sharedSessions)
    func rcarFlowAcrossBrokers(backend: StoreBackend) async throws {
        try await StoreUnderTest.with(backend) { store in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kbs-rcar-\(UUID())").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let ca = try SimulatorCA.openOrCreate(directory: directory + "/simulator-ca")
            let (master, _) = try LocalMasterKeyProvider.create(at: directory + "/master.sealed", threshold: 2, shareCount: 2)
            let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().path
            let registry = BrokerSchemas.registry
            let release = try PolicySet.load(directory: root + "/Policies/default", registry: registry).get()
            let tiers = try PolicySet.load(directory: root + "/Policies/default/tiers", registry: registry).get()
            // Two replicas: each its own pool, key hierarchy and broker, one database and one master key.
            let brokers = store.replicas.map { replica in
                Broker(
                    configuration: BrokerConfiguration(teeMode: .simulator, simulatorCA: ca), ports: replica.ports,
                    keys: KeySource(KeyHierarchy(master: master, store: replica.keyRecords)), releasePolicy: { release },
                    tierRules: TierRules(policy: tiers))
            }
            let measurement = (0..<48).map { _ in UInt8.random(in: 0...255) }
            let secret = Array("across replicas \(UUID())".utf8)
            _ = try await brokers[0].vault.putResource(
                path: "rcar/key/two", value: SecretBytes(copying: secret), requiredTier: 2, labels: [:], actor: "test")
            _ = try await brokers[0].vault.putResource(
                path: "rcar/key/three", value: SecretBytes(copying: secret), requiredTier: 3, labels: [:], actor: "test")
            _ = try await brokers[1].vault.addReferenceValues(kind: "snp", name: "measurement", values: [Hex.encode(measurement)], actor: "test")

            let challenge = try await brokers[0].auth(AuthRequest(version: "0.4.0", tee: "snp", client: "192.0.2.1"))
            let jwk = try JSONNode.parse(Array(Self.teeJWK.utf8))
            let digest = try Broker.runtimeDigest(teePublicKey: jwk, nonce: challenge.nonce, additionalEvidence: "")
            let evidence = try TEESimulator.simulate(kind: .snp, reportData: digest, measurement: measurement, now: Date(), ca: ca)
            let request = AttestRequest(nonce: challenge.nonce, teePublicKey: jwk, primaryEvidence: evidence.rcarEvidence)
            let token = try await brokers[1].attest(sessionID: challenge.sessionID, request: request)
            #expect(!token.isEmpty)
            // The nonce is spent everywhere: a second attempt on the first replica is refused.
            let again = await Self.code { _ = try await brokers[0].attest(sessionID: challenge.sessionID, request: request) }
            #expect(again == "nonce_used")

            let jwe = try await brokers[0].release(path: "rcar/key/two", sessionID: challenge.sessionID, bearer: nil)
            #expect(jwe.hasPrefix("{") && jwe.contains("\"ciphertext\""))
            let denied = await Self.code { _ = try await brokers[0].release(path: "rcar/key/three", sessionID: challenge.sessionID, bearer: nil) }
            #expect(denied == "policy_deny", "SNP alone reaches tier 2, not 3")
            // The attestation token the second replica signed serves the first as well.
            _ = try await brokers[0].release(path: "rcar/key/two", sessionID: nil, bearer: token)
            let unknown = await Self.code { _ = try await brokers[1].release(path: "rcar/key/two", sessionID: "unknown", bearer: nil) }
            #expect(unknown == "no_session")
        }
    }

    /// The code of the broker's refusal, nil when `body` succeeds.
    static func code(_ body: () async throws -> Void) async -> String? {
        do {
            try await body()
            return nil
        } catch { return (error as? BrokerError)?.code ?? "\(error)" }
    }
}
