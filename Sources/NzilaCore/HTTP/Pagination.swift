import Foundation
import Hummingbird

/// A page request: `?limit=` (default 50, at most 200) and an opaque `?cursor=`.
public struct PageRequest: Sendable, Equatable {
    public static let defaultLimit = 50
    public static let maxLimit = 200

    public let limit: Int
    public let after: PageCursor?

    public init(limit: Int, after: PageCursor?) {
        self.limit = limit
        self.after = after
    }

    /// Parses the query of a list request; a bad limit or cursor is a 422 naming the parameter.
    public init(query: [String: String]) throws(Problem) {
        var limit = PageRequest.defaultLimit
        if let raw = query["limit"] {
            guard let value = Int(raw), (1...PageRequest.maxLimit).contains(value) else {
                throw Problem.validation(field: "limit", "must be an integer from 1 to \(PageRequest.maxLimit)")
            }
            limit = value
        }
        var after: PageCursor?
        if let raw = query["cursor"] {
            guard let cursor = PageCursor(encoded: raw) else { throw Problem.validation(field: "cursor", "is not a cursor this API issued") }
            after = cursor
        }
        self.init(limit: limit, after: after)
    }
}

extension PageRequest {
    /// Builds a page from rows fetched with `LIMIT limit + 1`: the extra row only says another page
    /// exists, and the cursor points after the last row shown.
    public func page<Row, Item>(of rows: [Row], item: (Row) throws -> Item, cursor: (Row) -> PageCursor) rethrows -> Page<Item> {
        let shown = rows.prefix(limit)
        let next = rows.count > limit ? shown.last.map(cursor)?.encoded : nil
        return Page(data: try shown.map(item), nextCursor: next)
    }
}

/// Position after the last row of a page, newest first, so pages stay stable while rows are
/// inserted: `position` is created_at in microseconds (lists ordered by (created_at, id)) or an
/// entry's sequence number (statements, ordered by id). Encoded as base64url of `<position>:<uuid>`.
public struct PageCursor: Sendable, Equatable {
    public let position: Int64
    public let id: UUID

    public init(position: Int64, id: UUID) {
        self.position = position
        self.id = id
    }

    public init?(encoded: String) {
        var base64 = encoded.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard encoded.count <= 128, let data = Data(base64Encoded: base64), let text = String(data: data, encoding: .utf8) else { return nil }
        let parts = text.split(separator: ":")
        guard parts.count == 2, let micros = Int64(parts[0]), let id = UUID(uuidString: String(parts[1])) else { return nil }
        self.init(position: micros, id: id)
    }

    public var encoded: String {
        Data("\(position):\(id.lowercased)".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}

/// The list envelope of API.md.
public struct Page<Item: Encodable & Sendable>: Encodable, Sendable {
    public let data: [Item]
    public let nextCursor: String?

    public init(data: [Item], nextCursor: String?) {
        self.data = data
        self.nextCursor = nextCursor
    }

    enum CodingKeys: String, CodingKey {
        case data
        case nextCursor
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(data, forKey: .data)
        try container.encode(nextCursor, forKey: .nextCursor)  // explicit null, as API.md shows
    }
}

extension Page: Decodable where Item: Decodable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(data: try container.decode([Item].self, forKey: .data), nextCursor: try container.decodeIfPresent(String.self, forKey: .nextCursor))
    }
}

extension Request {
    /// The query as a dictionary; a repeated parameter keeps its last value.
    public var queryDictionary: [String: String] {
        var result: [String: String] = [:]
        for (key, value) in uri.queryParameters { result[String(key)] = String(value) }
        return result
    }
}
