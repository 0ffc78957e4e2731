import Foundation
import Synchronization

/// How the relay learns that a transaction wrote events, without `NOTIFY` at its COMMIT.
///
/// PostgreSQL serializes every committing transaction that has sent a `NOTIFY`: at pre-commit it
/// takes a heavyweight lock on "database 0" (cluster-wide) and holds it until after the commit
/// (`PreCommit_Notify` in async.c), so a NOTIFY in every event-writing transaction would put all of
/// them, across every tenant, in one line through their commit flush. Instead, code that writes outbox events (`Outbox`, the ledger's postings, whose balance events a
/// trigger writes) marks the transaction (`wrote()`), and `TenantSession` tells this process's
/// relays after the COMMIT (`tracking`): the relay of the plane that wrote them numbers them at once.
/// A plane that dies between its COMMIT and that publication leaves them to the workers' sweep.
public enum OutboxWake {
    final class Marks: Sendable {
        let wrote = Atomic<Bool>(false)
    }

    @TaskLocal static var marks: Marks?

    static let listeners = Mutex<[UUID: @Sendable (TenantRef) -> Void]>([:])

    /// The transaction in progress wrote outbox events (or ledger entries, whose balance events the
    /// trigger writes).
    public static func wrote() { marks?.wrote.store(true, ordering: .relaxed) }

    /// Calls `handler` after every committed transaction of this process that wrote events; stop
    /// with `stopListening`.
    public static func listen(_ handler: @escaping @Sendable (TenantRef) -> Void) -> UUID {
        let id = UUID()
        listeners.withLock { $0[id] = handler }
        return id
    }

    public static func stopListening(_ id: UUID) { _ = listeners.withLock { $0.removeValue(forKey: id) } }

    /// Runs one transaction's work (`body` returns once it has committed) and tells the listeners
    /// if it wrote events. A transaction that throws (rolled back) tells nobody.
    static func tracking<Result>(_ tenant: TenantRef, _ body: () async throws -> Result) async throws -> Result {
        let marks = Marks()
        let result = try await $marks.withValue(marks) { try await body() }
        if marks.wrote.load(ordering: .relaxed) {
            for handler in listeners.withLock({ Array($0.values) }) { handler(tenant) }
        }
        return result
    }
}
