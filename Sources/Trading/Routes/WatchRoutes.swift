import Foundation
import Hummingbird
import NzilaCore
import NzilaDatabase
import NzilaValues

struct WatchlistBody: StrictBody {
    static let fields: Set<String> = ["name", "symbols", "member_id"]
    /// 1 to 64 characters, unique among the member's lists.
    let name: String?
    /// Listed symbols in the member's order, each once, at most 100.
    let symbols: [String]?
    let memberId: String?
}

struct WatchlistSymbolBody: StrictBody {
    static let fields: Set<String> = ["symbol", "position"]
    let symbol: String?
    /// Where it goes, from 0 (default: last).
    let position: Int?
}

struct AlertBody: StrictBody {
    static let fields: Set<String> = ["symbol", "condition", "price", "member_id"]
    let symbol: String?
    /// crosses_above or crosses_below.
    let condition: String?
    /// The level, a decimal string in the instrument's quote unit.
    let price: String?
    let memberId: String?
}

/// Watchlists (named, ordered, several per member) and price alerts (`PriceAlerts`).
struct WatchRoutes {
    static let symbolPattern = #"^[A-Z0-9][A-Z0-9.\-]{0,15}$"#

    func mount(on routes: TenantRoutes) {
        routes.route(
            .post, "/v1/trading/watchlists", "Create a watchlist: a name and listed symbols in order", access: .ownOrStaff(.manageTrading),
            body: WatchlistBody.self, answer: WatchlistView.self
        ) { request, context in
            let body = try await request.decodeStrict(WatchlistBody.self)
            let member = try context.subject(named: body.memberId)
            let (name, symbols) = try Self.checked(name: body.name, symbols: body.symbols ?? [], nameRequired: true)
            let list = try await context.session.run { db -> WatchlistView in
                let store = WatchStore(db)
                try await Self.listed(symbols, store: store)
                switch try await store.createWatchlist(member: member, name: name ?? "", symbols: symbols) {
                case .success(let list): return list
                case .failure(.nameTaken): throw RuleError(.conflict, "watchlist-exists", "Watchlist exists", detail: "The member already has a watchlist named \(name ?? "").")
                case .failure(.tooMany):
                    throw RuleError(.conflict, "too-many-watchlists", "Too many watchlists", detail: "A member keeps at most \(PriceAlerts.maximumWatchlistsPerMember) watchlists.")
                case .failure(.noMember): throw Problem.validation(field: "member_id", "names no active member")
                }
            }
            return try Response.json(list, status: .created, headers: [.location: "/v1/trading/watchlists/\(list.id)"])
        }
        routes.route(
            .get, "/v1/trading/watchlists", "The member's watchlists, oldest first (staff: ?member_id=)", access: .ownOrStaff(.readTrading),
            answer: Page<WatchlistView>.self
        ) { request, context in
            let member = try context.subject(named: request.queryDictionary["member_id"])
            let lists = try await context.session.run { try await WatchStore($0).watchlists(member: member) }
            return try Response.json(Page(data: lists, nextCursor: nil))
        }
        routes.route(.get, "/v1/trading/watchlists/{id}", "One watchlist", access: .ownOrStaff(.readTrading), answer: WatchlistView.self) { _, context in
            let id = TradingWatchlistID(try context.pathUUID("Watchlist"))
            let member = context.memberID
            guard let list = try await context.session.run({ try await WatchStore($0).watchlist(id, member: member) }) else { throw Problem.notFound("Watchlist") }
            return try Response.json(list)
        }
        routes.route(
            .put, "/v1/trading/watchlists/{id}", "Rename a watchlist and set its symbols in order (both given)", access: .ownOrStaff(.manageTrading),
            body: WatchlistBody.self, answer: WatchlistView.self
        ) { request, context in
            let id = TradingWatchlistID(try context.pathUUID("Watchlist"))
            let body = try await request.decodeStrict(WatchlistBody.self)
            if body.memberId != nil { throw Problem.validation(field: "member_id", "is the list's: leave it out") }
            guard let raw = body.symbols else { throw Problem.validation(field: "symbols", "is required: the whole list, in order") }
            let (name, symbols) = try Self.checked(name: body.name, symbols: raw, nameRequired: true)
            let member = context.memberID
            let list = try await context.session.run { db -> WatchlistView in
                let store = WatchStore(db)
                try await Self.listed(symbols, store: store)
                do {
                    guard let list = try await store.updateWatchlist(id, member: member, name: name, symbols: symbols) else { throw Problem.notFound("Watchlist") }
                    return list
                } catch where DatabaseErrors.sqlState(error) == "23505" {
                    throw RuleError(.conflict, "watchlist-exists", "Watchlist exists", detail: "The member already has a watchlist named \(name ?? "").")
                }
            }
            return try Response.json(list)
        }
        routes.route(.delete, "/v1/trading/watchlists/{id}", "Delete a watchlist", access: .ownOrStaff(.manageTrading)) { _, context in
            let id = TradingWatchlistID(try context.pathUUID("Watchlist"))
            let member = context.memberID
            guard try await context.session.run({ try await WatchStore($0).deleteWatchlist(id, member: member) }) else { throw Problem.notFound("Watchlist") }
            return Response(status: .noContent)
        }
        routes.route(
            .post, "/v1/trading/watchlists/{id}/symbols", "Add a symbol to a watchlist (at position, default last; once)", access: .ownOrStaff(.manageTrading),
            body: WatchlistSymbolBody.self, answer: WatchlistView.self
        ) { request, context in
            let id = TradingWatchlistID(try context.pathUUID("Watchlist"))
            let body = try await request.decodeStrict(WatchlistSymbolBody.self)
            var errors: [FieldError] = []
            let symbol = body.symbol ?? ""
            if symbol.range(of: Self.symbolPattern, options: .regularExpression) == nil { errors.append(FieldError(field: "symbol", message: "must be a listed symbol")) }
            if let position = body.position, !(0...PriceAlerts.maximumSymbolsPerWatchlist).contains(position) {
                errors.append(FieldError(field: "position", message: "must be 0 to \(PriceAlerts.maximumSymbolsPerWatchlist)"))
            }
            guard errors.isEmpty else { throw Problem.validation(errors) }
            let member = context.memberID
            let list = try await context.session.run { db -> WatchlistView in
                let store = WatchStore(db)
                try await Self.listed([symbol], store: store, field: "symbol")
                guard let before = try await store.watchlist(id, member: member) else { throw Problem.notFound("Watchlist") }
                if before.symbols.contains(symbol) { return before }
                if before.symbols.count >= PriceAlerts.maximumSymbolsPerWatchlist {
                    throw RuleError(.conflict, "watchlist-full", "Watchlist full", detail: "A watchlist holds at most \(PriceAlerts.maximumSymbolsPerWatchlist) symbols.")
                }
                guard let list = try await store.addSymbol(id, member: member, symbol: symbol, position: body.position) else { throw Problem.notFound("Watchlist") }
                return list
            }
            return try Response.json(list)
        }
        routes.route(
            .delete, "/v1/trading/watchlists/{id}/symbols/{symbol}", "Remove a symbol from a watchlist", access: .ownOrStaff(.manageTrading),
            answer: WatchlistView.self
        ) { _, context in
            let id = TradingWatchlistID(try context.pathUUID("Watchlist"))
            let symbol = context.parameters.get("symbol") ?? ""
            let member = context.memberID
            let list = try await context.session.run { db -> WatchlistView in
                let store = WatchStore(db)
                guard let before = try await store.watchlist(id, member: member) else { throw Problem.notFound("Watchlist") }
                guard before.symbols.contains(symbol) else { throw Problem.notFound("Symbol \(symbol.prefix(20)) in the watchlist") }
                guard let list = try await store.removeSymbol(id, member: member, symbol: symbol) else { throw Problem.notFound("Watchlist") }
                return list
            }
            return try Response.json(list)
        }
        mountAlerts(on: routes)
    }

    func mountAlerts(on routes: TenantRoutes) {
        routes.route(
            .post, "/v1/trading/alerts", "A price alert: fires once when the last trade crosses the level (crosses_above, crosses_below) between two quotes",
            access: .ownOrStaff(.manageTrading), body: AlertBody.self, answer: AlertView.self
        ) { request, context in
            let body = try await request.decodeStrict(AlertBody.self)
            let member = try context.subject(named: body.memberId)
            var errors: [FieldError] = []
            let symbol = body.symbol ?? ""
            if symbol.range(of: Self.symbolPattern, options: .regularExpression) == nil { errors.append(FieldError(field: "symbol", message: "must be a listed symbol")) }
            let condition = body.condition.flatMap(AlertCondition.init(rawValue:))
            if condition == nil { errors.append(FieldError(field: "condition", message: "must be crosses_above or crosses_below")) }
            let level = body.price.flatMap(Price.init)
            if level == nil || level?.e4 == 0 {
                errors.append(FieldError(field: "price", message: "must be a positive decimal string such as \"12.50\" (at most 4 decimals)"))
            }
            guard errors.isEmpty, let condition, let level else { throw Problem.validation(errors) }
            let alert = try await context.session.run { db -> AlertView in
                let store = WatchStore(db)
                try await Self.listed([symbol], store: store, field: "symbol")
                let quote = try await Self.quote(symbol, db)
                guard let alert = try await store.createAlert(member: member, symbol: symbol, condition: condition, level: level, quote: quote) else {
                    if try await store.unlistedMember(member) { throw Problem.validation(field: "member_id", "names no active member") }
                    throw RuleError(.conflict, "too-many-alerts", "Too many alerts", detail: "A member keeps at most \(PriceAlerts.maximumArmedPerMember) armed alerts.")
                }
                return alert
            }
            return try Response.json(alert, status: .created, headers: [.location: "/v1/trading/alerts/\(alert.id)"])
        }
        routes.route(
            .get, "/v1/trading/alerts", "The member's alerts, newest first (?status=armed|triggered; staff: ?member_id=)", access: .ownOrStaff(.readTrading),
            answer: Page<AlertView>.self
        ) { request, context in
            let query = request.queryDictionary
            let page = try PageRequest(query: query)
            let member = try context.subject(named: query["member_id"])
            var status: AlertStatus?
            if let raw = query["status"] {
                guard let parsed = AlertStatus(rawValue: raw) else { throw Problem.validation(field: "status", "must be armed or triggered") }
                status = parsed
            }
            let alerts = try await context.session.run { try await WatchStore($0).alerts(member: member, status: status, page: page) }
            return try Response.json(alerts)
        }
        routes.route(.get, "/v1/trading/alerts/{id}", "One alert", access: .ownOrStaff(.readTrading), answer: AlertView.self) { _, context in
            let id = TradingAlertID(try context.pathUUID("Alert"))
            let member = context.memberID
            guard let alert = try await context.session.run({ try await WatchStore($0).alert(id, member: member) }) else { throw Problem.notFound("Alert") }
            return try Response.json(alert)
        }
        routes.route(.delete, "/v1/trading/alerts/{id}", "Delete an alert", access: .ownOrStaff(.manageTrading)) { _, context in
            let id = TradingAlertID(try context.pathUUID("Alert"))
            let member = context.memberID
            guard try await context.session.run({ try await WatchStore($0).deleteAlert(id, member: member) }) else { throw Problem.notFound("Alert") }
            return Response(status: .noContent)
        }
        routes.route(
            .post, "/v1/trading/alerts/{id}/rearm", "Arm a triggered alert again: it fires on the next fresh crossing", access: .ownOrStaff(.manageTrading),
            answer: AlertView.self
        ) { _, context in
            let id = TradingAlertID(try context.pathUUID("Alert"))
            let member = context.memberID
            let alert = try await context.session.run { db -> AlertView in
                let store = WatchStore(db)
                guard let alert = try await store.alert(id, member: member, lock: true) else { throw Problem.notFound("Alert") }
                guard alert.status == .triggered else {
                    throw RuleError(.conflict, "alert-armed", "Alert armed", detail: "The alert is armed already: it fires on its next crossing.")
                }
                guard let rearmed = try await store.rearm(alert, quote: try await Self.quote(alert.symbol, db)) else {
                    throw RuleError(.conflict, "too-many-alerts", "Too many alerts", detail: "A member keeps at most \(PriceAlerts.maximumArmedPerMember) armed alerts.")
                }
                return rearmed
            }
            return try Response.json(alert)
        }
    }

    /// The stored quote an alert starts from.
    static func quote(_ symbol: String, _ db: TenantDB) async throws -> Quote {
        guard let stored = try await MarketStore(db).quotes([symbol])[symbol] else {
            throw RuleError(.conflict, "no-quote", "No quote yet", detail: "\(symbol) has no quote yet: an alert needs a price to start from.")
        }
        return stored.quote
    }

    /// A name and symbols checked for form; every problem named at once.
    static func checked(name: String?, symbols: [String], nameRequired: Bool) throws -> (String?, [String]) {
        var errors: [FieldError] = []
        if let name {
            if !(1...64).contains(name.unicodeScalars.count) || name.contains(where: { $0.isNewline }) || name.trimmingCharacters(in: .whitespaces).isEmpty {
                errors.append(FieldError(field: "name", message: "must be 1 to 64 characters on one line"))
            }
        } else if nameRequired {
            errors.append(FieldError(field: "name", message: "is required"))
        }
        let checked = PriceAlerts.symbols(symbols, field: "symbols")
        errors += checked.errors
        guard errors.isEmpty else { throw Problem.validation(errors) }
        return (name, checked.symbols)
    }

    /// Refuses symbols that are not listed, each named.
    static func listed(_ symbols: [String], store: WatchStore, field: String = "symbols") async throws {
        let unlisted = try await store.unlisted(symbols)
        guard unlisted.isEmpty else {
            throw Problem.validation(unlisted.map { symbol in
                FieldError(field: field == "symbols" ? "symbols[\(symbols.firstIndex(of: symbol) ?? 0)]" : field, message: "\(symbol) is not listed (GET /v1/market/instruments)")
            })
        }
    }
}
