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
