import NzilaDatabase
import Testing

@Suite("RLS scope of an upgrade")
struct RLSScopeTests {
    @Test("an upgrade protects the tables it creates; a marked migration, or a new schema, every table")
    func scope() {
        let alter = Migration(kind: .tenant, version: 10, name: "0010_motto", sql: "ALTER TABLE members ADD COLUMN motto text;")
        let create = Migration(kind: .tenant, version: 11, name: "0011_notes", sql: """
            CREATE TABLE IF NOT EXISTS member_notes (tenant_id uuid, id uuid PRIMARY KEY);
            CREATE INDEX member_notes_id ON member_notes (id);
            """)
        let policy = Migration(kind: .tenant, version: 12, name: "0012_policy", sql: "-- nzila:reapply-rls\nSELECT 1;")
        #expect(SQLCatalog.tables(createdBy: [alter]).isEmpty)
        #expect(SQLCatalog.tables(createdBy: [alter, create]) == ["member_notes"])
        #expect(!alter.reappliesRLS && !create.reappliesRLS && policy.reappliesRLS)
    }
}
