import Foundation
import Logging
import Synchronization
@testable import NzilaCore
import NzilaTestSupport
import Testing

@Suite("JSON log lines")
struct JSONLogHandlerTests {
    final class Lines: Sendable {
        let all = Mutex<[String]>([])
    }

    @Test("each line is one JSON object: plain values copied whole, quotes, backslashes and control characters escaped")
    func escaping() throws {
        let lines = Lines()
        var logger = Logger(label: "nzila.test") { JSONLogHandler(label: $0, write: { line in lines.all.withLock { $0.append(line) } }) }
        logger[metadataKey: "plane"] = "data"
        logger.info("request", metadata: ["route": "/v1/accounts/{id}", "odd": "a \"quoted\" \\ path\nwith\ttabs \u{1}", "n": .stringConvertible(3)])
        let line = try #require(lines.all.withLock { $0.first })
        #expect(!line.contains("\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["route"] as? String == "/v1/accounts/{id}" && object["plane"] as? String == "data" && object["n"] as? String == "3")
        #expect(object["odd"] as? String == "a \"quoted\" \\ path\nwith\ttabs \u{1}")
        #expect(object["msg"] as? String == "request" && object["level"] as? String == "info" && object["logger"] as? String == "nzila.test")
    }

    @Test("timestamps are RFC 3339 UTC with milliseconds")
    func timestamps() throws {
        #expect(JSONLogHandler.formatSecond(1_796_052_423) == "2026-11-30T15:27:03.")
        let now = JSONLogHandler.timestamp()
        #expect(now.count == 24 && now.hasSuffix("Z") && now.dropFirst(19).first == ".", "\(now)")
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let parsed = try #require(formatter.date(from: now))
        #expect(abs(parsed.timeIntervalSinceNow) < 5)
    }

    @Test("durations print as milliseconds with two decimals")
    func milliseconds() {
        #expect(formatMilliseconds(0.0123456) == "12.35")
        #expect(formatMilliseconds(0.001) == "1.00")
        #expect(formatMilliseconds(0.00005) == "0.05")
        #expect(formatMilliseconds(2.5) == "2500.00")
    }

    @Test("log output batches lines and writes them in order, on flush, on the timer and past its batch size")
    func batches() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("nzila-log-\(UUID()).txt").path
        let descriptor = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0o600)
        try #require(descriptor >= 0)
        defer {
            close(descriptor)
            unlink(path)
        }
        func written() -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }
        // No timer here, so nothing but the output's own rules writes (a busy machine cannot race the checks).
        let output = LogOutput(descriptor: descriptor, flushMicroseconds: nil)
        for index in 0..<3 { output.append("line \(index)") }
        #expect(written().isEmpty, "batched, not written line by line")
        output.flush()
        #expect(written() == "line 0\nline 1\nline 2\n")
        // The 50 ms timer writes a line without a flush: polled until it has (bounded as a safety net).
        let timed = LogOutput(descriptor: descriptor)
        timed.append("later")
        #expect(try await eventually { written() == "line 0\nline 1\nline 2\nlater\n" }, "\(written())")
        output.append(String(repeating: "x", count: 70_000))  // past the batch size: written at once
        #expect(written().count == 27 + 70_001)
    }
}
