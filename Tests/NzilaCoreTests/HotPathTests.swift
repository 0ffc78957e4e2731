import Foundation
import HTTPTypes
import Hummingbird
@testable import NzilaCore
import Testing

@Suite("Request-path helpers written by hand")
struct HotPathTests {
    @Test("UUID.lowercased is Foundation's uuidString, lower-cased")
    func uuids() {
        for _ in 0..<1_000 {
            let id = UUID()
            #expect(id.lowercased == id.uuidString.lowercased())
        }
    }

    @Test("a problem body is byte for byte what JSONEncoder.api writes, escaping included")
    func problemBodies() throws {
        let problems = [
            Problem.rateLimited("credit union's", limit: RateLimit(perSecond: 200, burst: 400), retryAfter: 1.5),
            Problem.validation([FieldError(field: "amount", message: "must be \"positive\""), FieldError(field: "currency", message: "ISO 4217\nonly")]),
            Problem(.notFound, "not-found", "Not found", detail: "Caf\u{e9} \\ tab\there / slash \u{1}"),
        ]
        for problem in problems {
            let body = Problem.Body(
                type: problem.type, title: problem.title, status: Int(problem.status.code), detail: problem.detail, instance: "/v1/x/{id}",
                request_id: "r-1", errors: problem.errors.isEmpty ? nil : problem.errors)
            let encoded = try JSONEncoder.api.encode(body)
            let written = problem.json(instance: "/v1/x/{id}", requestID: "r-1")
            let expected = try JSONSerialization.jsonObject(with: encoded) as? NSDictionary
            let got = try JSONSerialization.jsonObject(with: Data(written.utf8)) as? NSDictionary
            #expect(got == expected, "\(written)")
            if !problem.detail.contains("\u{1}") { #expect(written == String(decoding: encoded, as: UTF8.self)) }
        }
    }

    @Test("the bearer token: any case of the scheme, surrounding blanks trimmed, anything else refused")
    func bearer() {
        func token(_ header: String?) -> String? {
            var fields = HTTPFields()
            if let header { fields[.authorization] = header }
            return Request(head: HTTPRequest(method: .get, scheme: "http", authority: "x", path: "/", headerFields: fields), body: .init(buffer: .init())).bearerToken
        }
        #expect(token("Bearer abc.def") == "abc.def")
        #expect(token("bearer   abc.def \t") == "abc.def")
        #expect(token("BEARER abc") == "abc")
        #expect(token("Basic abc") == nil && token("Bearer") == nil && token("Bearerabc") == nil && token(nil) == nil)
    }
}
