import ServiceLifecycle

/// When a sweeping worker looks for due work: once at start, every `interval`, at once whenever a
/// movable platform clock moves (so what a test clock made due runs now), and on demand. Wakes are
/// coalesced: a sweep that is running when several arrive runs once more, not once per wake.
public final class SweepTicks: Sendable {
    let interval: Duration
    let clockMoves: AsyncStream<Void>?
    let wakes: AsyncStream<Void>
    let wake: AsyncStream<Void>.Continuation

    public init(interval: Duration, clockMoves: AsyncStream<Void>?) {
        self.interval = interval
        self.clockMoves = clockMoves
        (wakes, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Asks for a sweep now rather than at the next tick.
    public func now() { wake.yield() }

    /// Runs `sweep` on each wake until graceful shutdown or cancellation (a sweep in progress finishes
    /// first). Call once: the wakes are a single stream.
    public func run(_ sweep: @escaping @Sendable () async -> Void) async {
        wake.yield()
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [interval, wake] in
                while !Task.isShuttingDownGracefully && !Task.isCancelled {
                    try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
                    wake.yield()
                }
            }
            if let clockMoves {
                group.addTask { [wake] in
                    for await _ in clockMoves.cancelOnGracefulShutdown() { wake.yield() }
                }
            }
            group.addTask { [wake] in
                try? await gracefulShutdown()  // or cancelled
                wake.finish()
            }
            for await _ in wakes where !Task.isShuttingDownGracefully && !Task.isCancelled { await sweep() }
            group.cancelAll()
        }
    }
}
