import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import Synchronization

/// Where `nzila dev` sends its logs. The servers write JSON lines to standard output (a collector reads
/// them); under `nzila dev` a person reads the terminal, so the JSON lines go to a file in the state
/// folder and the terminal keeps the banner, warnings and errors, and, when asked, a short line per request.
public struct DevLogs: Sendable, Equatable {
    /// The JSON lines file, appended to across runs.
    public let file: String
    /// Whether the terminal also gets one short line per request (`nzila dev --log-requests`).
    public let requestLines: Bool

    public init(file: String, requestLines: Bool) {
        self.file = file
        self.requestLines = requestLines
    }

    /// `<state>/logs/nzila.jsonl`: in the state folder, so everything a dev run leaves is in one place.
    public static func defaultFile(state: String) -> String {
        URL(fileURLWithPath: state).appendingPathComponent("logs").appendingPathComponent("nzila.jsonl").path
    }

    /// The factory for `LoggingSystem.bootstrap`: every record as JSON to the file, the ones people read
    /// to `terminal`. The file is opened here, so a state folder that cannot be written stops the command
    /// before anything starts rather than losing its logs.
    public func makeHandlerFactory(terminal: LogOutput = .standardOutput) throws -> @Sendable (String) -> any LogHandler {
        let output = try LogOutput.appending(toFile: file)
        let requestLines = self.requestLines
        return { label in
            MultiplexLogHandler([
                JSONLogHandler(label: label, write: { output.append($0) }),
                TerminalLogHandler(label: label, requestLines: requestLines, write: { terminal.append($0) }),
            ])
        }
    }
}

/// Why the dev log file could not be opened, with the path, for the operator.
public struct LogFileUnavailable: Error, CustomStringConvertible {
    public let description: String
}

extension LogOutput {
    /// Lines appended to the file at `path`, in the same batches as standard output and flushed at exit.
    /// The file is created mode 0600 (its folder 0700): log lines name tenants and callers. O_APPEND, so a
    /// second run adds to it; O_CLOEXEC, so the PostgreSQL and PgBouncer that dev spawns do not hold it open.
    public static func appending(toFile path: String) throws -> LogOutput {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw LogFileUnavailable(description: "could not create the log folder \(folder): \(error)")
        }
        let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw LogFileUnavailable(description: "could not open the log file \(path): \(String(cString: strerror(errno)))")
        }
        _ = fchmod(descriptor, 0o600)  // a file left by an older run keeps its mode otherwise
        let output = LogOutput(descriptor: descriptor)
        flushAtExit(output)
        return output
    }

    /// Outputs other than standard output that are flushed when the process exits (atexit takes no context).
    static let flushedAtExit = Mutex<[LogOutput]>([])

    static func flushAtExit(_ output: LogOutput) {
        let first = flushedAtExit.withLock { outputs -> Bool in
            outputs.append(output)
            return outputs.count == 1
        }
        guard first else { return }
        atexit {
            for output in LogOutput.flushedAtExit.withLock({ $0 }) { output.flush() }
        }
    }
}

/// Log records for a person at a terminal: warnings and above as one readable line each, and, when
/// `requestLines` is on, one short line per request (`14:02:11  POST /v1/remittances  201  12 ms  demo`).
/// Everything else stays in the JSON file.
public struct TerminalLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    let label: String
    let requestLines: Bool
    let write: @Sendable (String) -> Void

    public init(label: String, requestLines: Bool, write: @escaping @Sendable (String) -> Void) {
        self.label = label
        self.requestLines = requestLines
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        // Most records are info lines that are not shown: decide before formatting the time.
        let isRequest = requestLines && event.message.description == RequestLine.message
        guard isRequest || event.level >= .warning else { return }
        var fields = event.metadata ?? metadata
        if let extra = event.metadata, !metadata.isEmpty { fields = metadata.merging(extra) { _, new in new } }
        if let error = event.error, fields["error"] == nil { fields["error"] = .string(String(describing: error)) }
        let text = Self.line(
            time: Self.timeOfDay(), label: label, level: event.level, message: event.message.description, metadata: fields, requestLines: requestLines)
        if let text { write(text) }
    }

    /// The terminal line for a record, or nil when it belongs only in the file. Pure, so tests need no I/O.
    public static func line(
        time: String, label: String, level: Logger.Level, message: String, metadata: Logger.Metadata, requestLines: Bool
    ) -> String? {
        if requestLines, let request = RequestLine.text(message: message, metadata: metadata) { return time + "  " + request }
        guard level >= .warning else { return nil }
        let oneLine = message.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: " ")
        var out = time + "  " + level.rawValue.uppercased()
        out += "  " + oneLine
        // Our own loggers are all "nzila…"; a library's label says where the record came from.
        if !label.hasPrefix("nzila") { out += "  [" + label + "]" }
        let keys = metadata.keys.sorted()
        for key in keys.prefix(maxFields) { out += "  " + key + "=" + shown(metadata[key]!) }
        if keys.count > maxFields { out += "  (+\(keys.count - maxFields) more in the log file)" }
        return out
    }

    /// Fields shown on a warning line: enough to act on, short enough to stay one line.
    static let maxFields = 8
    static let maxValueCharacters = 160

    /// A metadata value as `key=` takes it: bare when it is one word, else quoted and escaped as in JSON.
    static func shown(_ value: Logger.Metadata.Value) -> String {
        var text = value.description
        if text.count > maxValueCharacters { text = String(text.prefix(maxValueCharacters)) + "…" }
        let bare = !text.isEmpty && !text.unicodeScalars.contains { $0.value <= 0x20 || $0 == "\"" || $0 == "=" || $0 == "\\" }
        if bare { return text }
        var quoted = ""
        JSONText.append(text, to: &quoted)
        return quoted
    }

    /// "14:02:11", local time: the terminal is read by the person sitting at it (the file has UTC).
    static func timeOfDay() -> String {
        var now = time(nil)
        var parts = tm()
        localtime_r(&now, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return two(parts.tm_hour) + ":" + two(parts.tm_min) + ":" + two(parts.tm_sec)
    }
}

/// The request record RequestObservationMiddleware writes (message "request", with method, route,
/// status and duration_ms in its metadata), shortened for a terminal.
enum RequestLine {
    static let message = "request"

    /// "POST /v1/remittances  201  12 ms  demo", or nil when the record is not a request record.
    static func text(message: String, metadata: Logger.Metadata) -> String? {
        guard message == Self.message, let method = metadata["method"], let route = metadata["route"], let status = metadata["status"] else {
            return nil
        }
        var out = method.description + " " + route.description + "  " + status.description
        if let duration = metadata["duration_ms"] { out += "  " + milliseconds(duration.description) }
        if let tenant = metadata["tenant"] { out += "  " + tenant.description }
        if metadata["idempotent_replay"] != nil { out += "  (replayed)" }
        return out
    }

    /// "12.34" (the middleware's milliseconds) as "12 ms"; under one millisecond, "<1 ms".
    static func milliseconds(_ text: String) -> String {
        let whole = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? text
        return whole == "0" ? "<1 ms" : whole + " ms"
    }
}
