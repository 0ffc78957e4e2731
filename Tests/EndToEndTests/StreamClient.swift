import Foundation
import HTTPTypes
import HummingbirdWSClient
import Logging
import NzilaCore
import NIOWebSocket
import NzilaTestSupport
import Synchronization
import Testing

/// A member app's WebSocket on `GET /v1/stream`, for the tests: it keeps every text message the
/// server sends, sends what the test asks, and remembers how the server closed it. Every wait is a
/// bounded poll on what arrived (`eventually`), never a pause.
final class StreamClient: Sendable {
    final class State: Sendable {
        let texts = Mutex<[String]>([])
        /// Set once the connection is over: the server's close code and reason (nil code: no close frame).
        let ended = Mutex<(code: Int?, reason: String)?>(nil)
        /// The upgrade failed (the error's description).
        let refused = Mutex<String?>(nil)
    }

    let state = State()
    let outgoing: AsyncStream<String>.Continuation
    let task: Task<Void, Never>
    let label: String

    /// Opens a stream on the data plane at `port` for `tenant`, with `token` on the upgrade if given.
    init(port: Int, tenant: String, token: String? = nil, label: String = "stream", logger: Logger) {
        let (stream, continuation) = AsyncStream.makeStream(of: String.self)
        outgoing = continuation
        self.label = label
        let state = state
        var headers: HTTPFields = [.xTenant: tenant]
        if let token { headers[.authorization] = "Bearer \(token)" }
        let configuration = WebSocketClientConfiguration(additionalHeaders: headers)
        task = Task {
            do {
                let frame = try await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/v1/stream", configuration: configuration, logger: logger) { inbound, outbound, _ in
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            for await text in stream { try await outbound.write(.text(text)) }
                            try await outbound.close(.normalClosure, reason: "client done")
                        }
                        for try await message in inbound.messages(maxSize: 1 << 20) {
                            if case .text(let text) = message { state.texts.withLock { $0.append(text) } }
                        }
                        group.cancelAll()
                    }
                }
                state.ended.withLock { $0 = (frame.map { Int(UInt16(webSocketErrorCode: $0.closeCode)) }, frame?.reason ?? "") }
            } catch {
                state.refused.withLock { $0 = String(describing: error) }
                state.ended.withLock { $0 = (nil, "refused: \(error)") }
            }
        }
    }

    /// Every message received so far, parsed.
    var messages: [[String: Any]] {
        state.texts.withLock { $0 }.compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
    }

    /// The event messages (those with a seq), in arrival order.
    var events: [[String: Any]] { messages.filter { $0["seq"] != nil } }

    var transcript: String { "\(label): " + state.texts.withLock { $0 }.joined(separator: "\n  ") + " ended: \(String(describing: state.ended.withLock { $0 }))" }

    func send(_ object: [String: Any]) throws {
        outgoing.yield(String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self))
    }

    func sendRaw(_ text: String) { outgoing.yield(text) }

    /// Waits until the messages satisfy `condition` (a safety-net bound), else fails the test with
    /// the transcript. Returns the messages.
    @discardableResult
    func wait(
        for what: String, within seconds: Double = 60, sourceLocation: SourceLocation = #_sourceLocation, _ condition: @escaping ([[String: Any]]) -> Bool
    ) async throws -> [[String: Any]] {
        // A stream the server ended will not get there: stop waiting then.
        _ = try await eventually(within: seconds) { condition(self.messages) || self.state.ended.withLock { $0 } != nil }
        let messages = self.messages
        try #require(condition(messages), "\(what) never arrived\n\(transcript)", sourceLocation: sourceLocation)
        return messages
    }

    /// Waits for a control message of this type; returns it.
    @discardableResult
    func wait(type: String, within seconds: Double = 60, sourceLocation: SourceLocation = #_sourceLocation) async throws -> [String: Any] {
        let all = try await wait(for: type, within: seconds, sourceLocation: sourceLocation) { $0.contains { $0["type"] as? String == type } }
        return all.last { $0["type"] as? String == type }!
    }

    /// Waits until at least `count` events arrived; returns them.
    @discardableResult
    func waitEvents(_ count: Int, sourceLocation: SourceLocation = #_sourceLocation) async throws -> [[String: Any]] {
        try await wait(for: "\(count) events", sourceLocation: sourceLocation) { $0.filter { $0["seq"] != nil }.count >= count }.filter { $0["seq"] != nil }
    }

    /// Waits for the server to end the connection; its close code and reason.
    func waitClosed(within seconds: Double = 60, sourceLocation: SourceLocation = #_sourceLocation) async throws -> (code: Int?, reason: String) {
        let ended = try await eventually(within: seconds) { self.state.ended.withLock { $0 } }
        return try #require(ended, "the server never closed the stream\n\(transcript)", sourceLocation: sourceLocation)
    }

    /// Ready (authenticated on the upgrade) and subscribed to `topics`.
    func subscribe(_ topics: [String]) async throws {
        try send(["action": "subscribe", "topics": topics])
        try await wait(for: "stream.subscribed \(topics)") { messages in
            messages.contains { ($0["type"] as? String) == "stream.subscribed" && Set(($0["topics"] as? [String]) ?? []).isSuperset(of: topics) }
        }
    }

    /// Closes from the client side and waits for the connection to end.
    func close() async {
        outgoing.finish()
        await task.value
    }
}
