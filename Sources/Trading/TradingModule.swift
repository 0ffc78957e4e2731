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
    let alerts: AlertWatcher
    let copies: CopyGuard

    public init(matcher: OrderMatcher, prices: PriceBroadcast, snapshots: PortfolioSnapshotter, alerts: AlertWatcher, copies: CopyGuard) {
        self.matcher = matcher
        self.prices = prices
        self.snapshots = snapshots
        self.alerts = alerts
        self.copies = copies
    }

    public var services: [any Service] { [matcher, snapshots, alerts, copies] }

    public func mount(on routes: TenantRoutes) {
        MarketRoutes().mount(on: routes)
        TradingRoutes().mount(on: routes)
        TradingRoutes().mountReplace(on: routes)
        TradingRoutes().mountPortfolio(on: routes)
        PortfolioRoutes().mount(on: routes)
        WatchRoutes().mount(on: routes)
        LeaderboardRoutes().mount(on: routes)
        IdeaRoutes().mount(on: routes)
        CompetitionRoutes().mount(on: routes)
        AcademyRoutes().mount(on: routes)
        CopyRoutes().mount(on: routes)
    }

    public var events: [String] { TradingOrderEvent.types + [TradingAlertEvent.type] + TradingCopyEvent.types }
    public var topics: [StreamTopic] {
        [
            StreamTopic(name: "orders", eventDomain: "trading", eventPrefix: "order_", staffPermission: .readTrading, tenantDomain: name),
            StreamTopic(name: "alerts", eventDomain: "trading", eventPrefix: "alert_", staffPermission: .readTrading, tenantDomain: name),
            StreamTopic(name: "copies", eventDomain: "trading", eventPrefix: "copy_", staffPermission: .readTrading, tenantDomain: name),
        ]
    }
    public var liveTopics: [any LiveTopicFamily] { [prices] }
}
