import ServiceLifecycle

/// Runs `body` on each item, at most `width` at once (the workers' "N tenants at a time"), and
/// returns the results in the order they finished. Starts no new item once the task is cancelled or
/// the service is shutting down gracefully; those already running finish.
public func concurrently<Item: Sendable, Result: Sendable>(
    _ items: [Item], width: Int, _ body: @escaping @Sendable (Item) async -> Result
) async -> [Result] {
    await withTaskGroup(of: Result.self) { group in
        var next = items.makeIterator()
        var results: [Result] = []
        for _ in 0..<max(1, width) {
            guard let item = next.next() else { break }
            group.addTask { await body(item) }
        }
        while let result = await group.next() {
            results.append(result)
            if !Task.isCancelled, !Task.isShuttingDownGracefully, let item = next.next() { group.addTask { await body(item) } }
        }
        return results
    }
}
