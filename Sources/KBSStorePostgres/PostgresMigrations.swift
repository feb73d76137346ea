import KBSClaims
import KBSStore
import PostgresNIO

/// The PostgreSQL schema, as an append-only list of migrations (never edit a shipped one, add the next), recorded in
/// `kbs_migration`.
///
/// The tables mirror SQLite's (Migrations.swift in KBSStore), with PostgreSQL's types: BIGINT for integers and times,
/// BYTEA for blobs, and TEXT COLLATE "C" for every key and name that is ordered or compared by range, so listings and
/// paging run in byte order, as SQLite's do, whatever the database's default collation.
enum PostgresMigrations {
    /// Each migration's id and its statements (the extended protocol runs one statement per query).
    static let all: [(id: String, statements: [String])] = [
        (
            "v1-broker-ports",
            [
                """
                -- Single-use values (RCAR nonces, login challenges, replay-protected ids) until they expire, in
                -- milliseconds since 1970: the primary key makes each value usable once across every replica.
                CREATE TABLE single_use (
                    namespace TEXT COLLATE "C" NOT NULL,
                    value TEXT COLLATE "C" NOT NULL,
                    expires_at BIGINT NOT NULL,
                    PRIMARY KEY (namespace, value)
                )
                """,
                "CREATE INDEX single_use_by_expiry ON single_use (expires_at)",
                """
                -- The audit log, one hash chain for every replica (AuditChain documents the encoding). seq is the last
                -- seq + 1, taken under a lock on this table, never from a sequence, so a gap always means a removed row.
                CREATE TABLE audit (
                    seq BIGINT PRIMARY KEY,
                    at BIGINT NOT NULL,
                    kind TEXT NOT NULL,
                    actor TEXT NOT NULL,
                    action TEXT NOT NULL,
                    resource TEXT NOT NULL,
                    outcome TEXT NOT NULL,
                    details TEXT NOT NULL,
                    prev_hash BYTEA NOT NULL,
                    hash BYTEA NOT NULL
                )
                """,
                """
                -- Key records of the key hierarchy as JSON (wrapped material only); revision makes every save a
                -- compare-and-set.
                CREATE TABLE key_record (
                    id TEXT COLLATE "C" PRIMARY KEY,
                    revision BIGINT NOT NULL,
                    record BYTEA NOT NULL,
                    updated_at BIGINT NOT NULL
                )
                """,
                """
                -- Resources, each value sealed by the key hierarchy with its path as additional data.
                CREATE TABLE resource (
                    path TEXT COLLATE "C" PRIMARY KEY,
                    sealed BYTEA NOT NULL,
                    required_tier BIGINT NOT NULL,
                    labels TEXT NOT NULL,
                    created_at BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL
                )
                """,
                """
                CREATE TABLE reference_value (
                    kind TEXT COLLATE "C" NOT NULL,
                    name TEXT COLLATE "C" NOT NULL,
                    value TEXT COLLATE "C" NOT NULL,
                    added_at BIGINT NOT NULL,
                    PRIMARY KEY (kind, name, value)
                )
                """,
                """
                -- Capability tokens' metadata only: never the token or its signature. Times in seconds.
                CREATE TABLE capability_token (
                    id TEXT COLLATE "C" PRIMARY KEY,
                    subject TEXT NOT NULL,
                    capabilities TEXT NOT NULL,
                    key_version BIGINT NOT NULL,
                    issued_at BIGINT NOT NULL,
                    expires_at BIGINT NOT NULL,
                    revoked_at BIGINT
                )
                """,
                "CREATE INDEX capability_token_by_expiry ON capability_token (expires_at)",
                """
                -- API keys: the secret as HMAC-SHA256 under a pepper kept outside the database, and sealed by the key
                -- hierarchy (AAD `api-key:<id>`) for request signing.
                CREATE TABLE api_key (
                    key_id TEXT COLLATE "C" PRIMARY KEY,
                    secret_hash BYTEA NOT NULL,
                    subject TEXT NOT NULL,
                    created_at BIGINT NOT NULL,
                    expires_at BIGINT,
                    revoked_at BIGINT,
                    name TEXT NOT NULL DEFAULT '',
                    sealed_secret BYTEA
                )
                """,
                """
                -- The AWS KMS API's view of its keys (material, versions and state stay in key_record); milliseconds.
                CREATE TABLE kms_key (
                    id TEXT COLLATE "C" PRIMARY KEY,
                    creator TEXT NOT NULL,
                    description TEXT NOT NULL,
                    key_usage TEXT NOT NULL,
                    key_spec TEXT NOT NULL,
                    created_at BIGINT NOT NULL,
                    rotation_period_days BIGINT,
                    rotation_started_at BIGINT,
                    deletion_window_days BIGINT
                )
                """,
                """
                CREATE TABLE kms_alias (
                    name TEXT COLLATE "C" PRIMARY KEY,
                    key_id TEXT COLLATE "C" NOT NULL,
                    created_at BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL
                )
                """,
                "CREATE INDEX kms_alias_by_key ON kms_alias (key_id, name)",
                """
                -- Attestation-token signing keys, sealed (AAD `token-signing-key:<kid>`); seconds since 1970.
                CREATE TABLE token_signing_key (
                    key_id TEXT COLLATE "C" PRIMARY KEY,
                    sealed_private_key BYTEA NOT NULL,
                    created_at BIGINT NOT NULL
                )
                """,
                """
                -- The Vault API's state as opaque JSON documents; revision serves compare-and-set, expires_at (seconds)
                -- the pruning of expired tokens.
                CREATE TABLE vault_entry (
                    kind TEXT COLLATE "C" NOT NULL,
                    name TEXT COLLATE "C" NOT NULL,
                    document BYTEA NOT NULL,
                    revision BIGINT NOT NULL,
                    expires_at BIGINT,
                    PRIMARY KEY (kind, name)
                )
                """,
            ]
        ),
        (
            "v2-identity",
            [
                """
                -- Login sessions by the SHA-256 of their id, as SQLite's `session` table: a copy of the database hands
                -- out no live session. Times in seconds since 1970; every replica reads and revokes the same rows.
                CREATE TABLE login_session (
                    id_hash BYTEA PRIMARY KEY,
                    subject TEXT COLLATE "C" NOT NULL,
                    issuer TEXT NOT NULL,
                    method TEXT NOT NULL,
                    principal TEXT NOT NULL,
                    created_at BIGINT NOT NULL,
                    expires_at BIGINT NOT NULL,
                    revoked_at BIGINT,
                    last_used_at BIGINT
                )
                """,
                "CREATE INDEX login_session_by_subject ON login_session (subject, expires_at)",
            ]
        ),
        (
            "v3-rcar-sessions",
            [
                """
                -- RCAR sessions, shared so that auth, attest and resource may each reach a different replica. Times in
                -- milliseconds since 1970; seq orders a client's sessions oldest first, for making room among them;
                -- appraisal is the attested appraisal's JSON document (Appraisal+Storage.swift in KBSBroker), NULL until
                -- the session attests.
                CREATE TABLE rcar_session (
                    id TEXT COLLATE "C" PRIMARY KEY,
                    seq BIGINT GENERATED ALWAYS AS IDENTITY,
                    client TEXT COLLATE "C" NOT NULL,
                    nonce TEXT NOT NULL,
                    tee TEXT NOT NULL,
                    expires_at BIGINT NOT NULL,
                    attempted BOOLEAN NOT NULL DEFAULT FALSE,
                    appraisal BYTEA
                )
                """,
                "CREATE INDEX rcar_session_by_client ON rcar_session (client, seq)",
                "CREATE INDEX rcar_session_by_expiry ON rcar_session (expires_at)",
            ]
        ),
        (
            "v4-entities",
            [
                """
                -- The policy engine's entities: attributes as a JSON object's text; source is 'bundle' (the bundle's
                -- entities.json, re-imported on every load) or 'admin' (the admin API's, kept).
                CREATE TABLE entity (
                    type TEXT COLLATE "C" NOT NULL,
                    id TEXT COLLATE "C" NOT NULL,
                    attributes TEXT NOT NULL,
                    source TEXT NOT NULL,
                    updated_at BIGINT NOT NULL,
                    PRIMARY KEY (type, id)
                )
                """,
                """
                -- Roles held, each limited to a scope glob; '' stands for "no scope" so the primary key can hold it.
                CREATE TABLE role_binding (
                    entity_type TEXT COLLATE "C" NOT NULL,
                    entity_id TEXT COLLATE "C" NOT NULL,
                    role TEXT COLLATE "C" NOT NULL,
                    scope TEXT COLLATE "C" NOT NULL DEFAULT '',
                    source TEXT NOT NULL,
                    PRIMARY KEY (entity_type, entity_id, role, scope),
                    FOREIGN KEY (entity_type, entity_id) REFERENCES entity (type, id) ON DELETE CASCADE
                )
                """,
                """
                -- One counter, advanced in the transaction of every write that changes an entity or a binding (whose
                -- lock every such write takes first), so each replica's copy in memory learns by one read that it is
                -- stale.
                CREATE TABLE entity_generation (
                    singleton BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (singleton),
                    value BIGINT NOT NULL
                )
                """,
                "INSERT INTO entity_generation (singleton, value) VALUES (TRUE, 0)",
            ]
        ),
        (
            "v5-shared-secrets",
            [
                """
                -- What every replica must hold alike and a data directory holds for one server: the sealed master key
                -- (sealed under the passphrase, as master.sealed) and keys sealed under the master key (the API-key
                -- pepper, the audit redaction key). The first replica to start writes a row; the others read it.
                CREATE TABLE shared_secret (
                    name TEXT COLLATE "C" PRIMARY KEY,
                    value BYTEA NOT NULL,
                    created_at BIGINT NOT NULL
                )
                """
            ]
        ),
        ("v6-release-revisions", releaseRevisionStatements),
    ]

    /// Change counters of what a release reads, advanced by statement triggers in the transaction of every write from
    /// any replica, so each replica's in-memory copies learn by one read whether they are stale (``ReleaseRevisions``).
    private static var releaseRevisionStatements: [String] {
        var statements = [
            """
            CREATE TABLE release_revision (
                singleton BOOLEAN PRIMARY KEY CHECK (singleton),
                resources BIGINT NOT NULL,
                reference_values BIGINT NOT NULL,
                key_records BIGINT NOT NULL
            )
            """,
            "INSERT INTO release_revision (singleton, resources, reference_values, key_records) VALUES (TRUE, 0, 0, 0)",
        ]
        for (table, column) in [("resource", "resources"), ("reference_value", "reference_values"), ("key_record", "key_records")] {
            statements.append(
                """
                CREATE FUNCTION \(table)_revision() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN UPDATE release_revision SET \(column) = \(column) + 1; RETURN NULL; END $$
                """)
            statements.append(
                """
                CREATE TRIGGER \(table)_revision AFTER INSERT OR UPDATE OR DELETE ON \(table)
                FOR EACH STATEMENT EXECUTE FUNCTION \(table)_revision()
                """)
        }
        return statements
    }

    /// Applies the pending migrations in one transaction, under a transaction-scoped advisory lock, so replicas
    /// starting together migrate once; refuses a database that records a migration this build does not know (a newer
    /// server's schema, whose rules this one would not keep).
    static func migrate(_ store: PostgresStore) async throws(StoreError) {
        let known = Set(all.map(\.id))
        let schema = store.schema
        let unknown: [String] = try await store.transaction { connection in
            // One lock for every KBS schema in the database: migrations are rare and short.
            try await connection.query("SELECT pg_advisory_xact_lock(\(lockKey))", logger: store.logger)
            if let schema {
                // isPlainIdentifier checked the name: quoting it is all it needs.
                try await connection.query(PostgresQuery(unsafeSQL: "CREATE SCHEMA IF NOT EXISTS \"\(schema)\""), logger: store.logger)
            }
            try await connection.query(
                "CREATE TABLE IF NOT EXISTS kbs_migration (id TEXT COLLATE \"C\" PRIMARY KEY, applied_at BIGINT NOT NULL)",
                logger: store.logger)
            var applied: Set<String> = []
            for try await id in try await connection.query("SELECT id FROM kbs_migration", logger: store.logger).decode(String.self) {
                applied.insert(id)
            }
            let unknown = applied.subtracting(known)
            guard unknown.isEmpty else { return unknown.sorted() }
            for migration in all where !applied.contains(migration.id) {
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: store.logger)
                }
                try await connection.query(
                    "INSERT INTO kbs_migration (id, applied_at) VALUES (\(migration.id), \(PostgresStore.now))", logger: store.logger)
            }
            return []
        }
        guard unknown.isEmpty else {
            throw StoreError(
                .database, "the database holds migrations this build does not know (\(unknown.joined(separator: ", "))): a newer server's schema")
        }
    }

    /// The advisory lock's key: "kbsmigr" in ASCII, so no other application's lock is likely to share it.
    private static let lockKey: Int64 = 0x6B62_736D_6967_72
}
