import Hummingbird

/// Gives up on work that outlives `seconds`: the work is cancelled (a pending database lease is
/// released) and the caller gets `onTimeout`'s error instead of waiting on a dead database forever.
public func withDeadline<Result: Sendable>(
    seconds: Double, onTimeout: @autoclosure @escaping @Sendable () -> any Error, _ work: @escaping @Sendable () async throws -> Result
) async throws -> Result {
    try await withThrowingTaskGroup(of: Result.self) { group in
        group.addTask { try await work() }
        group.addTask {
            try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
            throw onTimeout()
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}

/// Answers 503 when a request takes longer than its deadline, typically because the database is
/// unreachable, instead of holding the client's connection open indefinitely.
public struct DeadlineMiddleware<Context: RequestContext>: RouterMiddleware {
    let seconds: Double

    public init(seconds: Double = 15) { self.seconds = seconds }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        try await withoutActuallyEscaping(next) { next in
            let call = UnsafeTransfer((next, request, context))
            return try await withDeadline(seconds: seconds, onTimeout: Problem.deadlineExceeded) {
                try await call.value.0(call.value.1, call.value.2)
            }
        }
    }
}

/// Carries a non-Sendable value into a child task that the caller awaits before returning.
struct UnsafeTransfer<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

extension Problem {
    public static let deadlineExceeded = Problem(
        .serviceUnavailable, "deadline-exceeded", "Service unavailable", detail: "The request did not finish in time; retry later.")
}
