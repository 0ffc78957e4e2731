import Foundation
import NzilaCore
import Testing

@Suite("Request input")
struct InputTests {
    struct Body: StrictBody {
        static let fields: Set<String> = ["full_name", "age"]
        let fullName: String
        let age: Int?
    }

    @Test func acceptsKnownFields() throws {
        let body = try decodeStrictJSON(Body.self, from: Data(#"{"full_name":"Ada","age":3}"#.utf8))
        #expect(body.fullName == "Ada" && body.age == 3)
    }

    @Test(arguments: [
        (#"{"full_name":"Ada","nickname":"A"}"#, "nickname", "unknown field"),
        (#"{"age":3}"#, "full_name", "is required"),
        (#"{"full_name":7}"#, "full_name", "must be a string"),
        (#"{"full_name":"Ada","age":"3"}"#, "age", "must be an integer"),
        (#"{"full_name":"Ada","age":1.5}"#, "age", ""),
    ])
    func refusesBadFields(json: String, field: String, message: String) {
        do {
            _ = try decodeStrictJSON(Body.self, from: Data(json.utf8))
            Issue.record("accepted \(json)")
        } catch let problem as Problem {
            #expect(problem.status == .unprocessableContent)
            #expect(problem.errors.first?.field == field)
            if !message.isEmpty { #expect(problem.errors.first?.message == message) }
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func malformedIsBadRequest() {
        #expect(throws: Problem.badRequest("malformed-json", "The body is not valid JSON.")) {
            try decodeStrictJSON(Body.self, from: Data("{".utf8))
        }
    }

    @Test func pageRequests() throws {
        #expect(try PageRequest(query: [:]).limit == 50)
        #expect(try PageRequest(query: ["limit": "200"]).limit == 200)
        for bad in ["0", "201", "-1", "x", ""] {
            #expect(throws: Problem.self) { try PageRequest(query: ["limit": bad]) }
        }
        let cursor = PageCursor(position: 1_795_598_552_631_877, id: UUID())
        #expect(try PageRequest(query: ["cursor": cursor.encoded]).after == cursor)
        #expect(throws: Problem.self) { try PageRequest(query: ["cursor": "not-a-cursor"]) }
    }

    @Test(arguments: [("A@Example.COM ", "a@example.com"), ("x@y.io", "x@y.io")])
    func emails(raw: String, expected: String) throws {
        #expect(try Validate.email(raw).get() == expected)
    }

    @Test(arguments: ["no-at", "two@@x.io", "@x.io", "a@nodot", "a b@x.io"])
    func badEmails(raw: String) {
        #expect(throws: FieldError.self) { try Validate.email(raw).get() }
    }
}

@Suite("CSV")
struct CSVTests {
    @Test("fields split by commas; quotes may hold commas, quotes and line breaks; CRLF and blank lines")
    func records() {
        let text = "slug,name,template\r\numoja,\"Caisse Umoja, Ottawa\",default\n\nkanata,\"The \"\"Kanata\"\" CU\",\nmulti,\"two\nlines\"\n"
        #expect(CSV.records(text) == [
            ["slug", "name", "template"], ["umoja", "Caisse Umoja, Ottawa", "default"], ["kanata", "The \"Kanata\" CU", ""], ["multi", "two\nlines"],
        ])
    }
}
