import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import Synchronization

/// swift-log events as one JSON object per line on standard output (`NZILA_LOG_FORMAT=json`, the
/// servers' default): time (RFC 3339 UTC, milliseconds), level, logger label, message, and the
/// metadata as fields. Callers put ids in metadata, never secrets (see RequestObservationMiddleware).
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    let label: String
    let write: @Sendable (String) -> Void

    public init(label: String, write: @escaping @Sendable (String) -> Void = JSONLogHandler.standardOutput) {
        self.label = label
        self.write = write
    }

    /// Lines to standard output through `LogOutput`'s batches.
    public static let standardOutput: @Sendable (String) -> Void = { LogOutput.standardOutput.append($0) }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(
        level: Logger.Level, message: Logger.Message, metadata extra: Logger.Metadata?, source: String, file: String, function: String, line: UInt
    ) {
        // Built by hand: JSONSerialization and date format styles cost more than the request they describe.
        var fields = extra ?? metadata
        if let extra, !metadata.isEmpty { fields = metadata.merging(extra) { _, new in new } }
        var out = ""
        out.reserveCapacity(512)
        out += "{\"ts\":\""
        out += Self.timestamp()
        out += "\",\"level\":\""
        out += level.rawValue
        out += "\",\"logger\":"
        Self.append(label, to: &out)
        out += ",\"msg\":"
        Self.append(message.description, to: &out)
        for key in fields.keys.sorted() {
            out += ","
            Self.append(key, to: &out)
            out += ":"
            Self.append(fields[key]!, to: &out)
        }
        out += "}"
        write(out)
    }

    static func append(_ value: Logger.Metadata.Value, to out: inout String) {
        switch value {
        case .string(let text): append(text, to: &out)
        case .stringConvertible(let value): append(value.description, to: &out)
        case .array(let values):
            out += "["
            for (index, item) in values.enumerated() {
                if index > 0 { out += "," }
                append(item, to: &out)
            }
            out += "]"
        case .dictionary(let values):
            out += "{"
            for (index, key) in values.keys.sorted().enumerated() {
                if index > 0 { out += "," }
                append(key, to: &out)
                out += ":"
                append(values[key]!, to: &out)
            }
            out += "}"
        }
    }

    static func append(_ text: String, to out: inout String) { JSONText.append(text, to: &out) }

    /// RFC 3339 UTC with milliseconds, from the system clock. The part up to the second is formatted
    /// once per second and reused (a busy server logs thousands of lines within each).
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let milliseconds = Int(now.tv_nsec) / 1_000_000
        let fraction = milliseconds < 10 ? "00\(milliseconds)" : milliseconds < 100 ? "0\(milliseconds)" : "\(milliseconds)"
        let prefix = secondPrefix.withLock { cached -> String in
            if cached.second == now.tv_sec { return cached.prefix }
            cached = (now.tv_sec, formatSecond(now.tv_sec))
            return cached.prefix
        }
        return prefix + fraction + "Z"
    }

    static let secondPrefix = Mutex<(second: Int, prefix: String)>((-1, ""))

    /// "2026-11-29T15:27:03." for a time in seconds since 1970 (UTC).
    static func formatSecond(_ time: Int) -> String {
        var seconds = time
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int, _ width: Int) -> String {
            let digits = String(value)
            return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
        }
        return pad(Int(parts.tm_year) + 1900, 4) + "-" + pad(Int(parts.tm_mon) + 1, 2) + "-" + pad(Int(parts.tm_mday), 2) + "T" + pad(Int(parts.tm_hour), 2)
            + ":" + pad(Int(parts.tm_min), 2) + ":" + pad(Int(parts.tm_sec), 2) + "."
    }

}

/// A file descriptor (standard output; under `nzila dev`, the log file: `LogOutput.appending(toFile:)`)
/// written in batches: lines gather in memory and one write(2) sends them every 50 ms,
/// or at once past 64 KiB, instead of a system call per request line. Lines keep their order (they
/// are written under the same lock they are added under). At most the last 50 ms of lines are lost if
/// the process is killed outright; they are flushed when it exits.
public final class LogOutput: Sendable {
    public static let standardOutput: LogOutput = {
        let output = LogOutput(descriptor: 1)
        atexit { LogOutput.standardOutput.flush() }
        return output
    }()

    let descriptor: Int32
    let pending = Mutex<[UInt8]>([])
    static let batchBytes = 64 * 1024

    /// `flushMicroseconds`: how often a background thread writes what is waiting (50 ms); nil for no
    /// thread, so that only `flush()` and a full batch write (a test of the batching itself).
    init(descriptor: Int32, flushMicroseconds: UInt32? = 50_000) {
        self.descriptor = descriptor
        pending.withLock { $0.reserveCapacity(Self.batchBytes * 2) }
        guard let flushMicroseconds else { return }
        Thread.detachNewThread { [self] in
            while true {
                usleep(flushMicroseconds)
                flush()
            }
        }
    }

    public func append(_ line: String) {
        pending.withLock { buffer in
            buffer.append(contentsOf: line.utf8)
            buffer.append(UInt8(ascii: "\n"))
            if buffer.count >= Self.batchBytes { write(&buffer) }
        }
    }

    /// Writes whatever is waiting.
    public func flush() {
        pending.withLock { buffer in if !buffer.isEmpty { write(&buffer) } }
    }

    /// Writes the buffer out and empties it (called under the lock, so batches never interleave).
    func write(_ buffer: inout [UInt8]) {
        buffer.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if written > 0 {
                    offset += written
                } else if written < 0 && errno == EINTR {
                    continue
                } else {
                    return  // the output is gone: log lines are not worth failing requests over
                }
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }
}

/// JSON string literals written by hand, for the log lines and problem bodies on every request's path.
public enum JSONText {
    /// `text` as a JSON string literal (RFC 8259 escaping; `/` is left as is).
    public static func append(_ text: String, to out: inout String) {
        // Ids, routes and levels need no escaping: copy them whole.
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            out += "\""
            out += text
            out += "\""
            return
        }
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}
