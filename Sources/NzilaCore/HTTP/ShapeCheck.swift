import Foundation
import HTTPTypes
import Hummingbird
import Synchronization

/// Checks one successful exchange against its route's documented schemas (while
/// `RouteTable.verifiesShapes` is on): the JSON body the route accepted and the JSON it answered.
struct ShapeCheck {
    let route: RouteTable.Route

    func run<Context>(
        _ request: Request, _ context: Context, _ handler: @Sendable (Request, Context) async throws -> Response
    ) async throws -> Response {
        var request = request
        var sent: Data?
        if route.body != nil, request.headers[.contentType]?.hasPrefix("application/json") == true {
            sent = Data(try await request.collectBody(upTo: maxBodyBytes).readableBytesView)
        }
        var response = try await handler(request, context)
        guard (200..<300).contains(response.status.code) else { return response }
        var drift: [String] = []
        if let body = route.body, let sent, !sent.isEmpty {
            drift += Self.check(sent, against: body, what: "request")
        }
        if let answer = route.answer, response.headers[.contentType] == "application/json" {
            let collector = Collector()
            try await response.body.write(collector.writer)
            let bytes = collector.bytes
            drift += Self.check(Data(bytes.readableBytesView), against: answer, what: "answer")
            response.body = .init(byteBuffer: bytes)
        }
        RouteTable.shapeChecks.add(1, ordering: .relaxed)
        guard drift.isEmpty else {
            throw Problem(
                .internalServerError, "api-shape-drift", "The route and its documentation differ",
                detail: "\(route.method.rawValue) \(route.path): " + drift.joined(separator: "; "))
        }
        return response
    }

    static func check(_ data: Data, against documented: RouteTable.Documented, what: String) -> [String] {
        guard let value = try? JSONValue.parse(data) else { return ["the \(what) is not JSON"] }
        return JSONSchema.violations(of: value, against: documented.schema, at: what).map { "\($0) (\(documented.name))" }
    }

    final class Collector: @unchecked Sendable {
        var bytes = ByteBuffer()
        var writer: some ResponseBodyWriter { Writer(collector: self) }

        struct Writer: ResponseBodyWriter {
            let collector: Collector
            mutating func write(_ buffer: ByteBuffer) async throws {
                var buffer = buffer
                collector.bytes.writeBuffer(&buffer)
            }
            consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
        }
    }
}
