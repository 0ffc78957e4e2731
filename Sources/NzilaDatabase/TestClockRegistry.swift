import Foundation
import Logging
import NzilaCore
import PostgresNIO

/// Where a stack's test clock lives (`control.test_clock`, Migrations/control/0014) and how its moves
/// are announced (`nzila_test_clock`, payload the new offset in microseconds): the control plane
/// writes it, every data plane's change feed adopts it. Only stacks run with `--test-clock` use it.
public enum TestClockRegistry {
    public static let channel = "nzila_test_clock"
    static let readOffset: PostgresQuery = "SELECT offset_us FROM control.test_clock"

    /// The stack's offset in microseconds (0 before the first move).
    public static func offset(_ client: PostgresClient, logger: Logger) async throws -> Int64 {
        try await client.statement(readOffset, logger: logger) { try await $0.first(Int64.self) } ?? 0
    }

    /// The same, on a connection of the change feed.
    public static func offset(_ connection: PostgresConnection, logger: Logger) async throws -> Int64 {
        try await connection.query(readOffset, logger: logger).first(Int64.self) ?? 0
    }

    /// Moves the stack's clock forward by `microseconds` and announces the new offset, in one
    /// statement (the NOTIFY is sent at its commit); returns the new offset.
    public static func advance(_ client: PostgresClient, by microseconds: Int64, logger: Logger) async throws -> Int64 {
        precondition(microseconds > 0, "the test clock only moves forward")
        return try await client.statement(
            """
            WITH moved AS (
                INSERT INTO control.test_clock AS c (singleton, offset_us) VALUES (true, \(microseconds))
                ON CONFLICT (singleton) DO UPDATE SET offset_us = c.offset_us + EXCLUDED.offset_us, moved_at = clock_timestamp()
                RETURNING offset_us)
            SELECT offset_us, pg_notify(\(channel), offset_us::text) IS NULL FROM moved
            """, logger: logger
        ) { rows -> Int64? in
            guard let (offset, _) = try await rows.first((Int64, Bool).self) else { return nil }
            return offset
        } ?? 0
    }
}
