import Foundation
import Logging
import NzilaCore
import NzilaDatabase
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// The live stream's `prices:<symbol>` topics: each new quote of a followed symbol, pushed to the
/// streams that follow it, whatever their tenant (quotes are platform data).
///
/// One per data plane. It reads `reference.quotes` for the followed symbols only, when woken: by
/// this plane's ingestion after it stores a tick, by `nzila_quotes` (which the ingestion announces in
/// its transaction, for the other planes, heard on the tenant change feed's connection), and, as a
/// fallback for a lost announcement, every `interval`. A quote is sent once per change of its seq.
/// The latest message of each symbol is kept, so a new follower gets it at once, in the same step
/// that adds it: no follower sees an older quote after a newer one.
public final class PriceBroadcast: Service, LiveTopicFamily, Sendable {
    public static let channel = "nzila_quotes"
    public let family = "prices"
    public let tenantDomain = "trading"
    public let staffPermission = Permission.readTrading

    struct Follower {
        var symbols: Set<String> = []
        var deliver: @Sendable (LiveMessage) -> Bool
    }

    struct State {
        var followers: [UUID: Follower] = [:]
        /// The latest message sent per symbol, and its quote's seq.
        var latest: [String: (seq: Int64, message: LiveMessage)] = [:]
        /// Instruments by symbol, as last read (for the check of a key).
        var symbols: Set<String> = []
        var symbolsReadAt: ContinuousClock.Instant?
    }

    let client: PostgresClient
    let clock: NzilaCore.Clock
    let interval: Duration
    let logger: Logger
    let state = Mutex(State())
    let wakes: AsyncStream<Void>
    let waker: AsyncStream<Void>.Continuation

    public init(client: PostgresClient, clock: NzilaCore.Clock, interval: Duration, logger: Logger) {
        self.client = client
        self.clock = clock
        self.interval = interval
        self.logger = logger
        (wakes, waker) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Asks for a read of the followed quotes (coalesced: many wakes while one read runs make one more).
    public func wake() {
        waker.yield()
    }

    public func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [self] in
                // The fallback for a lost announcement: wall time, not business time.
                while !Task.isCancelled {
                    try? await Task.sleep(for: interval)
                    wake()
                }
            }
            group.addTask { [self] in
                for await _ in wakes.cancelOnGracefulShutdown() {
                    do {
                        try await publish()
                    } catch {
                        if Task.isCancelled || Task.isShuttingDownGracefully { return }
                        logger.warning("price broadcast could not read quotes; the next wake retries", metadata: ["error": "\(String(reflecting: error))"])
                    }
                }
            }
            await group.next()
            group.cancelAll()
        }
        waker.finish()
    }

    /// Sends each followed symbol's quote whose seq changed since it was last sent; returns how many
    /// messages went out.
    @discardableResult
    public func publish() async throws -> Int {
        let followed = state.withLock { Set($0.followers.values.flatMap(\.symbols)) }
        guard !followed.isEmpty else { return 0 }
        let quotes = try await MarketReference.quotes(followed.sorted(), client: client, logger: logger)
        let now = clock.now()
        var sent = 0
        for (instrument, stored) in quotes {
            let quote = stored.quote
            let message = Self.message(QuoteView(instrument, stored, now: now))
            let targets = state.withLock { state -> [(UUID, @Sendable (LiveMessage) -> Bool)] in
                if state.latest[instrument.symbol]?.seq == quote.seq { return [] }
                state.latest[instrument.symbol] = (quote.seq, message)
                return state.followers.compactMap { $0.value.symbols.contains(instrument.symbol) ? ($0.key, $0.value.deliver) : nil }
            }
            for (id, deliver) in targets where !deliver(message) {
                unfollow(id: id, key: nil)
            }
            sent += targets.count
        }
        return sent
    }

    /// `{"topic":"prices:RY","type":"market.quote.v1","occurred_at":<quoted_at>,"data":<QuoteView>}`.
    static func message(_ view: QuoteView) -> LiveMessage {
        let topic = "prices:\(view.symbol)"
        let data = (try? JSONEncoder.api.encode(view)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return LiveMessage(topic: topic, text: "{\"topic\":\"\(topic)\",\"type\":\"market.quote.v1\",\"occurred_at\":\"\(view.quotedAt.rfc3339)\",\"data\":\(data)}")
    }

    // MARK: LiveTopicFamily

    public func refusal(key: String) async -> String? {
        if state.withLock({ $0.symbols.contains(key) }) { return nil }
        // Unknown here: read the instruments again (at most once a second, so a client cannot make
        // every subscribe a query), then decide.
        let due = state.withLock { state -> Bool in
            guard let at = state.symbolsReadAt, ContinuousClock.now - at < .seconds(1) else {
                state.symbolsReadAt = .now
                return true
            }
            return false
        }
        if due {
            do {
                let listed = Set(try await MarketReference.instruments(client: client, logger: logger).map(\.symbol))
                state.withLock { $0.symbols = listed }
            } catch {
                logger.warning("price broadcast could not read the instruments", metadata: ["error": "\(String(reflecting: error))"])
                return "The instruments could not be read just now; subscribe again shortly."
            }
        }
        if state.withLock({ $0.symbols.contains(key) }) { return nil }
        return "No instrument \(key.prefix(16)) is listed; GET /v1/market/instruments lists them."
    }

    public func follow(id: UUID, key: String, deliver: @escaping @Sendable (LiveMessage) -> Bool) {
        state.withLock { state in
            var follower = state.followers[id] ?? Follower(deliver: deliver)
            guard follower.symbols.insert(key).inserted else { return }
            state.followers[id] = follower
            // Sent inside the lock: a publish cannot slip a newer quote in before it.
            if let latest = state.latest[key]?.message { _ = deliver(latest) }
        }
        // The kept message may be old if nobody followed the symbol for a while: read it now.
        wake()
    }

    public func unfollow(id: UUID, key: String?) {
        state.withLock { state in
            guard let key else {
                state.followers[id] = nil
                return
            }
            state.followers[id]?.symbols.remove(key)
            if state.followers[id]?.symbols.isEmpty == true { state.followers[id] = nil }
        }
    }
}
