import GRDB

/// The schema, as an append-only list of migrations: never edit a shipped one, add the next.
enum Migrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-entities-and-roles") { db in
            try db.execute(
                sql: """
                    CREATE TABLE entity (
                        type TEXT NOT NULL,
                        id TEXT NOT NULL,
                        attributes TEXT NOT NULL,
                        source TEXT NOT NULL,
                        updated_at INTEGER NOT NULL,
                        PRIMARY KEY (type, id)
                    ) WITHOUT ROWID;
                    CREATE TABLE role_binding (
                        entity_type TEXT NOT NULL,
                        entity_id TEXT NOT NULL,
                        role TEXT NOT NULL,
                        -- '' stands for "no scope" so that the primary key can hold it.
                        scope TEXT NOT NULL DEFAULT '',
                        source TEXT NOT NULL,
                        PRIMARY KEY (entity_type, entity_id, role, scope),
                        FOREIGN KEY (entity_type, entity_id) REFERENCES entity (type, id) ON DELETE CASCADE
                    ) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("v2-sessions-api-keys-single-use") { db in
            try db.execute(
                sql: """
                    -- Sessions by the SHA-256 of their id: a copy of the database hands out no live session.
                    CREATE TABLE session (
                        id_hash BLOB PRIMARY KEY,
                        subject TEXT NOT NULL,
                        issuer TEXT NOT NULL,
                        method TEXT NOT NULL,
                        principal TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        expires_at INTEGER NOT NULL,
                        revoked_at INTEGER
                    ) WITHOUT ROWID;
                    CREATE INDEX session_by_subject ON session (subject, expires_at);
                    -- API keys by id; the secret only as HMAC-SHA256 under a pepper kept outside the database.
                    CREATE TABLE api_key (
                        key_id TEXT PRIMARY KEY,
                        secret_hash BLOB NOT NULL,
                        subject TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        expires_at INTEGER,
                        revoked_at INTEGER
                    ) WITHOUT ROWID;
                    -- Single-use values (SIWE nonces, SAML assertion ids, RFC 9421 nonces) until they expire.
                    CREATE TABLE single_use (
                        namespace TEXT NOT NULL,
                        value TEXT NOT NULL,
                        expires_at INTEGER NOT NULL,
                        PRIMARY KEY (namespace, value)
                    ) WITHOUT ROWID;
                    CREATE INDEX single_use_by_expiry ON single_use (expires_at);
                    """)
        }
        migrator.registerMigration("v3-audit-log") { db in
            try db.execute(
                sql: """
                    -- The audit log: append-only, each row's hash covers its fields and the previous row's hash
                    -- (AuditChain documents the encoding). seq is assigned by appendAudit as the last seq + 1,
                    -- never by AUTOINCREMENT, so a gap always means a removed row.
                    CREATE TABLE audit (
                        seq INTEGER PRIMARY KEY,
                        at INTEGER NOT NULL,
                        kind TEXT NOT NULL,
                        actor TEXT NOT NULL,
                        action TEXT NOT NULL,
                        resource TEXT NOT NULL,
                        outcome TEXT NOT NULL,
                        details TEXT NOT NULL,
                        prev_hash BLOB NOT NULL,
                        hash BLOB NOT NULL
                    );
                    """)
        }
        migrator.registerMigration("v4-key-records") { db in
            try db.execute(
                sql: """
                    -- Key records of the key hierarchy (KBSKeys), stored whole as JSON: only wrapped key material is
                    -- ever in them. revision makes every save a compare-and-set, so two writers cannot both win.
                    CREATE TABLE key_record (
                        id TEXT PRIMARY KEY NOT NULL,
                        revision INTEGER NOT NULL,
                        record BLOB NOT NULL,
                        updated_at INTEGER NOT NULL
                    );
                    """)
        }
        migrator.registerMigration("v5-broker") { db in
            try db.execute(
                sql: """
                    -- Resources the broker releases (RCAR repo/type/tag), each value sealed by the key hierarchy under
                    -- a data key with the path as additional data: the database never holds a plaintext secret.
                    CREATE TABLE resource (
                        path TEXT PRIMARY KEY NOT NULL,
                        sealed BLOB NOT NULL,
                        required_tier INTEGER NOT NULL,
                        labels TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    -- Reference values (allowed measurements and the like) added at run time, beside the bundle's data.
                    CREATE TABLE reference_value (
                        kind TEXT NOT NULL,
                        name TEXT NOT NULL,
                        value TEXT NOT NULL,
                        added_at INTEGER NOT NULL,
                        PRIMARY KEY (kind, name, value)
                    ) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("v6-capability-tokens") { db in
            try db.execute(
                sql: """
                    -- Capability tokens issued to agents: metadata only. The token text and its signature chain are never
                    -- stored, so the database cannot hand out a live token. key_version names the version of the root
                    -- data key that signed it (a rotation leaves issued tokens verifiable until they expire). Times in
                    -- seconds since 1970, as in the token.
                    CREATE TABLE capability_token (
                        id TEXT PRIMARY KEY NOT NULL,
                        subject TEXT NOT NULL,
                        capabilities TEXT NOT NULL,
                        key_version INTEGER NOT NULL,
                        issued_at INTEGER NOT NULL,
                        expires_at INTEGER NOT NULL,
                        revoked_at INTEGER
                    ) WITHOUT ROWID;
                    CREATE INDEX capability_token_by_expiry ON capability_token (expires_at);
                    """)
        }
        migrator.registerMigration("v7-logins-and-api-key-secrets") { db in
            try db.execute(
                sql: """
                    -- Idle expiry of login sessions: when each was last presented (seconds since 1970).
                    ALTER TABLE session ADD COLUMN last_used_at INTEGER;
                    -- An API key's name (what it is for), and its secret sealed by the key hierarchy (AAD `api-key:<id>`)
                    -- for RFC 9421 request signing and SigV4, which need the secret itself; bearer use checks secret_hash.
                    ALTER TABLE api_key ADD COLUMN name TEXT NOT NULL DEFAULT '';
                    ALTER TABLE api_key ADD COLUMN sealed_secret BLOB;
                    """)
        }
        migrator.registerMigration("v8-kms-keys-and-aliases") { db in
            try db.execute(
                sql: """
                    -- The AWS KMS API's view of its keys: what the key hierarchy's record (`kms/<id>`) does not hold.
                    -- Material, versions, state, required tier and tags stay in key_record. Times in milliseconds.
                    CREATE TABLE kms_key (
                        id TEXT PRIMARY KEY NOT NULL,
                        creator TEXT NOT NULL,
                        description TEXT NOT NULL,
                        key_usage TEXT NOT NULL,
                        key_spec TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        rotation_period_days INTEGER,
                        rotation_started_at INTEGER,
                        deletion_window_days INTEGER
                    ) WITHOUT ROWID;
                    -- Aliases (`alias/…`), each naming one key.
                    CREATE TABLE kms_alias (
                        name TEXT PRIMARY KEY NOT NULL,
                        key_id TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    CREATE INDEX kms_alias_by_key ON kms_alias (key_id, name);
                    """)
        }
        migrator.registerMigration("v9-token-signing-keys") { db in
            try db.execute(
                sql: """
                    -- Attestation-token signing keys: the RFC 7638 thumbprint as kid, the P-256 private key sealed by the
                    -- key hierarchy (AAD `token-signing-key:<kid>`), when it was made (seconds since 1970).
                    CREATE TABLE token_signing_key (
                        key_id TEXT PRIMARY KEY NOT NULL,
                        sealed_private_key BLOB NOT NULL,
                        created_at INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("v10-vault-entries") { db in
            try db.execute(
                sql: """
                    -- The Vault API's state: tokens (named by the SHA-256 of the token), Transit key settings, KV v2
                    -- secrets (each version's data sealed by the key hierarchy) and the KV engine's configuration. The
                    -- broker owns each document's JSON shape; `revision` serves compare-and-set, `expires_at` (seconds
                    -- since 1970) the pruning of expired tokens.
                    CREATE TABLE vault_entry (
                        kind TEXT NOT NULL,
                        name TEXT NOT NULL,
                        document BLOB NOT NULL,
                        revision INTEGER NOT NULL,
                        expires_at INTEGER,
                        PRIMARY KEY (kind, name)
                    ) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("v11-entity-generation") { db in
            try db.execute(
                sql: """
                    -- One counter advanced in the transaction of every write that changes an entity or a role
                    -- binding, so a copy of them held in memory learns by one read whether it is stale.
                    CREATE TABLE entity_generation (
                        singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
                        value INTEGER NOT NULL
                    );
                    INSERT INTO entity_generation (singleton, value) VALUES (1, 0);
                    """)
        }
        migrator.registerMigration("v12-release-revisions") { db in
            var sql = """
                -- Change counters of what a release reads (resources, reference values, key records), advanced by
                -- triggers in the transaction of every write from any connection or process, so a copy held in
                -- memory learns by one read whether it is stale.
                CREATE TABLE release_revision (
                    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
                    resources INTEGER NOT NULL,
                    reference_values INTEGER NOT NULL,
                    key_records INTEGER NOT NULL
                );
                INSERT INTO release_revision (singleton, resources, reference_values, key_records) VALUES (1, 0, 0, 0);

                """
            for (table, column) in [("resource", "resources"), ("reference_value", "reference_values"), ("key_record", "key_records")] {
                for event in ["INSERT", "UPDATE", "DELETE"] {
                    sql += """
                        CREATE TRIGGER \(table)_\(event.lowercased())_revision AFTER \(event) ON \(table)
                        BEGIN UPDATE release_revision SET \(column) = \(column) + 1; END;

                        """
                }
            }
            try db.execute(sql: sql)
        }
        return migrator
    }
}
