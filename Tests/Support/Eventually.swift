import Foundation

/// "After X happened", as a bounded poll on X: checks `condition` until it holds, pausing briefly
/// between checks, and gives up only after `seconds` — a safety net, never the thing tested: a broken
/// feature fails the test once it runs out, a slow machine only takes longer. Returns whether it held.
public func eventually(within seconds: Double = 60, _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1_000))
    while true {
        if try await condition() { return true }
        guard ContinuousClock.now < deadline else { return false }
        try await Task.sleep(for: .milliseconds(10))
    }
}

/// The first non-nil value `probe` gives within the bound (see `eventually`), or its last answer.
public func eventually<Value>(within seconds: Double = 60, _ probe: () async throws -> Value?) async throws -> Value? {
    var last: Value?
    _ = try await eventually(within: seconds) {
        last = try await probe()
        return last != nil
    }
    return last
}

/// Tells, on standard error, when the process's task pool stops running work: a heartbeat task notes the time
/// every second, and a plain thread (outside the pool) checks it. On a 2-core machine the pool has two threads,
/// so two tasks that block a thread (a synchronous wait on a process, a lock held across a call into a server
/// this process runs) stall every test at once; this names such a stall in the log, with how long it lasted,
/// instead of leaving only tests that timed out. Diagnostic only: it changes nothing the tests do.
public enum TaskPoolWatch {
    final class Beat: @unchecked Sendable {
        let lock = NSLock()
        var last = ContinuousClock.now
    }

    public static let started: Void = {
        let beat = Beat()
        Task.detached {
            while true {
                beat.lock.withLock { beat.last = .now }
                try? await Task.sleep(for: .seconds(1))
            }
        }
        Thread.detachNewThread {
            var stalledSince: ContinuousClock.Instant?
            while true {
                Thread.sleep(forTimeInterval: 2)
                let last = beat.lock.withLock { beat.last }
                let quiet = ContinuousClock.now - last
                if quiet > .seconds(10) {
                    if stalledSince == nil {
                        stalledSince = last
                        FileHandle.standardError.write(Data("taskpoolwatch: a task has waited \(quiet) for a thread of the task pool (all busy or blocked)\n".utf8))
                    }
                } else if let since = stalledSince {
                    stalledSince = nil
                    FileHandle.standardError.write(Data("taskpoolwatch: the task pool took work again after \(ContinuousClock.now - since)\n".utf8))
                }
            }
        }
    }()
}
