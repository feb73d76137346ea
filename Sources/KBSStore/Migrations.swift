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
        return migrator
    }
}
