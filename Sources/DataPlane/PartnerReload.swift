import AsyncHTTPClient
import Banking
import Compliance
import Foundation
import Logging
import NzilaPartners
import PostgresNIO
import Remittance
import ServiceLifecycle

/// The registry's connections (`control.partner_connections`) as the provider sets a data plane serves with, each
/// credential resolved from `environment`; a connection whose credential is missing is left out and said in the log.
public struct PartnerSets: Sendable {
    public let partners: PayoutPartners
    public let identity: IdentityProviders
    public let bankLinks: BankLinkProviders
    /// Present when `NZILA_FX_STALE_AFTER` bounds the reference rates' age.
    public let rateFallback: RateFallback?

    public static func configured(
        _ connections: [PartnerConnection], environment: [String: String], client: HTTPClient = .shared, logger: Logger
    ) -> PartnerSets {
        PartnerSets(
            partners: PayoutPartners.configured(connections, environment: environment, client: client, logger: logger),
            identity: IdentityProviders.configured(connections, environment: environment, client: client, logger: logger),
            bankLinks: BankLinkProviders.configured(connections, environment: environment, client: client, logger: logger),
            rateFallback: RateFallback.configured(connections, environment: environment, client: client, logger: logger))
    }

    public static func load(
        registry: PostgresClient, environment: [String: String], client: HTTPClient = .shared, logger: Logger
    ) async throws -> PartnerSets {
        configured(try await PartnerConnection.all(client: registry, logger: logger), environment: environment, client: client, logger: logger)
    }
}

/// Keeps a running data plane's provider sets equal to the registry: the change feed hears `nzila_partners`
/// (Migrations/control/0023, at the commit of every change) and wakes this service, which reads the registry again and
/// has each set adopt what it built. Wakes that come while a reload runs fold into one more. The feed also wakes it on
/// every (re)connection, so a change made while the feed was down is taken when it is back. A call already under way
/// finishes with the connection it started with; an order's payout attempt stays with its partner.
public final class PartnerReload: Service, Sendable {
    /// Announced at the commit of every change to `control.partner_connections`.
    public static let channel = "nzila_partners"

    let registry: PostgresClient
    let environment: [String: String]
    let sets: PartnerSets
    let logger: Logger
    let wakes: AsyncStream<Void>
    let continuation: AsyncStream<Void>.Continuation

    public init(registry: PostgresClient, environment: [String: String], sets: PartnerSets, logger: Logger) {
        self.registry = registry
        self.environment = environment
        self.sets = sets
        self.logger = logger
        (wakes, continuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Asks for a reload (the registry changed, or the feed reconnected).
    public func wake() { continuation.yield() }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            for await _ in self.wakes { await self.reload() }
        }
    }

    /// Reads the registry and adopts it; a failure leaves the sets as they were (said in the log; the next wake tries again).
    public func reload() async {
        do {
            let connections = try await PartnerConnection.all(client: registry, logger: logger)
            let fresh = PartnerSets.configured(connections, environment: environment, logger: logger)
            // A connection the registry still names but this process could not build again (its credential is not in
            // this process's environment or files) keeps serving as it was, rather than vanishing from a running plane.
            func unbuilt(_ kinds: Set<String>, _ built: Set<String>) -> Set<String> {
                Set(connections.filter { kinds.contains($0.kind) }.map(\.name)).subtracting(built)
            }
            sets.partners.adopt(fresh.partners, keeping: unbuilt(PartnerConnection.payoutKinds.union(PartnerConnection.fundingKinds), fresh.partners.names))
            sets.identity.adopt(fresh.identity, keeping: unbuilt(["identity"], fresh.identity.names))
            sets.bankLinks.adopt(fresh.bankLinks, keeping: unbuilt(["bank-links"], fresh.bankLinks.names))
            if let fallback = sets.rateFallback, let adopted = fresh.rateFallback {
                let named = environment["NZILA_FX_FALLBACK"]
                fallback.adopt(adopted, keeping: adopted.provider == nil && connections.contains { $0.name == named && $0.kind == "fx-quotes" })
            }
            logger.debug(
                "partner connections reloaded",
                metadata: ["connections": "\(sets.partners.names.count + sets.identity.names.count + sets.bankLinks.names.count)"])
        } catch {
            logger.warning("partner connections not reloaded; serving the previous ones", metadata: ["error": "\(type(of: error))"])
        }
    }
}
