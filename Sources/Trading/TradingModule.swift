import Foundation
import NzilaCore
import NzilaDatabase
import ServiceLifecycle

/// Paper trading: instruments on six exchanges with their rules, a seeded market that replays
/// exactly, paper accounts, orders that fill like real ones, positions with realised P&L, and
/// `prices:<symbol>` on the stream. The market ingestion service is the data plane's (it writes
/// platform data, not a tenant's).
public struct TradingModule: DomainModule {
    public let name = "trading"
    let matcher: OrderMatcher
    let prices: PriceBroadcast
    let snapshots: PortfolioSnapshotter

    public init(matcher: OrderMatcher, prices: PriceBroadcast, snapshots: PortfolioSnapshotter) {
        self.matcher = matcher
        self.prices = prices
        self.snapshots = snapshots
    }

    public var services: [any Service] { [matcher, snapshots] }

    public func mount(on routes: TenantRoutes) {
        MarketRoutes().mount(on: routes)
        TradingRoutes().mount(on: routes)
        TradingRoutes().mountReplace(on: routes)
        TradingRoutes().mountPortfolio(on: routes)
        PortfolioRoutes().mount(on: routes)
    }

    public var events: [String] { TradingOrderEvent.types }
    public var topics: [StreamTopic] {
        [StreamTopic(name: "orders", eventDomain: "trading", staffPermission: .readTrading, tenantDomain: name)]
    }
    public var liveTopics: [any LiveTopicFamily] { [prices] }
}
