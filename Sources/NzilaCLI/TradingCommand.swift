import ArgumentParser
import DataPlane
import Foundation
import Logging
import NzilaCore
import NzilaDatabase
import PostgresNIO
import Trading

/// `nzila trading`: paper trading's operations.
struct TradingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trading", abstract: "Paper trading operations.", subcommands: [Sweep.self, Snapshot.self])


    /// What a trading worker needs outside the data plane: the registry, a client per pool group, the
    /// platform clock (the stack's test clock when asked) and the trading tenants, for `body`.
    struct WorkerParts {
        let registry: PostgresClient
        let clock: NzilaCore.Clock
        let tenants: @Sendable () async throws -> [TenantRef]
        let session: @Sendable (TenantRef) -> TenantSession
        let logger: Logger
    }

    static func withWorkerParts<Result: Sendable>(
        state: String, testClock: Bool, width: Int, _ body: @escaping @Sendable (WorkerParts) async throws -> Result
    ) async throws -> Result {
        let runtime = try Runtime.load(state: state, label: "nzila.trading")
        try await runtime.probe(bouncer: true, groups: true)
        let registry = runtime.registryClient()
        let groups = runtime.groupClients(connectionsPerGroup: max(2, width))
        let logger = runtime.logger
        let required = runtime.catalog.latestTenantVersion
        return try await withRunning([registry] + groups) { () async throws -> Result in
            let movable = MovableClock()
            if testClock { movable.adopt(offsetMicroseconds: try await TestClockRegistry.offset(registry, logger: logger)) }
            let clock = NzilaCore.Clock.movable(movable)
            return try await body(WorkerParts(
                registry: registry, clock: clock,
                tenants: { try await DataPlane.activeTenants(registry, required: required, domain: "trading", logger: logger) },
                session: { tenant in
                    TenantSession(client: groups[tenant.poolGroup % groups.count], tenant: tenant, memberID: nil, audit: nil, clock: clock, logger: logger)
                },
                logger: logger))
        }
    }

    struct Sweep: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: """
                Run one matching sweep now, as the data plane's matcher does: read the platform trigger index once, then expire \
                day orders past their close and fill what the stored quotes make marketable, in the tenants that have any. \
                Prints what it did and how long the index read and the whole sweep took.
                """)
        @OptionGroup var state: StateOptions
        @Flag(help: "Follow the stack's test clock (a stack started by `nzila dev --test-clock`).") var testClock = false
        @Option(help: "Tenants worked at once (the plane's NZILA_TRADING_MATCH_WIDTH).") var width = Env().int("NZILA_TRADING_MATCH_WIDTH", default: 8)
        @Flag(help: "Print the figures as JSON.") var json = false

        func validate() throws {
            guard (1...64).contains(width) else { throw ValidationError("--width must be 1-64") }
        }

        func run() async throws {
            let sweep = try await TradingCommand.withWorkerParts(state: state.state, testClock: testClock, width: width) { [width] parts in
                await OrderMatcher(
                    client: parts.registry, clock: parts.clock, tenants: parts.tenants, session: parts.session, clockMoves: nil, interval: .seconds(3_600),
                    width: width, logger: parts.logger
                ).sweep()
            }
            if json {
                let object: [String: Any] = [
                    "due": sweep.due, "tenants": sweep.tenants, "fills": sweep.fills, "index_seconds": sweep.indexSeconds, "seconds": sweep.seconds,
                ]
                print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
            } else {
                print(String(
                    format: "%d book(s) due in %d tenant(s), index read in %.1f ms; %d fill(s) written; sweep %.1f ms",
                    sweep.due, sweep.tenants, sweep.indexSeconds * 1000, sweep.fills, sweep.seconds * 1000))
            }
        }
    }

    struct Snapshot: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: """
                Take the paper accounts' daily snapshots now, as the data plane's snapshot service does: the last trading day whose \
                23:00 UTC cutoff has passed (and the days missed, ten back), in every tenant with trading on that lacks it, then the \
                leaderboards' figures. Prints the day, the tenants and snapshots written and how long it took.
                """)
        @OptionGroup var state: StateOptions
        @Flag(help: "Follow the stack's test clock (a stack started by `nzila dev --test-clock`).") var testClock = false
        @Option(help: "Tenants worked at once (the plane's NZILA_TRADING_MATCH_WIDTH).") var width = Env().int("NZILA_TRADING_MATCH_WIDTH", default: 8)
        @Flag(help: "Print the figures as JSON.") var json = false

        func validate() throws {
            guard (1...64).contains(width) else { throw ValidationError("--width must be 1-64") }
        }

        func run() async throws {
            let sweep = try await TradingCommand.withWorkerParts(state: state.state, testClock: testClock, width: width) { [width] parts in
                await PortfolioSnapshotter(
                    client: parts.registry, clock: parts.clock, tenants: parts.tenants, session: parts.session, clockMoves: nil, interval: .seconds(3_600),
                    width: width, logger: parts.logger
                ).sweep()
            }
            if json {
                let object: [String: Any] = [
                    "day": sweep.day?.description ?? NSNull(), "tenants": sweep.tenants, "snapshots": sweep.snapshots, "seconds": sweep.seconds,
                    "waiting_for_bars": sweep.waitingForBars,
                ]
                print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
            } else if sweep.waitingForBars {
                print("waiting for \(sweep.day?.description ?? "the day")'s bars: the market ingestion has not stored a quote since its cutoff")
            } else {
                print(String(
                    format: "%@: %d snapshot(s) written in %d tenant(s) in %.1f ms", sweep.day?.description ?? "no day", sweep.snapshots, sweep.tenants,
                    sweep.seconds * 1000))
            }
        }
    }
}
