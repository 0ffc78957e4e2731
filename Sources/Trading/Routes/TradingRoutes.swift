import Foundation
import Hummingbird
import NzilaCore
import NzilaDatabase
import NzilaValues

struct OpenAccountBody: StrictBody {
    static let fields: Set<String> = ["member_id"]
    /// Staff open an account for a member; a member's app leaves it out.
    let memberId: String?
}

struct OrderBody: StrictBody {
    static let fields: Set<String> = ["symbol", "side", "type", "qty", "limit_price", "stop_price", "time_in_force", "client_order_id", "member_id", "account_id"]
    let symbol: String?
    /// buy or sell.
    let side: String?
    /// market, limit, stop or stop_limit.
    let type: String?
    /// Shares: a whole number of board lots.
    let qty: Int64?
    /// A decimal string in the quote unit ("12.50"; JSE in ZAc).
    let limitPrice: String?
    let stopPrice: String?
    /// day (expires at its exchange's close) or gtc.
    let timeInForce: String?
    /// The caller's own id for the order, unique on the account (1–128 characters).
    let clientOrderId: String?
    let memberId: String?
    /// The paper account to trade in: a competition account's id (default: the member's main account).
    let accountId: String?
}

struct ReplaceBody: StrictBody {
    static let fields: Set<String> = ["qty", "limit_price", "stop_price", "time_in_force", "client_order_id"]
    /// The new order's shares (default: what the old one has left).
    let qty: Int64?
    let limitPrice: String?
    let stopPrice: String?
    let timeInForce: String?
    /// The new order's own client order id (default: none).
    let clientOrderId: String?
}

struct TradingRoutes {
    func mount(on routes: TenantRoutes) {
        routes.route(
            .post, "/v1/trading/account", "Open the member's paper account, once, with the credit union's starting cash", access: .ownOrStaff(.manageTrading),
            body: OpenAccountBody.self, answer: TradingAccount.self
        ) { request, context in
            let body = try await request.decodeStrict(OpenAccountBody.self)
            let member = try context.subject(named: body.memberId)
            let account = try await context.session.run { db -> TradingAccount in
                let section = try await db.section(TradingSection.self) ?? .none
                guard let opened = try await TradingStore(db).open(member: member, startingCash: section.startingCash) else {
                    if try await TradingStore(db).account(member: member) != nil {
                        throw RuleError(.conflict, "account-exists", "Account exists", detail: "The member's paper account is already open.")
                    }
                    throw Problem.validation(field: "member_id", "names no active member")
                }
                return opened
            }
            return try Response.json(account, status: .created, headers: [.location: "/v1/trading/account"])
        }
        routes.route(
            .get, "/v1/trading/account", "The member's paper account: cash, reserved, buying power (?account_id= a competition account; staff: ?member_id=)",
            access: .ownOrStaff(.readTrading), answer: TradingAccount.self
        ) { request, context in
            let member = try context.subject(named: request.queryDictionary["member_id"])
            let accountID = try Self.accountID(request.queryDictionary["account_id"])
            guard let account = try await context.session.run({ try await TradingStore($0).account(member: member, id: accountID) }) else {
                throw Problem.notFound("Paper account")
            }
            return try Response.json(account)
        }
        routes.route(
            .post, "/v1/trading/orders", "Place a paper order (checked against the exchange's lot, tick and band, buying power and holdings)",
            access: .ownOrStaff(.manageTrading), idempotent: true, body: OrderBody.self, answer: TradingOrder.self
        ) { request, context in
            let raw = try await request.jsonBody()
            let body = try decodeStrictJSON(OrderBody.self, from: raw)
            let member = try context.subject(named: body.memberId)
            let (ticket, clientOrderID) = try Self.ticket(body)
            let accountID = try Self.accountID(body.accountId)
            let now = context.now
            return try await context.idempotentWrite(request, route: "/v1/trading/orders", raw: raw) { db in
                let order = try await OrderPlacement.place(db, ticket: ticket, member: member, account: accountID, clientOrderID: clientOrderID, now: now)
                return (order, "/v1/trading/orders/\(order.id)")
            }
        }
        routes.route(
            .get, "/v1/trading/orders", "Orders, newest first (?status=open|closed|all, ?symbol=, ?account_id=; staff: ?member_id= or every member's)",
            access: .ownOrStaff(.readTrading), answer: Page<TradingOrder>.self
        ) { request, context in
            let query = request.queryDictionary
            let page = try PageRequest(query: query)
            let status = query["status"] ?? "open"
            guard ["open", "closed", "all"].contains(status) else { throw Problem.validation(field: "status", "must be open, closed or all") }
            var member = context.memberID
            if member == nil, let raw = query["member_id"] {
                guard let id = MemberID(raw) else { throw Problem.validation(field: "member_id", "must be a UUID") }
                member = id
            }
            let symbol = query["symbol"]
            let account = try Self.accountID(query["account_id"])
            let orders = try await context.session.run { try await TradingStore($0).orders(member: member, account: account, status: status, symbol: symbol, page: page) }
            return try Response.json(orders)
        }
        routes.route(.get, "/v1/trading/orders/{id}", "One order", access: .ownOrStaff(.readTrading), answer: TradingOrder.self) { _, context in
            let id = TradingOrderID(try context.pathUUID("Order"))
            let member = context.memberID
            guard let order = try await context.session.run({ try await TradingStore($0).order(id, member: member) }) else { throw Problem.notFound("Order") }
            return try Response.json(order)
        }
        routes.route(
            .post, "/v1/trading/orders/{id}/cancel", "Cancel a working order: what it reserved is released", access: .ownOrStaff(.manageTrading),
            answer: TradingOrder.self
        ) { _, context in
            let id = TradingOrderID(try context.pathUUID("Order"))
            let member = context.memberID
            let order = try await context.session.run { db -> TradingOrder in
                let store = TradingStore(db)
                guard let order = try await store.order(id, member: member, lock: true) else { throw Problem.notFound("Order") }
                if case .failure(let refusal) = order.status.transition(to: .canceled) { throw refusal }
                guard let canceled = try await store.finish(order, to: .canceled, reason: "canceled by \(context.principal.role.rawValue)") else {
                    throw OrderStatus.Refusal.illegal(from: order.status, to: .canceled)
                }
                return canceled
            }
            return try Response.json(order)
        }
    }

    func mountReplace(on routes: TenantRoutes) {
        routes.route(
            .post, "/v1/trading/orders/{id}/replace",
            "Replace a working order: a new order (new id) with the changes, the old one replaced and linked both ways; refused if it filled first",
            access: .ownOrStaff(.manageTrading), idempotent: true, body: ReplaceBody.self, answer: TradingOrder.self
        ) { request, context in
            let id = TradingOrderID(try context.pathUUID("Order"))
            let raw = try await request.jsonBody()
            let change = try Self.change(try decodeStrictJSON(ReplaceBody.self, from: raw))
            let member = context.memberID
            let now = context.now
            return try await context.idempotentWrite(request, route: "/v1/trading/orders/\(id)/replace", raw: raw) { db in
                let (_, new) = try await OrderPlacement.replace(db, id: id, member: member, change: change, now: now)
                return (new, "/v1/trading/orders/\(new.id)")
            }
        }
    }

    static func change(_ body: ReplaceBody) throws -> OrderPlacement.ReplaceChange {
        var errors: [FieldError] = []
        var change = OrderPlacement.ReplaceChange()
        if let qty = body.qty {
            if qty <= 0 { errors.append(FieldError(field: "qty", message: "must be a positive whole number of shares")) }
            change.qty = qty
        }
        if let raw = body.limitPrice {
            change.limit = Price(raw)
            if change.limit == nil { errors.append(FieldError(field: "limit_price", message: "must be a decimal string such as \"12.50\" (at most 4 decimals)")) }
        }
        if let raw = body.stopPrice {
            change.stop = Price(raw)
            if change.stop == nil { errors.append(FieldError(field: "stop_price", message: "must be a decimal string such as \"12.50\" (at most 4 decimals)")) }
        }
        if let raw = body.timeInForce {
            change.timeInForce = TimeInForce(rawValue: raw)
            if change.timeInForce == nil { errors.append(FieldError(field: "time_in_force", message: "must be day or gtc")) }
        }
        if let id = body.clientOrderId {
            if !(1...128).contains(id.count) || id.contains(where: { $0.isNewline }) {
                errors.append(FieldError(field: "client_order_id", message: "must be 1 to 128 characters on one line"))
            }
            change.clientOrderID = id
        }
        guard errors.isEmpty else { throw Problem.validation(errors) }
        return change
    }

    func mountPortfolio(on routes: TenantRoutes) {
        routes.route(
            .get, "/v1/trading/positions", "Positions at average cost, marked at the latest quote, with realised and unrealised P&L (quote unit and CAD, FX apart)",
            access: .ownOrStaff(.readTrading), answer: Page<PositionView>.self
        ) { request, context in
            let member = try context.subject(named: request.queryDictionary["member_id"])
            let accountID = try Self.accountID(request.queryDictionary["account_id"])
            let positions = try await context.session.run { db -> [PositionView] in
                guard let account = try await TradingStore(db).account(member: member, id: accountID) else { throw Problem.notFound("Paper account") }
                return try await PortfolioStore(db).positions(account: account.id)
            }
            return try Response.json(Page(data: positions, nextCursor: nil))
        }
        routes.route(
            .get, "/v1/trading/activities", "Fills, newest first: each with its qty, price, cum_qty, leaves_qty, rate and CAD", access: .ownOrStaff(.readTrading),
            answer: Page<FillView>.self
        ) { request, context in
            let query = request.queryDictionary
            let page = try PageRequest(query: query)
            let member = try context.subject(named: query["member_id"])
            let accountID = try Self.accountID(query["account_id"])
            let fills = try await context.session.run { db -> Page<FillView> in
                guard let account = try await TradingStore(db).account(member: member, id: accountID) else { throw Problem.notFound("Paper account") }
                return try await PortfolioStore(db).fills(account: account.id, page: page)
            }
            return try Response.json(fills)
        }
    }

    /// A paper account named by the caller (nil: the member's main account).
    static func accountID(_ raw: String?) throws -> TradingAccountID? {
        guard let raw else { return nil }
        guard let id = UUID(uuidString: raw) else { throw Problem.validation(field: "account_id", "must be a UUID") }
        return TradingAccountID(id)
    }

    /// The body as a ticket, every bad field named at once.
    static func ticket(_ body: OrderBody) throws -> (OrderTicket, String?) {
        var errors: [FieldError] = []
        let symbol = body.symbol ?? ""
        if symbol.range(of: #"^[A-Z0-9][A-Z0-9.\-]{0,15}$"#, options: .regularExpression) == nil {
            errors.append(FieldError(field: "symbol", message: "must be a listed symbol (GET /v1/market/instruments)"))
        }
        let side = body.side.flatMap(OrderSide.init(rawValue:))
        if side == nil { errors.append(FieldError(field: "side", message: "must be buy or sell")) }
        let type = body.type.flatMap(OrderType.init(rawValue:))
        if type == nil { errors.append(FieldError(field: "type", message: "must be market, limit, stop or stop_limit")) }
        if body.qty == nil { errors.append(FieldError(field: "qty", message: "is required: a whole number of shares")) }
        let tif = body.timeInForce.flatMap(TimeInForce.init(rawValue:))
        if tif == nil { errors.append(FieldError(field: "time_in_force", message: "must be day or gtc")) }
        var limit: Price?
        if let raw = body.limitPrice {
            limit = Price(raw)
            if limit == nil { errors.append(FieldError(field: "limit_price", message: "must be a decimal string such as \"12.50\" (at most 4 decimals)")) }
        }
        var stop: Price?
        if let raw = body.stopPrice {
            stop = Price(raw)
            if stop == nil { errors.append(FieldError(field: "stop_price", message: "must be a decimal string such as \"12.50\" (at most 4 decimals)")) }
        }
        if let id = body.clientOrderId, !(1...128).contains(id.count) || id.contains(where: { $0.isNewline }) {
            errors.append(FieldError(field: "client_order_id", message: "must be 1 to 128 characters on one line"))
        }
        guard errors.isEmpty, let side, let type, let qty = body.qty, let tif else { throw Problem.validation(errors) }
        return (OrderTicket(symbol: symbol, side: side, type: type, qty: qty, limit: limit, stop: stop, timeInForce: tif), body.clientOrderId)
    }
}
