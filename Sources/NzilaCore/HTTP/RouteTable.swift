import Foundation
import HTTPTypes
import Hummingbird
import Synchronization

/// The list of routes a plane serves. Routes are registered through it, so the OpenAPI document and
/// the 405 answers can never drift from the router. Filled while the app is built, read-only after.
public final class RouteTable: @unchecked Sendable {
    public struct Route: Sendable {
        public let method: HTTPRequest.Method
        /// OpenAPI template, for example `/v1/tenants/{slug}`.
        public let path: String
        public let summary: String
        /// Who may call it; checked on every request by the registration below.
        public let access: Access
        public let requiresIdempotencyKey: Bool
        /// The JSON body the handler decodes, and the one it answers with on success.
        public let body: Documented?
        public let answer: Documented?

        public var isPublic: Bool { access.isPublic }
    }

    /// A body type as the OpenAPI document names and describes it, read from the `Decodable` type
    /// the handler uses (`JSONSchema.of`).
    public struct Documented: Sendable {
        public let name: String
        let encodedSchema: Data

        public init(_ type: any Decodable.Type) {
            name = String(reflecting: type).map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "_" ? String($0) : "_" }.joined()
            encodedSchema = (try? JSONSerialization.data(withJSONObject: JSONSchema.schema(for: type), options: [.sortedKeys])) ?? Data("{}".utf8)
        }

        public var schema: [String: Any] {
            (try? JSONSerialization.jsonObject(with: encodedSchema)) as? [String: Any] ?? [:]
        }
    }

    /// While true (the test suite sets it), every route checks each successful exchange against its
    /// documented schemas: the request body it accepted and the JSON it answered. A mismatch answers
    /// a 500 `api-shape-drift` problem naming each difference, so no test passes over a route whose
    /// documentation and code disagree. Off in production: one relaxed load per request.
    public static let verifiesShapes = Atomic<Bool>(false)
    /// How many exchanges were checked so, for a test to see the check ran.
    public static let shapeChecks = Atomic<Int>(0)

    public private(set) var routes: [Route] = []

    public init() {}

    public func add(_ route: Route) {
        precondition(!routes.contains { $0.method == route.method && $0.path == route.path }, "duplicate route \(route.path)")
        routes.append(route)
    }

    /// The methods served on routes whose template matches a concrete path.
    public func methods(matching path: String) -> [HTTPRequest.Method] {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        return routes.filter { route in
            let template = route.path.split(separator: "/", omittingEmptySubsequences: true)
            guard template.count == segments.count else { return false }
            return zip(template, segments).allSatisfy { $0.hasPrefix("{") || $0 == $1 }
        }.map(\.method)
    }

    /// An OpenAPI 3.1 document listing every route with its security and the problem responses.
    public func openAPIDocument(title: String, description: String) -> Data {
        var paths: [String: [String: Any]] = [:]
        var schemas: [String: Any] = ["Problem": Self.problemSchema]
        for route in routes {
            var success: [String: Any] = [:]
            if let answer = route.answer {
                schemas[answer.name] = answer.schema
                success["schema"] = ["$ref": "#/components/schemas/\(answer.name)"]
            }
            var operation: [String: Any] = [
                "summary": route.summary,
                "operationId": Self.operationID(route),
                "responses": [
                    "default": ["description": "A problem (RFC 9457)", "content": ["application/problem+json": ["schema": ["$ref": "#/components/schemas/Problem"]]]],
                    "2XX": ["description": "Success", "content": ["application/json": success]],
                ],
            ]
            if let body = route.body {
                schemas[body.name] = body.schema
                operation["requestBody"] = ["required": true, "content": ["application/json": ["schema": ["$ref": "#/components/schemas/\(body.name)"]]]]
            }
            var parameters: [[String: Any]] = route.path.split(separator: "/").filter { $0.hasPrefix("{") }.map {
                ["name": String($0.dropFirst().dropLast()), "in": "path", "required": true, "schema": ["type": "string"]]
            }
            if route.requiresIdempotencyKey {
                parameters.append(["name": "Idempotency-Key", "in": "header", "required": true, "schema": ["type": "string", "minLength": 1, "maxLength": 255]])
            }
            if !parameters.isEmpty { operation["parameters"] = parameters }
            operation["security"] = route.isPublic ? [] : [["bearer": []]]
            if let permission = route.access.permission {
                operation["x-permission"] = permission.rawValue
                operation["x-members"] = route.access.members
                operation["description"] = route.access.members
                    ? "Members, on their own data; staff whose role holds `\(permission.rawValue)`."
                    : "Staff whose role holds `\(permission.rawValue)`."
            }
            paths[route.path, default: [:]][route.method.rawValue.lowercased()] = operation
        }
        let document: [String: Any] = [
            "openapi": "3.1.0",
            "info": ["title": title, "version": "1.0.0", "description": description],
            "paths": paths,
            "components": [
                "securitySchemes": ["bearer": ["type": "http", "scheme": "bearer", "bearerFormat": "JWT"]],
                "schemas": schemas,
            ],
        ]
        return (try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
    }

    static var problemSchema: [String: Any] { [
        "type": "object",
        "required": ["type", "title", "status"],
        "properties": [
            "type": ["type": "string"], "title": ["type": "string"], "status": ["type": "integer"],
            "detail": ["type": "string"], "instance": ["type": "string"], "request_id": ["type": "string"],
            "errors": ["type": "array", "items": ["type": "object", "properties": ["field": ["type": "string"], "message": ["type": "string"]]]],
        ],
    ] }

    static func operationID(_ route: Route) -> String {
        let words = route.path.split(separator: "/").map { $0.replacingOccurrences(of: "{", with: "by_").replacingOccurrences(of: "}", with: "") }
        return ([route.method.rawValue.lowercased()] + words).joined(separator: "_").replacingOccurrences(of: ".", with: "_")
    }
}

extension RouterMethods {
    /// Registers a route anyone may call (no bearer token) and documents it in `table`.
    @discardableResult
    public func openRoute(
        _ method: HTTPRequest.Method, _ path: String, _ summary: String, in table: RouteTable, idempotent: Bool = false,
        body: (any Decodable.Type)? = nil, answer: (any Decodable.Type)? = nil,
        use handler: @escaping @Sendable (Request, Context) async throws -> Response
    ) -> Self {
        register(
            .init(method: method, path: path, summary: summary, access: .open, requiresIdempotencyKey: idempotent,
                  body: body.map(RouteTable.Documented.init), answer: answer.map(RouteTable.Documented.init)),
            in: table, use: handler)
    }

    func register(_ route: RouteTable.Route, in table: RouteTable, use handler: @escaping @Sendable (Request, Context) async throws -> Response) -> Self {
        table.add(route)
        let routerPath = route.path.split(separator: "/").map { $0.hasPrefix("{") ? ":" + $0.dropFirst().dropLast() : String($0) }.joined(separator: "/")
        guard route.body != nil || route.answer != nil else { return self.on(RouterPath("/" + routerPath), method: route.method, use: handler) }
        return self.on(RouterPath("/" + routerPath), method: route.method) { request, context in
            guard RouteTable.verifiesShapes.load(ordering: .relaxed) else { return try await handler(request, context) }
            return try await ShapeCheck(route: route).run(request, context, handler)
        }
    }
}

extension RouterMethods where Context: PrincipalRequestContext {
    /// Registers a secured route, documents it in `table` with who may call it, and checks that on
    /// every request before the handler runs: the one declaration of a route's permission.
    @discardableResult
    public func route(
        _ method: HTTPRequest.Method, _ path: String, _ summary: String, in table: RouteTable, access: Access, idempotent: Bool = false,
        body: (any Decodable.Type)? = nil, answer: (any Decodable.Type)? = nil,
        use handler: @escaping @Sendable (Request, Context) async throws -> Response
    ) -> Self {
        precondition(access != .open, "an open route is registered with openRoute")
        let route = RouteTable.Route(
            method: method, path: path, summary: summary, access: access, requiresIdempotencyKey: idempotent,
            body: body.map(RouteTable.Documented.init), answer: answer.map(RouteTable.Documented.init))
        return register(route, in: table) {
            request, context in
            try access.check(context.principal)
            return try await handler(request, context)
        }
    }
}

extension Response {
    /// A JSON response in the API's encoding (snake_case, RFC 3339 times).
    public static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) throws -> Response {
        let data = try JSONEncoder.api.encode(value)
        return .jsonData(data, status: status, headers: headers)
    }

    /// A response whose JSON body is already encoded, for replays that must be byte for byte.
    public static func jsonData(_ data: Data, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
