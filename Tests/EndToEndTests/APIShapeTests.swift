import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Synchronization
import NzilaCore
import Testing

/// The OpenAPI documents describe every body from the types the handlers use, and the suite holds
/// each route to them (the harness turns `RouteTable.verifiesShapes` on, so every successful exchange
/// of every test is checked).
@Suite("API shapes")
struct APIShapeTests {
    /// Routes that answer no JSON body: 204s, Prometheus text, the document itself.
    static let noJSONAnswer: Set<String> = [
        "GET /metrics", "GET /openapi.json", "POST /v1/auth/logout", "DELETE /v1/tenants/{slug}/domains/{hostname}",
        // A WebSocket upgrade: its messages are in docs/EVENTS.md, not a JSON answer.
        "GET /v1/stream", "DELETE /v1/devices/{id}", "DELETE /v1/trading/watchlists/{id}", "DELETE /v1/trading/alerts/{id}",
        "DELETE /v1/trading/follows/{id}",
        // The file's own bytes (image/jpeg, image/png, image/webp or application/pdf).
        "POST /v1/members/{id}/kyc/files/{file}/reveal",
    ]

    @Test("every operation documents its request body (when it takes one) and its answer, and every reference resolves")
    func documented() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            for client in [planes.cp, planes.dp] {
                let before = RouteTable.shapeChecks.load(ordering: .relaxed)
                #expect(try await Planes.send(client, .get, "/health").status == .ok)
                #expect(RouteTable.shapeChecks.load(ordering: .relaxed) > before, "the suite does not check answers against their schemas")
                let document = try await Planes.send(client, .get, "/openapi.json")
                let paths = try #require(document.json["paths"] as? [String: [String: [String: Any]]])
                let schemas = try #require((document.json["components"] as? [String: Any])?["schemas"] as? [String: Any])
                for (path, operations) in paths {
                    for (method, operation) in operations {
                        let name = "\(method.uppercased()) \(path)"
                        let success = ((operation["responses"] as? [String: Any])?["2XX"] as? [String: Any])?["content"] as? [String: [String: Any]]
                        let answer = (success?["application/json"]?["schema"] as? [String: String])?["$ref"]
                        if Self.noJSONAnswer.contains(name) {
                            #expect(answer == nil, "\(name) documents a JSON answer it does not send")
                        } else {
                            #expect(answer != nil, "\(name) does not document its answer")
                        }
                        let request = ((operation["requestBody"] as? [String: Any])?["content"] as? [String: [String: Any]])?["application/json"]?["schema"] as? [String: String]
                        for reference in [answer, request?["$ref"]].compactMap({ $0 }) {
                            let key = String(reference.dropFirst("#/components/schemas/".count))
                            #expect(schemas[key] != nil, "\(name) refers to \(reference), which is not in the document")
                        }
                    }
                }
            }
        }
    }

    struct Sent: StrictBody {
        static let fields: Set<String> = ["amount"]
        let amount: Int64
    }
    struct Documented: Codable { let id: MemberID; let amount: Int64 }

    @Test("a route whose answer or accepted body differs from its documentation fails loudly")
    func driftIsCaught() async throws {
        RouteTable.verifiesShapes.store(true, ordering: .relaxed)
        let table = RouteTable()
        let router = Router()
        router.middlewares.add(ProblemMiddleware(routes: table))
        router.openRoute(.post, "/faithful", "Answers what it documents", in: table, body: Sent.self, answer: Documented.self) { request, _ in
            let sent = try await request.decodeStrict(Sent.self)
            return try Response.json(Documented(id: MemberID(UUID()), amount: sent.amount))
        }
        router.openRoute(.post, "/drifted", "Answers a field it does not document", in: table, body: Sent.self, answer: Documented.self) { _, _ in
            try Response.json(["id": UUID().lowercased, "amount_minor": "12"])
        }
        router.openRoute(.post, "/upper", "Writes an id upper case", in: table, answer: Documented.self) { _, _ in
            try Response.json(["id": UUID().uuidString, "amount": "12"])
        }
        router.openRoute(.post, "/wrong-body", "Documents a body it does not decode", in: table, body: Documented.self, answer: Documented.self) { _, _ in
            try Response.json(Documented(id: MemberID(UUID()), amount: 1))
        }
        let app = Application(router: router)
        try await app.test(.router) { client in
            let json: HTTPFields = [.contentType: "application/json"]
            let body = ByteBuffer(string: #"{"amount": 12}"#)
            try await client.execute(uri: "/faithful", method: .post, headers: json, body: body) { response in
                #expect(response.status == .ok, "\(String(buffer: response.body))")
            }
            for path in ["/drifted", "/upper", "/wrong-body"] {
                try await client.execute(uri: path, method: .post, headers: json, body: body) { response in
                    #expect(response.status == .internalServerError, "\(path) passed")
                    let text = String(buffer: response.body)
                    #expect(text.contains("api-shape-drift"), "\(path): \(text)")
                }
            }
        }
        let document = try JSONSerialization.jsonObject(with: table.openAPIDocument(title: "t", description: "d")) as? [String: Any]
        let schemas = (document?["components"] as? [String: Any])?["schemas"] as? [String: Any]
        let documented = try #require(schemas?.first { $0.key.hasSuffix("APIShapeTests.Documented") }?.value as? [String: Any])
        #expect(documented["required"] as? [String] == ["id", "amount"])
    }
}
