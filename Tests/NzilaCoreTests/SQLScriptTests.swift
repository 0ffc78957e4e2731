import NzilaDatabase
import Testing

@Suite("SQL script splitting")
struct SQLScriptTests {
    @Test func splitsOnSemicolonsOutsideQuotesAndComments() {
        let script = """
            -- a comment; with a semicolon
            CREATE TABLE a (x text DEFAULT 'semi;colon');
            /* block; comment */ INSERT INTO a VALUES ('it''s; fine');
            CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $fn$ BEGIN RETURN 1; END $fn$;
            DO $$ BEGIN PERFORM 1; END $$;
            SELECT "odd;name" FROM a
            """
        let statements = SQLScript.statements(script)
        #expect(statements.count == 5)
        #expect(statements[0] == "CREATE TABLE a (x text DEFAULT 'semi;colon')")
        #expect(statements[1] == "INSERT INTO a VALUES ('it''s; fine')")
        #expect(statements[2].hasSuffix("$fn$ BEGIN RETURN 1; END $fn$"))
        #expect(statements[3] == "DO $$ BEGIN PERFORM 1; END $$")
        #expect(statements[4] == "SELECT \"odd;name\" FROM a")
    }

    @Test func emptyScripts() {
        #expect(SQLScript.statements("  -- nothing\n ; ;").isEmpty)
    }
}

@Suite("Migration lint")
struct MigrationLintTests {
    func kinds(_ sql: String) -> [String] { MigrationLint.warnings(sql).map { "\($0.kind.rawValue) \($0.table ?? "-")" } }

    @Test("heavy statements are flagged with the table they work on; cheap ones are not")
    func flags() {
        #expect(kinds("ALTER TABLE members ADD COLUMN token uuid DEFAULT gen_random_uuid()") == ["rewrite members"])
        #expect(kinds("ALTER TABLE members ADD COLUMN vip boolean NOT NULL DEFAULT false").isEmpty, "a constant default is a catalogue change")
        #expect(kinds("ALTER TABLE members ADD COLUMN vip boolean NOT NULL") == ["fails members"])
        #expect(kinds("ALTER TABLE entries ALTER COLUMN amount_minor TYPE numeric") == ["rewrite entries"])
        #expect(kinds("alter table  accounts\n  alter column name set not null") == ["scan accounts"])
        #expect(kinds("ALTER TABLE holds ADD CONSTRAINT holds_memo CHECK (length(memo) < 100)") == ["scan holds"])
        #expect(kinds("ALTER TABLE holds ADD CONSTRAINT holds_memo CHECK (length(memo) < 100) NOT VALID").isEmpty)
        #expect(kinds("CREATE INDEX entries_created ON entries (created_at)") == ["blocks-writes entries"])
        #expect(kinds("CREATE INDEX CONCURRENTLY entries_created ON entries (created_at)").isEmpty)
        #expect(kinds("CREATE TABLE notes (id uuid PRIMARY KEY)").isEmpty)
    }
}
