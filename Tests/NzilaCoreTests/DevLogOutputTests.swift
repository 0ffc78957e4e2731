import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
@testable import NzilaCore
import Testing

@Suite("nzila dev logs: JSON lines to a file, a readable terminal")
struct DevLogOutputTests {
    /// The metadata RequestObservationMiddleware.observe gives a request record.
    static let request: Logger.Metadata = [
        "request_id": "7f3c", "plane": "data", "method": "POST", "route": "/v1/remittances", "status": .stringConvertible(201),
        "duration_ms": "12.34", "db_round_trips": .stringConvertible(3), "tenant": "demo", "principal": "m-1", "role": "member",
    ]

    static func line(_ level: Logger.Level, _ message: String, _ metadata: Logger.Metadata, label: String = "nzila.dev", requests: Bool) -> String? {
        TerminalLogHandler.line(time: "14:02:11", label: label, level: level, message: message, metadata: metadata, requestLines: requests)
    }

    @Test("a request record is one short line when request lines are on, and stays in the file when they are off")
    func requestLine() {
        #expect(Self.line(.info, "request", Self.request, requests: true) == "14:02:11  POST /v1/remittances  201  12 ms  demo")
        #expect(Self.line(.info, "request", Self.request, requests: false) == nil)
        var quick: Logger.Metadata = ["method": "GET", "route": "/health", "status": .stringConvertible(200), "duration_ms": "0.05"]
        #expect(Self.line(.info, "request", quick, requests: true) == "14:02:11  GET /health  200  <1 ms")
        quick["idempotent_replay"] = "true"
        #expect(Self.line(.info, "request", quick, requests: true) == "14:02:11  GET /health  200  <1 ms  (replayed)")
    }

    @Test("warnings and errors are one readable line: level, message, sorted key=value, quoted when not one word")
    func warningLine() {
        let warning = Self.line(.warning, "tenant cache refresh failed", ["tenant": "demo", "error": "connection reset by peer"], requests: false)
        #expect(warning == "14:02:11  WARNING  tenant cache refresh failed  error=\"connection reset by peer\"  tenant=demo")
        let error = Self.line(.error, "pool closed\nretrying", [:], label: "PostgresNIO", requests: true)
        #expect(error == "14:02:11  ERROR  pool closed retrying  [PostgresNIO]")
    }

    @Test("info records that are not requests stay in the file", arguments: [false, true])
    func infoStaysInFile(requests: Bool) {
        #expect(Self.line(.info, "server started", ["port": "8081"], requests: requests) == nil)
        #expect(Self.line(.info, "request", ["route": "/v1/accounts"], requests: requests) == nil, "a record named request without a request's fields")
        #expect(Self.line(.debug, "request", Self.request, requests: false) == nil)
    }

    @Test("a long warning keeps to one line: long values cut, extra fields counted")
    func longWarning() throws {
        var metadata: Logger.Metadata = ["detail": .string(String(repeating: "x", count: 500))]
        for index in 0..<9 { metadata["k\(index)"] = .stringConvertible(index) }
        let line = try #require(Self.line(.critical, "too much", metadata, requests: false))
        #expect(!line.contains("\n"))
        #expect(line.contains("detail=" + String(repeating: "x", count: TerminalLogHandler.maxValueCharacters) + "…  "))
        #expect(line.hasSuffix("  (+2 more in the log file)"))
    }

    @Test("the log file is created 0600 in its folder, appended to, and holds what was flushed")
    func fileOutput() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("nzila-devlogs-\(UUID())")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = DevLogs.defaultFile(state: folder.path)
        #expect(path == folder.path + "/logs/nzila.jsonl")
        let output = try LogOutput.appending(toFile: path)
        output.append("{\"msg\":\"one\"}")
        output.append("{\"msg\":\"two\"}")
        output.flush()
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "{\"msg\":\"one\"}\n{\"msg\":\"two\"}\n")
        var info = stat()
        let statResult = stat(path, &info)
        try #require(statResult == 0)
        let mode = info.st_mode & 0o777
        #expect(mode == 0o600)
        let second = try LogOutput.appending(toFile: path)  // a second run adds to the file
        second.append("{\"msg\":\"three\"}")
        second.flush()
        #expect(try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").count == 3)
    }

    @Test("under nzila dev every record goes to the file as JSON and only the chosen ones to the terminal")
    func multiplexed() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("nzila-devlogs-\(UUID())")
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = DevLogs.defaultFile(state: folder.path)
        let terminalPath = folder.appendingPathComponent("terminal.txt").path
        let terminal = try LogOutput.appending(toFile: terminalPath)
        let factory = try DevLogs(file: file, requestLines: true).makeHandlerFactory(terminal: terminal)
        let logger = Logger(label: "nzila.dev", factory: factory)
        logger.info("server started")
        logger.info("request", metadata: Self.request)
        logger.warning("slow statement", metadata: ["tenant": "demo"])
        // The file's output is flushed at exit; read what its batches have written by flushing every output registered.
        for output in LogOutput.flushedAtExit.withLock({ $0 }) { output.flush() }
        let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 3)
        var messages: [String] = []
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            messages.append(object?["msg"] as? String ?? "not a JSON object: \(line)")
        }
        #expect(messages == ["server started", "request", "slow statement"])
        let shown = try String(contentsOfFile: terminalPath, encoding: .utf8).split(separator: "\n").map { String($0.dropFirst(8)) }
        #expect(shown == ["  POST /v1/remittances  201  12 ms  demo", "  WARNING  slow statement  tenant=demo"])
    }
}
